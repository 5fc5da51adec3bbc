// rwkv5.h — RWKV-5 (x050, x051, x052 "Eagle") on the CPU (fp32): GPT mode over T tokens with the
// state carried (RNN mode is T = 1, chunked prefill is several calls), as the `rwkv` pip package
// computes it. x052: per-(head, channel) decay; x051: per-head decay and the gate; x050: no gate.
// State per layer i (names as state files store them):
//   "state.{i}.att_x" (C)        last LayerNorm'd input of the time mix (token shift)
//   "state.{i}.wkv"   (H, N, N)  WKV state [head, value i, key j] (as RWKV-7's; the pip package
//                                keeps the transpose [head, key, value])
//   "state.{i}.ffn_x" (C)        last LayerNorm'd input of the channel mix
// A state-tuned file's `blocks.{i}.att.time_state` (H, N, N) [head, value, key] is the start state.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/legacy_common.h"

namespace rwkv {

class Rwkv5Model : public legacy::WkvModelBase {
 public:
  static std::unique_ptr<Rwkv5Model> from_state_dict(StateDict sd, const std::string& source,
                                                     const ModelConfig& cfg);
  StateDict zero_state() const;
  void forward(const int32_t* tokens, int64_t T, StateDict& state, float* logits, bool all_logits) const;

 private:
  struct Layer {
    const float *ln1_w, *ln1_b, *lnx_w, *lnx_b;
    std::vector<float> ck, cv, cr, cg;                    // (C) 1 - time_mix_*; cg empty without gate
    std::vector<float> decay, first;                      // (A) exp(-exp(time_decay)), u
    legacy::AttProj att;                                  // att.g.p null without gate
    const float* time_state = nullptr;                    // (H, N, N) [head, value, key] or null
    legacy::ChannelMix ffn;
  };
  Rwkv5Model(StateDict sd, const std::string& source) : WkvModelBase(std::move(sd), source) {}
  std::vector<Layer> layers_;
};

}  // namespace rwkv
