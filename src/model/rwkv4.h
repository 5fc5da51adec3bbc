// rwkv4.h — RWKV-4 on the CPU (fp32): GPT mode over T tokens with the state carried (RNN mode is
// T = 1, chunked prefill is several calls), as the `rwkv` pip package computes it.
// State per layer i (names as state files store them):
//   "state.{i}.att_x"  (C)  last LayerNorm'd input of the time mix (token shift)
//   "state.{i}.att_aa" (A)  WKV numerator   / exp(pp)
//   "state.{i}.att_bb" (A)  WKV denominator / exp(pp)
//   "state.{i}.att_pp" (A)  running max exponent (starts at -1e30), keeps exp() in range
//   "state.{i}.ffn_x"  (C)  last LayerNorm'd input of the channel mix
// These are the pip package's five state vectors per layer, in its order, unchanged.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/legacy_common.h"

namespace rwkv {

class Rwkv4Model : public legacy::ModelBase {
 public:
  // Resolves every tensor; throws "[model] <source>: ..." for a missing one or a wrong shape.
  static std::unique_ptr<Rwkv4Model> from_state_dict(StateDict sd, const std::string& source,
                                                     const ModelConfig& cfg);
  StateDict zero_state() const;
  // Feeds tokens[0..T) from `state` (updated in place). logits: (T, V) when all_logits, else
  // (V,) for the last token; may be null.
  void forward(const int32_t* tokens, int64_t T, StateDict& state, float* logits, bool all_logits) const;

 private:
  struct Layer {
    const float *ln1_w, *ln1_b;
    std::vector<float> ck, cv, cr;                   // (C) 1 - time_mix_{k,v,r}
    std::vector<float> decay;                        // (A) -exp(time_decay)
    const float* first;                              // (A) time_first
    legacy::AttProj att;                         // k, v, r (A, C), o (C, A); no gate
    legacy::ChannelMix ffn;
  };
  Rwkv4Model(StateDict sd, const std::string& source) : ModelBase(std::move(sd), source) {}
  std::vector<Layer> layers_;
};

}  // namespace rwkv
