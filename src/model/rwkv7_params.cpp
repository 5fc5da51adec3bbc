// rwkv7_params.cpp — the official RWKV-7 parameter list, config detection from a state dict,
// and conversion between state dicts and the flat fp32 Rwkv7Params.
#include "model/rwkv7_params.h"

#include <cstring>

#include "core/error.h"

namespace rwkv {

ParamTable rwkv7_param_specs(const ModelConfig& c) {
  const int64_t C = c.n_embd, V = c.vocab_size, H = c.n_head, N = c.head_size, F = c.dim_ffn;
  ParamTable s;
  s.push_back({"emb.weight", {V, C}});
  for (int l = 0; l < c.n_layer; l++) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    s.push_back({p + "ln1.weight", {C}});
    s.push_back({p + "ln1.bias", {C}});
    s.push_back({p + "ln2.weight", {C}});
    s.push_back({p + "ln2.bias", {C}});
    if (l == 0) {
      s.push_back({p + "ln0.weight", {C}});
      s.push_back({p + "ln0.bias", {C}});
    }
    const std::string a = p + "att.";
    for (const char* m : {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"}) s.push_back({a + m, {1, 1, C}});
    s.push_back({a + "w1", {C, c.d_decay}});
    s.push_back({a + "w2", {c.d_decay, C}});
    s.push_back({a + "w0", {1, 1, C}});
    s.push_back({a + "a1", {C, c.d_aaa}});
    s.push_back({a + "a2", {c.d_aaa, C}});
    s.push_back({a + "a0", {1, 1, C}});
    s.push_back({a + "v1", {C, c.d_mv}});
    s.push_back({a + "v2", {c.d_mv, C}});
    s.push_back({a + "v0", {1, 1, C}});
    s.push_back({a + "g1", {C, c.d_gate}});
    s.push_back({a + "g2", {c.d_gate, C}});
    s.push_back({a + "k_k", {1, 1, C}});
    s.push_back({a + "k_a", {1, 1, C}});
    s.push_back({a + "r_k", {H, N}});
    s.push_back({a + "receptance.weight", {C, C}});
    s.push_back({a + "key.weight", {C, C}});
    s.push_back({a + "value.weight", {C, C}});
    s.push_back({a + "output.weight", {C, C}});
    s.push_back({a + "ln_x.weight", {C}});
    s.push_back({a + "ln_x.bias", {C}});
    s.push_back({p + "ffn.x_k", {1, 1, C}});
    s.push_back({p + "ffn.key.weight", {F, C}});
    s.push_back({p + "ffn.value.weight", {C, F}});
  }
  s.push_back({"ln_out.weight", {C}});
  s.push_back({"ln_out.bias", {C}});
  s.push_back({"head.weight", {V, C}});
  for (auto& p : s) {
    p.group = param_group_of(p.name, p.shape);
    p.optional = p.name.rfind("blocks.0.att.v", 0) == 0;  // layer 0 never uses v0/v1/v2
  }
  return s;
}

ModelConfig rwkv7_config_from_state_dict(const StateDict& sd, const std::string& src) {
  auto need = [&](const std::string& n, int dims) -> const Tensor& {
    const Tensor* t = sd.find(n);
    if (!t) fail("model", "{}: missing tensor '{}' (not an RWKV-7 x070 model?)", src, n);
    if (t->dim() != dims)
      fail("model", "{}: '{}' has shape {}, expected {} dims", src, n, shape_str(t->shape), dims);
    return *t;
  };
  ModelConfig c;
  c.arch = Arch::RWKV7;
  const Tensor& emb = need("emb.weight", 2);
  c.vocab_size = int(emb.shape[0]);
  c.n_embd = int(emb.shape[1]);
  int L = 0;
  while (sd.has("blocks." + std::to_string(L) + ".ln1.weight")) L++;
  if (L == 0) fail("model", "{}: no 'blocks.0.ln1.weight'", src);
  c.n_layer = L;
  const Tensor& rk = need("blocks.0.att.r_k", 2);
  c.n_head = int(rk.shape[0]);
  c.head_size = int(rk.shape[1]);
  c.dim_att = c.n_head * c.head_size;
  if (c.dim_att != c.n_embd)
    fail("model", "{}: 'blocks.0.att.r_k' {} gives dim_att {} != n_embd {}", src,
         shape_str(rk.shape), c.dim_att, c.n_embd);
  c.dim_ffn = int(need("blocks.0.ffn.key.weight", 2).shape[0]);
  c.d_decay = int(need("blocks.0.att.w1", 2).shape[1]);
  c.d_aaa = int(need("blocks.0.att.a1", 2).shape[1]);
  c.d_gate = int(need("blocks.0.att.g1", 2).shape[1]);
  const std::string v1 = L > 1 ? "blocks.1.att.v1" : "blocks.0.att.v1";
  c.d_mv = sd.has(v1) ? int(need(v1, 2).shape[1]) : 32;
  int64_t n = 0;
  for (auto& s : rwkv7_param_specs(c)) n += shape_numel(s.shape);
  c.n_params = n;
  return c;
}

void rwkv7_bind_views(Rwkv7Views& v, const ModelConfig& cfg, float* base) {
  float* p = base;
  rwkv7_bind_views(v, cfg, [&](size_t, const Rwkv7ParamSpec& s) {
    float* cur = p;
    p += shape_numel(s.shape);
    return cur;
  });
}

void rwkv7_bind_views(Rwkv7Views& v, const ModelConfig& cfg,
                      const std::function<float*(size_t i, const Rwkv7ParamSpec& s)>& at) {
  v.layers.assign(cfg.n_layer, Rwkv7LayerParams{});
  const auto specs = rwkv7_param_specs(cfg);
  for (size_t i = 0; i < specs.size(); i++) {
    const Rwkv7ParamSpec& s = specs[i];
    float* cur = at(i, s);
    const std::string& n = s.name;
    if (n == "emb.weight") { v.emb = cur; continue; }
    if (n == "ln_out.weight") { v.ln_out_w = cur; continue; }
    if (n == "ln_out.bias") { v.ln_out_b = cur; continue; }
    if (n == "head.weight") { v.head = cur; continue; }
    // blocks.<l>.<rest>
    size_t dot = n.find('.', 7);
    int l = std::stoi(n.substr(7, dot - 7));
    std::string r = n.substr(dot + 1);
    Rwkv7LayerParams& L = v.layers[l];
    struct { const char* name; float** slot; } table[] = {
        {"ln0.weight", &L.ln0_w}, {"ln0.bias", &L.ln0_b}, {"ln1.weight", &L.ln1_w},
        {"ln1.bias", &L.ln1_b}, {"ln2.weight", &L.ln2_w}, {"ln2.bias", &L.ln2_b},
        {"att.x_r", &L.x_r}, {"att.x_w", &L.x_w}, {"att.x_k", &L.x_k}, {"att.x_v", &L.x_v},
        {"att.x_a", &L.x_a}, {"att.x_g", &L.x_g}, {"att.w0", &L.w0}, {"att.w1", &L.w1},
        {"att.w2", &L.w2}, {"att.a0", &L.a0}, {"att.a1", &L.a1}, {"att.a2", &L.a2},
        {"att.v0", &L.v0}, {"att.v1", &L.v1}, {"att.v2", &L.v2}, {"att.g1", &L.g1},
        {"att.g2", &L.g2}, {"att.k_k", &L.k_k}, {"att.k_a", &L.k_a}, {"att.r_k", &L.r_k},
        {"att.receptance.weight", &L.receptance}, {"att.key.weight", &L.key},
        {"att.value.weight", &L.value}, {"att.output.weight", &L.output},
        {"att.ln_x.weight", &L.ln_x_w}, {"att.ln_x.bias", &L.ln_x_b}, {"ffn.x_k", &L.ffn_x_k},
        {"ffn.key.weight", &L.ffn_key}, {"ffn.value.weight", &L.ffn_value}};
    bool found = false;
    for (auto& e : table)
      if (r == e.name) { *e.slot = cur; found = true; break; }
    RWKV_CHECK(found, "unbound parameter {}", n);
  }
}

Rwkv7Params::Rwkv7Params(const Rwkv7Params& o) : Rwkv7Views(), cfg(o.cfg), data(o.data) {
  rwkv7_bind_views(*this, cfg, data.data());
}

Rwkv7Params& Rwkv7Params::operator=(const Rwkv7Params& o) {
  if (this != &o) {
    cfg = o.cfg;
    data = o.data;
    rwkv7_bind_views(*this, cfg, data.data());
  }
  return *this;
}

Rwkv7Params Rwkv7Params::zeros(const ModelConfig& cfg) {
  Rwkv7Params p;
  p.cfg = cfg;
  int64_t n = 0;
  for (auto& s : rwkv7_param_specs(cfg)) n += shape_numel(s.shape);
  p.cfg.n_params = n;
  p.data.assign(size_t(n), 0.f);
  rwkv7_bind_views(p, p.cfg, p.data.data());
  return p;
}

Rwkv7Params Rwkv7Params::from_state_dict(const StateDict& sd, const std::string& src) {
  Rwkv7Params p = zeros(rwkv7_config_from_state_dict(sd, src));
  float* dst = p.data.data();
  for (auto& s : rwkv7_param_specs(p.cfg)) {
    const int64_t n = shape_numel(s.shape);
    const Tensor* t = sd.find(s.name);
    if (!t) {
      if (!s.optional) fail("model", "{}: missing tensor '{}'", src, s.name);
    } else {
      if (t->numel() != n || (t->shape != s.shape && !(s.shape.size() == 3 && t->numel() == n)))
        fail("model", "{}: '{}' has shape {}, expected {}", src, s.name, shape_str(t->shape),
             shape_str(s.shape));
      if (t->dtype == DType::F32) {
        std::memcpy(dst, t->data, sizeof(float) * n);
      } else {
        if (t->dtype != DType::BF16 && t->dtype != DType::F16 && t->dtype != DType::F64)
          fail("model", "{}: '{}' has dtype {}, expected a float type", src, s.name,
               dtype_name(t->dtype));
        std::vector<float> f = t->to_f32_vec();
        std::memcpy(dst, f.data(), sizeof(float) * n);
      }
    }
    dst += n;
  }
  return p;
}

StateDict Rwkv7Params::to_state_dict(DType dt) const {
  StateDict sd;
  const float* src = data.data();
  for (auto& s : rwkv7_param_specs(cfg)) {
    Tensor t = Tensor::empty(DType::F32, s.shape);
    std::memcpy(t.data, src, t.nbytes());
    src += t.numel();
    sd.items.emplace_back(s.name, dt == DType::F32 ? t : t.to(dt));
  }
  return sd;
}

float* Rwkv7Params::find(const std::string& name, Rwkv7ParamSpec* spec) {
  float* p = data.data();
  for (auto& s : rwkv7_param_specs(cfg)) {
    if (s.name == name) {
      if (spec) *spec = s;
      return p;
    }
    p += shape_numel(s.shape);
  }
  return nullptr;
}

const float* Rwkv7Params::find(const std::string& name, Rwkv7ParamSpec* spec) const {
  return const_cast<Rwkv7Params*>(this)->find(name, spec);
}

void Rwkv7Params::set_zero() { std::fill(data.begin(), data.end(), 0.f); }

}  // namespace rwkv
