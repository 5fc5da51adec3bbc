// rwkv2_params.cpp — the RWKV-2 parameter table (see rwkv2_params.h).
#include "model/rwkv2_params.h"

#include <string>

namespace rwkv {

ParamTable rwkv2_params(const ModelConfig& c) {
  const int64_t C = c.n_embd, V = c.vocab_size, A = c.dim_att, F = c.dim_ffn, Q = c.head_qk, L = c.copy_len;
  ParamTable t;
  if (Q > 0) t.push_back({"copy_mask", {L, L}});
  t.push_back({"emb.weight", {V, C}});
  for (int l = 0; l < c.n_layer; l++) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    auto add = [&](const char* sub, Shape s) { t.push_back({p + sub, std::move(s)}); };
    for (const char* n : {"ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias"}) add(n, {C});
    add("att.time_decay", {A, 1});
    add("att.time_first", {A, 1});
    add("att.time_mix", {1, 1, C});
    for (const char* n : {"att.key.weight", "att.value.weight", "att.receptance.weight"}) add(n, {A, C});
    add("att.output.weight", {C, A});
    add("ffn.time_mix", {1, 1, C});
    add("ffn.key.weight", {F, C});
    add("ffn.receptance.weight", {C, C});
    add("ffn.value.weight", {C, F});
  }
  t.push_back({"ln_out.weight", {C}});
  t.push_back({"ln_out.bias", {C}});
  t.push_back({"head.weight", {V, C}});
  if (Q > 0) {
    t.push_back({"head_q.weight", {Q, C}});
    t.push_back({"head_k.weight", {Q, C}});
  }
  for (auto& s : t) s.group = param_group_of(s.name, s.shape);
  return t;
}

}  // namespace rwkv
