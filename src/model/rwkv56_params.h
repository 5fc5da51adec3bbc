// rwkv56_params.h — RWKV-5.2 (x052) and RWKV-6 (x060) parameters for training: one flat fp32
// buffer in the order of THE tables of params456.h (the official state-dict order, without the
// optional time_state), with named per-layer views. The same type holds the gradients.
// Sizes: C = n_embd, A = dim_att = H*N, F = dim_ffn, Dm = 32 (x060 token-shift LoRA rank per
// mix), Dw = 64 (x060 decay LoRA rank), as RWKV-LM RWKV-v5/src/model.py fixes them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"
#include "model/param_table.h"

namespace rwkv {

inline constexpr int kRwkv6MixRank = 32;    // D_MIX_LORA
inline constexpr int kRwkv6DecayRank = 64;  // D_DECAY_LORA

// The model config train.py's flags describe (arch RWKV5_2 or RWKV6; n_params filled).
ModelConfig rwkv56_config(Arch arch, int n_layer, int n_embd, int vocab_size, int head_size, int dim_att,
                          int dim_ffn);
// The trainable tensors (table order, optional ones left out).
ParamTable rwkv56_param_table(const ModelConfig& cfg);

// One block's tensors (into a params or a gradient buffer).
struct Rwkv56LayerParams {
  float *ln0_w = nullptr, *ln0_b = nullptr;                  // (C) layer 0 only
  float *ln1_w, *ln1_b, *ln2_w, *ln2_b;                      // (C)
  float *mix_k = nullptr, *mix_v = nullptr, *mix_r = nullptr, *mix_g = nullptr;  // x052 (1,1,C)
  float *maa_x = nullptr, *maa[5] = {};                      // x060 (1,1,C): w, k, v, r, g
  float *maa_w1 = nullptr, *maa_w2 = nullptr;                // x060 (C, 5*Dm), (5, Dm, C)
  float* time_decay;                                         // x052 (H,N); x060 (1,1,A)
  float *decay_w1 = nullptr, *decay_w2 = nullptr;            // x060 (C, Dw), (Dw, A)
  float* faaaa;                                              // (H,N) the bonus u
  float *receptance, *key, *value, *gate;                    // (A,C)
  float* output;                                             // (C,A)
  float *ln_x_w, *ln_x_b;                                    // (A)
  float *ffn_mix_k, *ffn_mix_r;                              // x052 time_mix, x060 time_maa (1,1,C)
  float *ffn_key, *ffn_receptance, *ffn_value;               // (F,C), (C,C), (C,F)
};

struct Rwkv56Params {
  ModelConfig cfg;
  int head_size_divisor = 8;
  ParamTable table;
  std::vector<size_t> offsets;  // per table entry
  std::vector<float> data;
  float* emb = nullptr;                            // (V,C)
  std::vector<Rwkv56LayerParams> layers;
  float *ln_out_w = nullptr, *ln_out_b = nullptr;  // (C)
  float* head = nullptr;                           // (V,C)

  static Rwkv56Params zeros(const ModelConfig& cfg, int head_size_divisor);
  // Every table tensor from sd (any float dtype; size-1 dims may differ). Errors name `source`.
  static Rwkv56Params from_state_dict(const StateDict& sd, const ModelConfig& cfg, int head_size_divisor,
                                      const std::string& source);
  StateDict to_state_dict(DType dtype) const;
  float* find(const std::string& name);
  const float* find(const std::string& name) const;
  void set_zero();
  bool x060() const { return cfg.arch == Arch::RWKV6; }

  Rwkv56Params() = default;
  Rwkv56Params(const Rwkv56Params& o) { *this = o; }
  Rwkv56Params& operator=(const Rwkv56Params& o);  // copies and re-points the views

 private:
  void bind();
};

}  // namespace rwkv
