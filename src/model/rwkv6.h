// rwkv6.h — RWKV-6 (x060 "Finch") on the CPU (fp32): GPT mode over T tokens with the state
// carried (RNN mode is T = 1, chunked prefill is several calls), as the `rwkv` pip package
// computes it: data-dependent token shift (time_maa_* with the time_maa_w1/w2 LoRA) and
// data-dependent decay (time_decay + time_decay_w1/w2 LoRA).
// State per layer i (names as state files store them; same layout as RWKV-5):
//   "state.{i}.att_x" (C)        last LayerNorm'd input of the time mix (token shift)
//   "state.{i}.wkv"   (H, N, N)  WKV state [head, value i, key j] (the pip package keeps the
//                                transpose [head, key, value])
//   "state.{i}.ffn_x" (C)        last LayerNorm'd input of the channel mix
// A state-tuned file's `blocks.{i}.att.time_state` (H, N, N) [head, value, key] is the start state.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/legacy_common.h"

namespace rwkv {

class Rwkv6Model : public legacy::WkvModelBase {
 public:
  static std::unique_ptr<Rwkv6Model> from_state_dict(StateDict sd, const std::string& source,
                                                     const ModelConfig& cfg);
  StateDict zero_state() const;
  void forward(const int32_t* tokens, int64_t T, StateDict& state, float* logits, bool all_logits) const;

 private:
  struct Layer {
    const float *ln1_w, *ln1_b, *lnx_w, *lnx_b;
    const float* maa_x;                      // (C)
    const float* maa[5];                     // (C) w, k, v, r, g
    const float *maa_w1, *maa_w2;            // (C, 5*D) [in, out], (5, D, C)
    const float *decay, *decay_w1, *decay_w2;  // (A), (C, Dw), (Dw, A)
    const float* first;                      // (A) time_faaaa
    legacy::AttProj att;
    const float* time_state = nullptr;       // (H, N, N) or null
    legacy::ChannelMix ffn;
  };
  Rwkv6Model(StateDict sd, const std::string& source) : WkvModelBase(std::move(sd), source) {}
  int D_ = 0, Dw_ = 0;  // time_maa LoRA rank, time_decay LoRA rank
  std::vector<Layer> layers_;
};

}  // namespace rwkv
