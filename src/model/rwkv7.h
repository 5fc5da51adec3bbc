// rwkv7.h — RWKV-7 (x070) model on the CPU: weights, the recurrent state, and the forward pass
// (GPT mode over T tokens with the state carried; RNN mode is T = 1). fp32 compute.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"

namespace rwkv {

struct Rwkv7Layer;  // per-layer weight views, defined in rwkv7.cpp

struct Rwkv7Model {
  ModelConfig cfg;
  StateDict weights;              // as loaded; may point into an mmap of the file
  std::vector<Tensor> owned;      // converted copies kept alive here
  std::shared_ptr<const void> impl;  // resolved per-layer views (Rwkv7Layer ...)

  // Resolves every tensor (throws "[model] ..." for a missing one or a wrong shape).
  static Rwkv7Model from_state_dict(StateDict sd, const std::string& source);
};

// Recurrent state of one sequence.
struct Rwkv7State {
  int n_layer = 0, C = 0, H = 0, N = 0;
  std::vector<float> att_x;  // (L, C)   last input of tmix (token shift)
  std::vector<float> wkv;    // (L, H, N, N) [layer, head, value i, key j]
  std::vector<float> ffn_x;  // (L, C)   last input of cmix
  static Rwkv7State zeros(const ModelConfig& cfg);
};

// Feeds tokens[0..T) from `state` (updated in place). logits: (T, V) when all_logits, else
// (V,) for the last token; may be null (prefill only).
void rwkv7_forward(const Rwkv7Model& m, const int32_t* tokens, int64_t T, Rwkv7State& state,
                   float* logits, bool all_logits);
// The same on a state held elsewhere (e.g. the Runner's named tensors, no copies):
// layers[l] = {att_x (C), wkv (H, N, N), ffn_x (C)} of layer l, all non-null, n_layer entries.
struct Rwkv7LayerStateView;
void rwkv7_forward(const Rwkv7Model& m, const int32_t* tokens, int64_t T, const Rwkv7LayerStateView* layers,
                   float* logits, bool all_logits);

}  // namespace rwkv
