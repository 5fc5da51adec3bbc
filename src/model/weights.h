// weights.h — a loaded model's tensors as the layers read them: vectors as fp32 (fp32 tensors
// used in place, others converted once and kept here), matrices in their stored dtype (fp32 /
// bf16 / fp16, zero-copy from the file's mmap) or int8 (ops/mm8.h: a uint8 tensor `<name>` with
// fp32 `<name>_mx`, `_rx` (rows) and `_my`, `_ry` (cols), as Engine's load-time quantization or a
// converted file gives them) or q4 (ops/q4.h: a uint8 tensor `<name>` (rows, cols/2) of nibbles with
// fp16 `<name>_q4d`, `<name>_q4m` (rows, cols/32), packed at load into the products' row layout).
// Every lookup checks name and shape and throws "[model] <source>: ..." naming the key.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ops/mm8.h"
#include "ops/q4.h"

namespace rwkv {

// A weight matrix (rows, cols) as stored: torch.nn.Linear layout (out, in) for projections.
// int8: dt U8, p = i8->q (in 4-row groups where i8->grouped); q4: dt U8, p = q4->p (packed rows).
struct WeightMat {
  const void* p = nullptr;
  DType dt = DType::F32;
  int64_t rows = 0, cols = 0;
  const Mm8Weight* i8 = nullptr;
  const Q4Weight* q4 = nullptr;
};

// out (M, W.rows) (+)= inp (M, W.cols) @ W^T in W's format (ops/gemv.h linear_forward_any, or
// ops/mm8.h mm8_forward for int8, ops/q4.h q4_forward for q4).
void linear_forward_mat(float* out, const float* inp, const WeightMat& W, int64_t M, bool accumulate = false);

// The int8 companions of a quantized matrix `<name>` (ops/mm8.h).
inline constexpr const char* kMm8Suffixes[4] = {"_mx", "_rx", "_my", "_ry"};
// The q4 companions of a 4-bit matrix `<name>` (ops/q4.h): scales d and offsets m.
inline constexpr const char* kQ4Suffixes[2] = {"_q4d", "_q4m"};
// Whether `name` is a q4 matrix of `sd` (a uint8 tensor with its `_q4d` companion).
bool is_q4_matrix(const StateDict& sd, const std::string& name);
// `sd` as config detection reads it (tensors shared, not copied): without the int8 and q4
// companions, each q4 matrix as a uint8 tensor of its logical shape (rows, cols) over the stored
// nibbles. Only shapes and names may be read from those.
StateDict without_mm8_companions(const StateDict& sd);

class WeightStore {
 public:
  // Takes the int8 and q4 companions of quantized matrices out of the dict (tensors() lists each
  // quantized matrix once, as its uint8 q: (rows, cols) for int8; for q4 a uint8 tensor of the
  // logical shape (rows, cols) over its packed rows (ops/q4.h), so that shape checks pass).
  WeightStore(StateDict sd, std::string source);
  // fp32 data of `name`, whose shape with size-1 dims dropped must equal `shape`'s.
  const float* vec(const std::string& name, const Shape& shape);
  // A 2-D matrix (rows, cols) in its stored float dtype (fp64 is converted to fp32), or int8.
  WeightMat mat(const std::string& name, int64_t rows, int64_t cols);
  bool has(const std::string& name) const { return sd_.has(name); }
  const Tensor& at(const std::string& name) const;  // raw tensor; throws naming the source
  const std::string& source() const { return source_; }
  const StateDict& tensors() const { return sd_; }
  // Keeps a tensor made at load (e.g. a transposed copy) alive as long as the store.
  const Tensor& keep(Tensor t);

 private:
  StateDict sd_;
  std::string source_;
  std::vector<Tensor> owned_;
  std::map<std::string, Mm8Weight> i8_;  // node-based: WeightMat::i8 points here
  std::map<std::string, Q4Weight> q4_;   // and WeightMat::q4 here
};

// Embedding, ln0 (before block 0), ln_out and head: the same in every version.
struct ModelIo {
  WeightMat emb, head;  // (V, C)
  const float *ln0_w = nullptr, *ln0_b = nullptr, *ln_out_w = nullptr, *ln_out_b = nullptr;  // (C)
  void load(WeightStore& w, int n_embd, int vocab);
};

}  // namespace rwkv
