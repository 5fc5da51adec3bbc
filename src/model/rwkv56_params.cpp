// rwkv56_params.cpp — the x052 / x060 training parameter buffer (see rwkv56_params.h).
#include "model/rwkv56_params.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "model/params456.h"

namespace rwkv {

ModelConfig rwkv56_config(Arch arch, int n_layer, int n_embd, int vocab_size, int head_size, int dim_att,
                          int dim_ffn) {
  RWKV_CHECK(arch == Arch::RWKV5_2 || arch == Arch::RWKV6, "rwkv56_config: arch {}", arch_name(arch));
  ModelConfig c;
  c.arch = arch;
  c.n_layer = n_layer, c.n_embd = n_embd, c.vocab_size = vocab_size;
  c.head_size = head_size, c.dim_att = dim_att, c.dim_ffn = dim_ffn;
  c.n_head = dim_att / head_size;
  c.d_decay = arch == Arch::RWKV6 ? kRwkv6DecayRank : 0;
  c.arch_key = arch == Arch::RWKV6 ? "att.time_maa_x" : "att.time_mix_k";
  int64_t n = 0;
  for (auto& s : rwkv56_param_table(c)) n += shape_numel(s.shape);
  c.n_params = n;
  return c;
}

ParamTable rwkv56_param_table(const ModelConfig& c) {
  ParamTable all = c.arch == Arch::RWKV6 ? rwkv6_params(c, kRwkv6MixRank) : rwkv5_params(c);
  ParamTable t;
  for (auto& s : all)
    if (!s.optional) t.push_back(s);
  return t;
}

Rwkv56Params& Rwkv56Params::operator=(const Rwkv56Params& o) {
  if (this == &o) return *this;
  cfg = o.cfg, head_size_divisor = o.head_size_divisor, table = o.table, offsets = o.offsets, data = o.data;
  bind();
  return *this;
}

Rwkv56Params Rwkv56Params::zeros(const ModelConfig& cfg, int head_size_divisor) {
  Rwkv56Params p;
  p.cfg = cfg;
  p.head_size_divisor = head_size_divisor;
  p.table = rwkv56_param_table(cfg);
  size_t off = 0;
  for (auto& s : p.table) p.offsets.push_back(off), off += size_t(shape_numel(s.shape));
  p.data.assign(off, 0.f);
  p.bind();
  return p;
}

float* Rwkv56Params::find(const std::string& name) {
  for (size_t i = 0; i < table.size(); i++)
    if (table[i].name == name) return data.data() + offsets[i];
  return nullptr;
}
const float* Rwkv56Params::find(const std::string& name) const {
  return const_cast<Rwkv56Params*>(this)->find(name);
}

void Rwkv56Params::set_zero() { std::fill(data.begin(), data.end(), 0.f); }

void Rwkv56Params::bind() {
  auto at = [&](const std::string& n) {
    float* p = find(n);
    RWKV_CHECK(p, "rwkv56 params: no tensor '{}'", n);
    return p;
  };
  emb = at("emb.weight");
  ln_out_w = at("ln_out.weight"), ln_out_b = at("ln_out.bias"), head = at("head.weight");
  layers.assign(size_t(cfg.n_layer), {});
  const bool v6 = x060();
  for (int l = 0; l < cfg.n_layer; l++) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    Rwkv56LayerParams& L = layers[size_t(l)];
    if (l == 0) L.ln0_w = at(b + "ln0.weight"), L.ln0_b = at(b + "ln0.bias");
    L.ln1_w = at(b + "ln1.weight"), L.ln1_b = at(b + "ln1.bias");
    L.ln2_w = at(b + "ln2.weight"), L.ln2_b = at(b + "ln2.bias");
    if (v6) {
      L.maa_x = at(b + "att.time_maa_x");
      const char* f[5] = {"w", "k", "v", "r", "g"};
      for (int i = 0; i < 5; i++) L.maa[i] = at(b + "att.time_maa_" + f[i]);
      L.maa_w1 = at(b + "att.time_maa_w1"), L.maa_w2 = at(b + "att.time_maa_w2");
      L.decay_w1 = at(b + "att.time_decay_w1"), L.decay_w2 = at(b + "att.time_decay_w2");
      L.ffn_mix_k = at(b + "ffn.time_maa_k"), L.ffn_mix_r = at(b + "ffn.time_maa_r");
    } else {
      L.mix_k = at(b + "att.time_mix_k"), L.mix_v = at(b + "att.time_mix_v");
      L.mix_r = at(b + "att.time_mix_r"), L.mix_g = at(b + "att.time_mix_g");
      L.ffn_mix_k = at(b + "ffn.time_mix_k"), L.ffn_mix_r = at(b + "ffn.time_mix_r");
    }
    L.time_decay = at(b + "att.time_decay"), L.faaaa = at(b + "att.time_faaaa");
    L.receptance = at(b + "att.receptance.weight"), L.key = at(b + "att.key.weight");
    L.value = at(b + "att.value.weight"), L.gate = at(b + "att.gate.weight");
    L.output = at(b + "att.output.weight");
    L.ln_x_w = at(b + "att.ln_x.weight"), L.ln_x_b = at(b + "att.ln_x.bias");
    L.ffn_key = at(b + "ffn.key.weight"), L.ffn_receptance = at(b + "ffn.receptance.weight");
    L.ffn_value = at(b + "ffn.value.weight");
  }
}

Rwkv56Params Rwkv56Params::from_state_dict(const StateDict& sd, const ModelConfig& cfg, int head_size_divisor,
                                           const std::string& source) {
  Rwkv56Params p = zeros(cfg, head_size_divisor);
  for (size_t i = 0; i < p.table.size(); i++) {
    const ParamSpec& s = p.table[i];
    const Tensor* t = sd.find(s.name);
    if (!t) fail("model", "{}: missing tensor '{}' {}", source, s.name, shape_str(s.shape));
    if (t->numel() != shape_numel(s.shape))
      fail("model", "{}: '{}' has shape {}, expected {}", source, s.name, shape_str(t->shape), shape_str(s.shape));
    Tensor f = t->to(DType::F32);
    std::memcpy(p.data.data() + p.offsets[i], f.ptr<float>(), sizeof(float) * size_t(f.numel()));
  }
  return p;
}

StateDict Rwkv56Params::to_state_dict(DType dtype) const {
  StateDict sd;
  for (size_t i = 0; i < table.size(); i++) {
    Tensor f = Tensor::empty(DType::F32, table[i].shape);
    std::memcpy(f.ptr<float>(), data.data() + offsets[i], sizeof(float) * size_t(f.numel()));
    sd.items.emplace_back(table[i].name, dtype == DType::F32 ? f : f.to(dtype));
  }
  return sd;
}

}  // namespace rwkv
