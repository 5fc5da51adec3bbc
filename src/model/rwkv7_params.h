// rwkv7_params.h — RWKV-7 (x070) parameters as named fp32 views, in the official order of
// RWKV-LM's train.py / .pth (named_parameters order). Rwkv7Params owns one flat fp32 buffer;
// the same type serves as the gradient container (identical layout).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"
#include "model/param_table.h"

namespace rwkv {

// One block. C = n_embd, H heads of N = head_size (H*N = C), F = dim_ffn,
// Dw/Da/Dv/Dg = LoRA ranks. Linear weights are (out, in) and used as x @ W^T; LoRA factors
// w1 (C, D), w2 (D, C) are used as x @ w1 @ w2.
struct Rwkv7LayerParams {
  float *ln0_w = nullptr, *ln0_b = nullptr;  // (C) layer 0 only
  float *ln1_w = nullptr, *ln1_b = nullptr;  // (C)
  float *ln2_w = nullptr, *ln2_b = nullptr;  // (C)
  float *x_r = nullptr, *x_w = nullptr, *x_k = nullptr;  // (1,1,C) token-shift mixes
  float *x_v = nullptr, *x_a = nullptr, *x_g = nullptr;  // (1,1,C)
  float *w0 = nullptr;                        // (1,1,C) decay bias
  float *w1 = nullptr, *w2 = nullptr;         // (C,Dw), (Dw,C)
  float *a0 = nullptr;                        // (1,1,C)
  float *a1 = nullptr, *a2 = nullptr;         // (C,Da), (Da,C)
  float *v0 = nullptr;                        // (1,1,C) value residual (unused in layer 0)
  float *v1 = nullptr, *v2 = nullptr;         // (C,Dv), (Dv,C)
  float *g1 = nullptr, *g2 = nullptr;         // (C,Dg), (Dg,C)
  float *k_k = nullptr, *k_a = nullptr;       // (1,1,C)
  float *r_k = nullptr;                       // (H,N)
  float *receptance = nullptr, *key = nullptr, *value = nullptr, *output = nullptr;  // (C,C)
  float *ln_x_w = nullptr, *ln_x_b = nullptr; // (C) GroupNorm(H)
  float *ffn_x_k = nullptr;                   // (1,1,C)
  float *ffn_key = nullptr;                   // (F,C)
  float *ffn_value = nullptr;                 // (C,F)
};

// Pointers to every parameter (into a Rwkv7Params buffer, or into a loaded file).
struct Rwkv7Views {
  float* emb = nullptr;       // (V,C)
  std::vector<Rwkv7LayerParams> layers;
  float *ln_out_w = nullptr, *ln_out_b = nullptr;  // (C)
  float* head = nullptr;      // (V,C)
};

using Rwkv7ParamSpec = ParamSpec;

// THE x070 parameter table: every parameter of `cfg` in the official order (layer 0 has ln0
// after ln2, as the module registers it; every layer has v0/v1/v2, optional in layer 0), with
// train.py's optimizer groups. Config detection, init, loading, inspect and the trainer use it.
ParamTable rwkv7_param_specs(const ModelConfig& cfg);

// Reads the x070 configuration from names and shapes (n_layer, n_embd, head_size from r_k,
// vocab from emb, dim_ffn from ffn.key, LoRA ranks from w1/a1/v1/g1).
// Errors: "[model] <source>: ..." naming the key.
ModelConfig rwkv7_config_from_state_dict(const StateDict& sd, const std::string& source);

// Binds the views of `v` to consecutive spans of `base` in rwkv7_param_specs order.
void rwkv7_bind_views(Rwkv7Views& v, const ModelConfig& cfg, float* base);
// Same, with the pointer of the i-th parameter (spec order) given by `at`.
void rwkv7_bind_views(Rwkv7Views& v, const ModelConfig& cfg,
                      const std::function<float*(size_t i, const Rwkv7ParamSpec& s)>& at);

struct Rwkv7Params : Rwkv7Views {
  ModelConfig cfg;
  std::vector<float> data;  // every parameter, official order, contiguous

  Rwkv7Params() = default;
  Rwkv7Params(const Rwkv7Params& o);
  Rwkv7Params& operator=(const Rwkv7Params& o);
  Rwkv7Params(Rwkv7Params&&) noexcept = default;
  Rwkv7Params& operator=(Rwkv7Params&&) noexcept = default;

  static Rwkv7Params zeros(const ModelConfig& cfg);
  // Any float dtype; shapes checked against the official ones ("[model] <source>: ...").
  // A missing blocks.0.att.v0/v1/v2 (unused) is filled with zeros.
  static Rwkv7Params from_state_dict(const StateDict& sd, const std::string& source);
  StateDict to_state_dict(DType dt) const;  // official names, shapes and order

  int64_t numel() const { return int64_t(data.size()); }
  // The span of one parameter by official name (nullptr if unknown), and its spec.
  float* find(const std::string& name, Rwkv7ParamSpec* spec = nullptr);
  const float* find(const std::string& name, Rwkv7ParamSpec* spec = nullptr) const;
  void set_zero();
};

}  // namespace rwkv
