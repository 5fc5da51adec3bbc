// bptt.h — backpropagation through time for RWKV-7 over documents longer than one segment:
// the (B, T) documents are cut into segments of ctx_len tokens; the forward runs the segments
// in order keeping only each segment's start state; the backward runs them in reverse,
// recomputing one segment from its start state and back-propagating with d(end state) from
// the segment after it. Memory: one segment's activations + one state per segment.
// Truncated mode detaches the state between segments (each segment's backward sees no
// gradient from later segments; the forward still carries the state). The documents may start
// from a given state, and the gradient of that start state is available (state tuning).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/rwkv7_params.h"
#include "model/rwkv7_train.h"

namespace rwkv {

struct BpttOptions {
  int ctx_len = 0;         // segment length (> 0); the last segment may be shorter
  bool truncated = false;  // detach the state between segments (no gradient through it)
  bool grad_cp = false;    // per segment: keep only each layer's input, recompute in backward
  float l2wrap = 1e-4f;    // L2Wrap numerator; divided by the whole documents' B*T
  // (B, S) state the documents start from (state tuning: the tuned initial state); null: zeros.
  const float* init_state = nullptr;
  // (B, S) receives d(loss)/d(init_state) (overwritten); null: not computed.
  float* d_init_state = nullptr;
  bool frozen_matrices = false;  // Rwkv7TrainState::frozen_matrices for every segment
};

// Everything one BPTT step allocates, reused across steps; bytes counted for peak_bytes().
struct BpttScratch {
  Rwkv7TrainScratch train;       // one segment's forward + backward
  Rwkv7TrainScratch eval;        // one segment's forward (the full-BPTT forward sweep)
  std::vector<float> states;     // (segments, B, S) start state of every segment
  std::vector<float> dstate[2];  // (B, S) d(end state) in, d(start state) out
  std::vector<int32_t> seg_tokens;  // (B, ctx_len + 1) one segment's tokens

  size_t state_bytes() const;  // the stored segment states (grows with the document)
  // Peak of the two scratches plus the vectors above at their current size: an upper bound on
  // what a step held at once.
  size_t peak_bytes() const;
};

struct BpttResult {
  double loss = 0;   // mean CE over the real targets (as one pass over the whole documents)
  int segments = 0;
  int64_t tokens = 0;  // real targets: sum of lengths (B*T without lengths)
};

// tokens: (B, T+1), inputs tokens[:, :-1], targets tokens[:, 1:]. lengths: (B) targets of each
// document (1..T; the rows after are padding: no loss, no gradient) or null (all T).
// grads: overwritten with d(loss)/d(param) of the mean over the real targets, incl. L2Wrap with
// factor l2wrap/(real targets). Full BPTT gives the gradients of one forward/backward over the
// whole (B, T) up to fp32 rounding; truncated mode the sum of the segments' gradients with the
// carried state taken as a constant.
BpttResult rwkv7_bptt_forward_backward(const Rwkv7Params& p, const int32_t* tokens, int B, int T,
                                       Rwkv7Params& grads, BpttScratch& s, const BpttOptions& o,
                                       const int32_t* lengths = nullptr);

}  // namespace rwkv
