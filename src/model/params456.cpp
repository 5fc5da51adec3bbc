// params456.cpp — the RWKV-4 / 5.x / 6 parameter tables (see params456.h). The parts every one
// of the three shares (embedding, layer norms, channel mix, head) are written once here; each
// version adds its time mix.
#include "model/params456.h"

#include <functional>
#include <string>

namespace rwkv {

namespace {

// Adds one tensor of a block: `sub` after the block prefix "blocks.{l}.".
using AddFn = std::function<void(const char* sub, Shape shape, bool optional)>;

// emb, then per block ln1, ln2, ln0 (block 0), att(add) and the channel mix (mix names
// "ffn.<mix>_k" / "ffn.<mix>_r"), then ln_out and head; groups as train.py sets them.
ParamTable build(const ModelConfig& c, const char* ffn_mix, const std::function<void(const AddFn&)>& att) {
  const int64_t C = c.n_embd, V = c.vocab_size, F = c.dim_ffn;
  ParamTable t;
  t.push_back({"emb.weight", {V, C}});
  for (int l = 0; l < c.n_layer; l++) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    const AddFn add = [&](const char* sub, Shape s, bool optional) { t.push_back({p + sub, std::move(s), optional}); };
    for (const char* n : {"ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias"}) add(n, {C}, false);
    if (l == 0)
      for (const char* n : {"ln0.weight", "ln0.bias"}) add(n, {C}, false);
    att(add);
    add((std::string("ffn.") + ffn_mix + "_k").c_str(), {1, 1, C}, false);
    add((std::string("ffn.") + ffn_mix + "_r").c_str(), {1, 1, C}, false);
    add("ffn.key.weight", {F, C}, false);
    add("ffn.receptance.weight", {C, C}, false);
    add("ffn.value.weight", {C, F}, false);
  }
  t.push_back({"ln_out.weight", {C}});
  t.push_back({"ln_out.bias", {C}});
  t.push_back({"head.weight", {V, C}});
  for (auto& s : t) s.group = param_group_of(s.name, s.shape);
  return t;
}

}  // namespace

ParamTable rwkv4_params(const ModelConfig& c) {
  const int64_t C = c.n_embd, A = c.dim_att;
  return build(c, "time_mix", [&](const AddFn& add) {
    add("att.time_decay", {A}, false);
    add("att.time_first", {A}, false);
    for (const char* n : {"att.time_mix_k", "att.time_mix_v", "att.time_mix_r"}) add(n, {1, 1, C}, false);
    for (const char* n : {"att.key.weight", "att.value.weight", "att.receptance.weight"}) add(n, {A, C}, false);
    add("att.output.weight", {C, A}, false);
  });
}

ParamTable rwkv5_params(const ModelConfig& c, bool time_first) {
  const int64_t C = c.n_embd, A = c.dim_att, H = c.n_head, N = c.head_size;
  const bool x052 = c.arch == Arch::RWKV5_2, gate = c.arch != Arch::RWKV5;
  const Shape per_head = x052 ? Shape{H, N} : Shape{H};
  return build(c, "time_mix", [&](const AddFn& add) {
    for (const char* n : {"att.time_mix_k", "att.time_mix_v", "att.time_mix_r"}) add(n, {1, 1, C}, false);
    if (gate) {
      add("att.time_mix_g", {1, 1, C}, false);
      if (!x052) add("att.gate.weight", {A, C}, false);  // x051 registers the gate here
    }
    add("att.time_decay", per_head, false);
    add(time_first ? "att.time_first" : "att.time_faaaa", per_head, false);
    add("att.time_state", {H, N, N}, true);  // state-tuned files only
    for (const char* n : {"att.receptance.weight", "att.key.weight", "att.value.weight"}) add(n, {A, C}, false);
    add("att.output.weight", {C, A}, false);
    if (x052) add("att.gate.weight", {A, C}, false);
    add("att.ln_x.weight", {A}, false);
    add("att.ln_x.bias", {A}, false);
  });
}

ParamTable rwkv6_params(const ModelConfig& c, int d_mix) {
  const int64_t C = c.n_embd, A = c.dim_att, H = c.n_head, N = c.head_size, D = d_mix, Dw = c.d_decay;
  return build(c, "time_maa", [&](const AddFn& add) {
    for (const char* n : {"att.time_maa_x", "att.time_maa_w", "att.time_maa_k", "att.time_maa_v",
                          "att.time_maa_r", "att.time_maa_g"})
      add(n, {1, 1, C}, false);
    add("att.time_maa_w1", {C, 5 * D}, false);
    add("att.time_maa_w2", {5, D, C}, false);
    add("att.time_decay", {1, 1, A}, false);
    add("att.time_decay_w1", {C, Dw}, false);
    add("att.time_decay_w2", {Dw, A}, false);
    add("att.time_faaaa", {H, N}, false);
    add("att.time_state", {H, N, N}, true);  // state-tuned files only
    for (const char* n : {"att.receptance.weight", "att.key.weight", "att.value.weight"}) add(n, {A, C}, false);
    add("att.output.weight", {C, A}, false);
    add("att.gate.weight", {A, C}, false);
    add("att.ln_x.weight", {A}, false);
    add("att.ln_x.bias", {A}, false);
  });
}

}  // namespace rwkv
