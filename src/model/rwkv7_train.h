// rwkv7_train.h — RWKV-7 training math on the CPU: the loss (mean cross-entropy) and the
// explicit backward of every parameter, including L2Wrap (+1e-4/(B*T) * max_logit at each
// row's argmax in the logits gradient), as RWKV-LM train_temp computes them. fp32 throughout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "model/rwkv7_params.h"

namespace rwkv {

struct Rwkv7TrainArena;  // activation buffers, defined in rwkv7_train.cpp

// Activations and work buffers for one (B, T); (re)sized on first use by the functions below.
// Allocations go through one byte counter so peak memory can be compared (grad_cp on/off).
struct Rwkv7TrainScratch {
  Rwkv7TrainScratch();
  ~Rwkv7TrainScratch();
  Rwkv7TrainScratch(Rwkv7TrainScratch&&) noexcept;
  Rwkv7TrainScratch& operator=(Rwkv7TrainScratch&&) noexcept;

  size_t bytes() const;       // currently allocated
  size_t peak_bytes() const;  // most ever allocated at once by this scratch
  void release();             // frees everything (peak is kept)

  std::unique_ptr<Rwkv7TrainArena> arena;
};

// tokens: (B, T+1) — inputs tokens[:, :-1], targets tokens[:, 1:]; every id < vocab_size.
// Returns the mean CE loss; `grads` (same config as p; reshaped/zeroed as needed) is overwritten
// with d(loss)/d(param) incl. L2Wrap. grad_cp: keep only each layer's input and recompute the
// layer in the backward (same gradients, less memory).
// l2wrap: the L2Wrap factor numerator (official 1e-4; 0 gives the exact gradient of the loss).
float rwkv7_forward_backward(const Rwkv7Params& p, const int32_t* tokens, int B, int T,
                             Rwkv7Params& grads, Rwkv7TrainScratch& s, bool grad_cp,
                             float l2wrap = 1e-4f);

// Forward only (eval): mean CE loss over the B*T targets. row_losses: (B*T) or null.
float rwkv7_forward_loss(const Rwkv7Params& p, const int32_t* tokens, int B, int T,
                         Rwkv7TrainScratch& s, float* row_losses = nullptr);

}  // namespace rwkv
