// rwkv7_train.h — RWKV-7 training math on the CPU: the loss (mean cross-entropy) and the
// explicit backward of every parameter, including L2Wrap (+1e-4/(B*T) * max_logit at each
// row's argmax in the logits gradient), as RWKV-LM train_temp computes them. fp32 throughout.
// Optionally from a given start state, returning the end state and, in the backward, taking
// d(end state) and returning d(start state) (for BPTT across segments, train/bptt.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
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

// Floats of one sequence's recurrent state: per layer l, "state.{l}.att_x" (C), "state.{l}.wkv"
// (H,N,N) [head, value i, key j], "state.{l}.ffn_x" (C) back to back — the inference engine's
// StateLayout of an RWKV-7 slot (model/rwkv7.cpp), so a slot can be restored or saved as is.
int64_t rwkv7_state_floats(const ModelConfig& c);

// Optional state in and out of a training pass over B sequences, each state a slot of
// S = rwkv7_state_floats(cfg) floats, (B, S) in all. Every pointer may be null.
struct Rwkv7TrainState {
  const float* in = nullptr;     // (B,S) start state; null: zeros (as without a Rwkv7TrainState)
  float* out = nullptr;          // (B,S) end state after the T tokens
  const float* d_out = nullptr;  // (B,S) d(loss)/d(end state) (backward only); null: zero
  float* d_in = nullptr;         // (B,S) d(loss)/d(start state), overwritten (backward only)
  // Number of targets the loss is the mean over: the CE gradient is scaled by 1/denom and
  // L2Wrap by l2wrap/denom, and the functions return sum(CE)/denom. 0: the rows that count in
  // this pass (B*T without lengths). A document cut into segments passes its whole token count
  // to every segment.
  double denom = 0;
  bool accumulate = false;       // backward: grads += this pass's gradients (no zeroing)
  // backward: skip the gradients of the big matrices (each layer's six projections and the
  // head; they stay zero), which cost as much as the rest of the backward's GEMMs. Every other
  // gradient and d(start state) are the same bits. State tuning: the model is frozen.
  bool frozen_matrices = false;
  // (B) rows that count per sequence: row t of sequence b is padding when t >= lengths[b] (its
  // input is taken as token 0, its target ignored: no loss, no gradient, no L2Wrap). Padding
  // follows the real rows, so it changes nothing before it (but it does run into the end
  // state). Null: every row counts.
  const int32_t* lengths = nullptr;
};

// tokens: (B, T+1) — inputs tokens[:, :-1], targets tokens[:, 1:]; every id < vocab_size.
// Returns the mean CE loss; `grads` (same config as p; reshaped/zeroed as needed) is overwritten
// with d(loss)/d(param) incl. L2Wrap. grad_cp: keep only each layer's input and recompute the
// layer in the backward (same gradients, less memory).
// l2wrap: the L2Wrap factor numerator (official 1e-4; 0 gives the exact gradient of the loss).
// st: start/end state and their gradients, the loss's denominator, accumulation (see above).
// grads_ready (may be empty): called by the backward each time it has finished every gradient
// of a layer, top down: n_layer for the head (ln_out, head), then each block n_layer-1 .. 0
// (block 0 with ln0), then -1 for the embedding. Nothing reported is written again in this
// call, so the caller may start sending it (a data-parallel trainer overlapping its gradient
// reduce-scatter with the rest of the backward).
using Rwkv7GradsReady = std::function<void(int layer)>;
float rwkv7_forward_backward(const Rwkv7Params& p, const int32_t* tokens, int B, int T,
                             Rwkv7Params& grads, Rwkv7TrainScratch& s, bool grad_cp,
                             float l2wrap = 1e-4f, const Rwkv7TrainState* st = nullptr,
                             const Rwkv7GradsReady& grads_ready = {});

// Forward only (eval): mean CE loss over the B*T targets (sum/st->denom when given).
// row_losses: (B*T) or null. st: start state in, end state out (d_* and accumulate unused).
float rwkv7_forward_loss(const Rwkv7Params& p, const int32_t* tokens, int B, int T,
                         Rwkv7TrainScratch& s, float* row_losses = nullptr,
                         const Rwkv7TrainState* st = nullptr);

}  // namespace rwkv
