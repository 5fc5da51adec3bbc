// adamw.h — the official RWKV-7 optimizer: AdamW (FusedAdam, adam_w_mode) with bias correction
// and decoupled weight decay, over a flat fp32 parameter buffer split into named tensors; the
// parameter groups of model.py configure_optimizers; and the global grad-norm clip.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace rwkv::train {

// One named tensor inside the flat buffer: elements [offset, offset + numel).
struct ParamSlot {
  std::string name;
  Shape shape;
  size_t offset = 0, numel = 0;
};

enum class ParamGroup { Lr1x, Lr2x, Decay };
// configure_optimizers: "att.w0" -> 2x lr; else ≥2-D after squeeze with ".weight" in the name
// and weight_decay > 0 -> decay; else 1x.
ParamGroup param_group(const std::string& name, const Shape& shape, double weight_decay);

struct AdamWConfig {
  double beta1 = 0.9, beta2 = 0.99, eps = 1e-18, weight_decay = 0;
  bool layerwise_lr = true;  // RWKV-v5 --layerwise_lr 0: the 2x group runs at 1x
};

class AdamW {
 public:
  AdamW(std::vector<ParamSlot> slots, size_t total, AdamWConfig cfg);
  // ZeRO: the optimizer of elements [begin, end) of the flat buffer only (m and v hold
  // end - begin floats; a slot cut by the range keeps its group).
  AdamW(std::vector<ParamSlot> slots, size_t total, AdamWConfig cfg, size_t begin, size_t end);
  // One step with base learning rate `lr` (per-group scale applied):
  //   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²;  u = (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
  //   p -= lr_group * (u + wd_group * p)
  // params and grads are the whole flat buffers.
  void step(float* params, const float* grads, double lr) { step_range(params + begin_, grads + begin_, lr); }
  // The same on the range only: params and grads point at element `begin` (end - begin floats).
  void step_range(float* params, const float* grads, double lr);
  size_t begin() const { return begin_; }
  size_t end() const { return end_; }
  size_t state_bytes() const { return (m_.size() + v_.size()) * sizeof(float); }
  int64_t steps() const { return t_; }
  // RWKV-v5 --weight_decay_final: the decay group's rate for the next steps.
  void set_weight_decay(double wd) { cfg_.weight_decay = wd; }
  const std::vector<ParamSlot>& slots() const { return slots_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  // m and v (for tests and future optimizer-state checkpoints).
  const std::vector<float>& m() const { return m_; }
  const std::vector<float>& v() const { return v_; }

 private:
  std::vector<ParamSlot> slots_;
  std::vector<ParamGroup> groups_;
  AdamWConfig cfg_;
  std::vector<float> m_, v_;
  size_t begin_ = 0, end_ = 0;
  int64_t t_ = 0;
};

// sqrt(sum g²) over all elements (double accumulation).
double grad_norm(const float* grads, size_t n);
// If max_norm > 0 and norm > max_norm, scales grads by max_norm / (norm + 1e-6) (torch/DeepSpeed).
// Returns the factor applied (1 when not clipped).
double clip_grad_norm(float* grads, size_t n, double norm, double max_norm);

}  // namespace rwkv::train
