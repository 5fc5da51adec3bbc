// init.h — the official RWKV-7 (x070) initialisation of RWKV-LM RWKV-v7/train_temp
// (RWKV_Tmix_x070/RWKV_CMix_x070 __init__ + RWKV.generate_init_weight), as train.py
// --train_stage 1 writes rwkv-init.pth. Deterministic tensors are computed with torch's fp32
// arithmetic so that they match bit for bit; random ones (orthogonal, uniform) come from a
// seeded generator of our own (torch's RNG stream is not reproduced).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "core/tensor.h"
#include "model/config.h"

namespace rwkv {

// How generate_init_weight treats one parameter (printed as train.py prints it).
struct InitRule {
  enum Kind { Module, Zero, Uniform, Orthogonal } kind = Module;
  double scale = 1.0;  // Uniform: [-|scale|, |scale|]; Orthogonal: the gain
};
InitRule x070_init_rule(const std::string& name, const ModelConfig& cfg);

// Fills a rows x cols matrix (row-major) with a random orthogonal matrix times `gain`, as
// torch.nn.init.orthogonal_ does: QR (in double) of a Gaussian matrix of shape
// (max, min), signs fixed by diag(R); rows orthonormal when rows < cols, else columns.
void orthogonal_fill(double* out, int64_t rows, int64_t cols, double gain, uint64_t seed);

// Seed of one tensor's random init: the run seed and a per-version salt mixed with an FNV-1a
// hash of the name, so a tensor gets the same values whatever else the model holds.
uint64_t init_tensor_seed(uint64_t seed, const std::string& name, uint64_t salt = 0);

// The whole state dict in official order and shapes, stored as `dtype` (bf16 like train.py).
// `on_param(name, shape, rule)` is called before each tensor is made (for progress/printing).
StateDict x070_init(const ModelConfig& cfg, uint64_t seed, DType dtype,
                    const std::function<void(const std::string&, const Shape&, const InitRule&)>& on_param = {});

// RWKV-5.2 (x052) / RWKV-6 (x060) as RWKV-LM RWKV-v5 train.py --my_pile_stage 1 initialises
// them (model/init56.cpp; cfg from rwkv56_config): same conventions as x070_init.
InitRule rwkv56_init_rule(const std::string& name, const Shape& shape, const ModelConfig& cfg);
StateDict rwkv56_init(const ModelConfig& cfg, uint64_t seed, DType dtype,
                      const std::function<void(const std::string&, const Shape&, const InitRule&)>& on_param = {});

}  // namespace rwkv
