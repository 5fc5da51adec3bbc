// config.cpp — architecture detection (the rwkv pip package's rules, plus x070) and sizes.
#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "model/params456.h"
#include "model/rwkv2_params.h"
#include "model/rwkv7_params.h"

namespace rwkv {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::RWKV2: return "v2";
    case Arch::RWKV4: return "v4";
    case Arch::RWKV5: return "x050";
    case Arch::RWKV5_1: return "x051";
    case Arch::RWKV5_2: return "x052";
    case Arch::RWKV6: return "x060";
    case Arch::RWKV7: return "x070";
  }
  return "?";
}

namespace {

// Per-block parameter names (after "blocks.N.") of each layout, from the version's parameter
// table (model/<v>_params) for a one-layer model: the tables are the only lists of names.
std::set<std::string> block_names(const ParamTable& t) {
  std::set<std::string> r;
  for (auto& p : t)
    if (p.name.rfind("blocks.0.", 0) == 0) r.insert(p.name.substr(9));
  return r;
}

const std::set<std::string>& layout_names(Arch a) {
  static const std::map<Arch, std::set<std::string>> names = [] {
    ModelConfig c;  // sizes do not matter for names
    c.n_layer = 1, c.n_embd = 64, c.vocab_size = 16, c.n_head = 1, c.head_size = 64, c.dim_att = 64;
    c.dim_ffn = 256, c.d_decay = c.d_aaa = c.d_mv = c.d_gate = 32;
    std::map<Arch, std::set<std::string>> m;
    for (Arch x : {Arch::RWKV2, Arch::RWKV4, Arch::RWKV5, Arch::RWKV5_1, Arch::RWKV5_2, Arch::RWKV6, Arch::RWKV7}) {
      c.arch = x;
      switch (x) {
        case Arch::RWKV2: m[x] = block_names(rwkv2_params(c)); break;
        case Arch::RWKV4: m[x] = block_names(rwkv4_params(c)); break;
        case Arch::RWKV6: m[x] = block_names(rwkv6_params(c)); break;
        case Arch::RWKV7: m[x] = block_names(rwkv7_param_specs(c)); break;
        default:  // x050 / x051 / x052, with the bonus named time_faaaa or time_first
          m[x] = block_names(rwkv5_params(c, false));
          for (auto& n : block_names(rwkv5_params(c, true))) m[x].insert(n);
      }
    }
    return m;
  }();
  return names.at(a);
}

const std::set<std::string> kTop = {"emb.weight", "head.weight", "ln_out.weight", "ln_out.bias"};
// RWKV-2 enwik8 (head-QK trick) only
const std::set<std::string> kTopHeadQk = {"head_q.weight", "head_k.weight", "copy_mask"};

bool in_layout(Arch a, const std::string& sub) { return layout_names(a).count(sub) > 0; }


int dim(const StateDict& sd, const std::string& key, int d, const std::string& src) {
  const Tensor* tp = sd.find(key);
  if (!tp) fail("model", "{}: missing tensor '{}'", src, key);
  const Tensor& t = *tp;
  if (t.dim() <= d) fail("model", "{}: tensor '{}' has shape {}, expected at least {} dimensions", src, key, shape_str(t.shape), d + 1);
  return int(t.shape[d]);
}

}  // namespace

int split_block(const std::string& k, std::string* sub) {
  if (k.rfind("blocks.", 0) != 0) return -1;
  size_t dot = k.find('.', 7);
  if (dot == std::string::npos || dot == 7) return -1;
  int layer = 0;
  for (size_t i = 7; i < dot; i++) {
    if (k[i] < '0' || k[i] > '9') return -1;
    layer = layer * 10 + (k[i] - '0');
    if (layer > 1000000) return -1;
  }
  *sub = k.substr(dot + 1);
  return layer;
}

ModelConfig detect_config(const StateDict& sd, const std::string& src) {
  ModelConfig c;
  // 1. architecture: x070 by its own parameters, else the pip package's rules.
  bool v7 = false, v2 = false;
  std::string v7_key, v2_key;
  double version = 4;
  std::string pip_key;
  for (auto& item : sd.items) {
    const std::string& k = item.first;  // named references: the lambda below captures k
    const Tensor& t = item.second;
    std::string sub;
    if (split_block(k, &sub) < 0) continue;
    if (!v7 && (sub == "att.r_k" || sub == "att.x_r" || sub == "att.w0" || sub == "att.k_k")) { v7 = true; v7_key = k; }
    if (!v2 && sub == "att.time_mix") { v2 = true; v2_key = k; }  // RWKV-2: one mix (RWKV-4: time_mix_k/v/r)
    auto bump = [&](double v) { if (v > version) { version = v; pip_key = k; } };
    if (k.find("ln_x") != std::string::npos) bump(5);
    if (k.find("gate.weight") != std::string::npos) bump(5.1);
    if (int(version) == 5 && k.find("att.time_decay") != std::string::npos && t.dim() > 1 && t.shape[1] > 1) bump(5.2);
    if (k.find("time_maa") != std::string::npos) bump(6);
  }
  if (v7) { c.arch = Arch::RWKV7; c.arch_key = v7_key; }
  else if (v2) { c.arch = Arch::RWKV2; c.arch_key = v2_key; }
  else {
    c.arch = version >= 6 ? Arch::RWKV6 : version >= 5.2 ? Arch::RWKV5_2 : version >= 5.1 ? Arch::RWKV5_1
           : version >= 5 ? Arch::RWKV5 : Arch::RWKV4;
    c.arch_key = pip_key;
  }

  // 2. every key must belong to that layout; name the first that does not.
  int n_layer = 0;
  for (auto& [k, t] : sd.items) {
    std::string sub;
    int layer = split_block(k, &sub);
    if (layer < 0) {
      if (c.arch == Arch::RWKV2 && kTopHeadQk.count(k)) continue;
      if (!kTop.count(k)) fail("model", "{}: unknown key '{}' (not a parameter of an RWKV {} model)", src, k, arch_name(c.arch));
      continue;
    }
    n_layer = std::max(n_layer, layer + 1);
    if (in_layout(c.arch, sub)) continue;
    for (Arch other : {Arch::RWKV7, Arch::RWKV6, Arch::RWKV5_2, Arch::RWKV5_1, Arch::RWKV4, Arch::RWKV2})
      if (in_layout(other, sub))
        fail("model", "{}: mixed layout: key '{}' belongs to an {} model, but '{}' makes this an {} model", src, k,
             arch_name(other), c.arch_key.empty() ? "the other keys" : c.arch_key, arch_name(c.arch));
    fail("model", "{}: unknown key '{}' for an RWKV {} model", src, k, arch_name(c.arch));
  }
  if (!sd.has("emb.weight")) fail("model", "{}: missing tensor 'emb.weight' (not an RWKV model?)", src);
  if (n_layer == 0) fail("model", "{}: no 'blocks.N.*' tensors (not an RWKV model?)", src);
  c.n_layer = n_layer;
  c.vocab_size = dim(sd, "emb.weight", 0, src);
  c.n_embd = dim(sd, "emb.weight", 1, src);
  for (int l = 0; l < n_layer; l++)
    if (!sd.has(fmt::format("blocks.{}.ln1.weight", l)))
      fail("model", "{}: missing tensor 'blocks.{}.ln1.weight' ({} layers expected)", src, l, n_layer);
  const std::string b0 = "blocks.0.";
  for (auto& [k, t] : sd.items) c.n_params += t.numel();

  // 3. sizes per layout.
  c.dim_att = dim(sd, b0 + "att.key.weight", 0, src);
  c.dim_ffn = dim(sd, b0 + "ffn.key.weight", 0, src);
  switch (c.arch) {
    case Arch::RWKV4: c.n_head = 0; c.head_size = 0; break;
    case Arch::RWKV2:
      c.n_head = 0;
      c.head_size = 0;
      if (sd.has("head_q.weight")) {
        c.head_qk = dim(sd, "head_q.weight", 0, src);
        c.copy_len = dim(sd, "copy_mask", 0, src);
        if (c.copy_len < 1) fail("model", "{}: 'copy_mask' is empty (it sets the head-QK window)", src);
      }
      break;
    case Arch::RWKV5: case Arch::RWKV5_1: case Arch::RWKV5_2:
      c.n_head = dim(sd, b0 + "att.time_decay", 0, src);
      c.head_size = c.n_head ? c.dim_att / c.n_head : 0;
      break;
    case Arch::RWKV6:
      c.n_head = dim(sd, b0 + "att.time_faaaa", 0, src);
      c.head_size = c.n_head ? c.dim_att / c.n_head : 0;
      c.d_decay = dim(sd, b0 + "att.time_decay_w1", 1, src);
      break;
    case Arch::RWKV7: {
      c.n_head = dim(sd, b0 + "att.r_k", 0, src);
      c.head_size = dim(sd, b0 + "att.r_k", 1, src);
      c.d_decay = dim(sd, b0 + "att.w1", 1, src);
      c.d_aaa = dim(sd, b0 + "att.a1", 1, src);
      std::string vl = n_layer > 1 ? "blocks.1.att.v1" : b0 + "att.v1";
      c.d_mv = sd.has(vl) ? dim(sd, vl, 1, src) : 32;
      c.d_gate = dim(sd, b0 + "att.g1", 1, src);
      // every tensor must have the shape these sizes imply (layer 0's v0/v1/v2 are optional)
      for (auto& p : rwkv7_param_specs(c)) {
        const std::string& k = p.name;
        const Shape& s = p.shape;
        const Tensor* t = sd.find(k);
        if (!t) {
          if (p.optional) continue;
          fail("model", "{}: missing tensor '{}' (x070 with n_layer {}, n_embd {})", src, k, c.n_layer, c.n_embd);
        }
        if (t->shape != s)
          fail("model", "{}: tensor '{}' has shape {}, expected {} (x070 with n_embd {}, head_size {})", src, k,
               shape_str(t->shape), shape_str(s), c.n_embd, c.head_size);
      }
      break;
    }
  }
  return c;
}

void require_arch(const ModelConfig& cfg, Arch want, const std::string& src, const std::string& what) {
  if (cfg.arch == want) return;
  fail("model", "{}: this is an RWKV {} model (key '{}'); {} needs an {} model", src, arch_name(cfg.arch),
       cfg.arch_key, what, arch_name(want));
}

ModelConfig x070_config(int n_layer, int n_embd, int vocab_size, int head_size) {
  if (n_layer < 1 || n_embd < 1 || vocab_size < 1 || head_size < 1 || n_embd % head_size)
    fail("model", "bad x070 sizes: n_layer {}, n_embd {}, vocab_size {}, head_size {} (n_embd must be a multiple of head_size)",
         n_layer, n_embd, vocab_size, head_size);
  ModelConfig c;
  c.arch = Arch::RWKV7;
  c.n_layer = n_layer;
  c.n_embd = n_embd;
  c.vocab_size = vocab_size;
  c.head_size = head_size;
  c.n_head = n_embd / head_size;
  c.dim_att = n_embd;
  c.dim_ffn = 4 * n_embd;
  // max(32, int(round(k * C**0.5 / 32) * 32)); Python's round() rounds half to even.
  auto rank = [&](double k) { return std::max(32, int(std::nearbyint(k * std::sqrt(double(n_embd)) / 32) * 32)); };
  c.d_decay = rank(2.5);
  c.d_aaa = rank(2.5);
  c.d_mv = rank(1.7);
  c.d_gate = rank(5);
  for (auto& [k, s] : x070_param_shapes(c)) c.n_params += shape_numel(s);
  return c;
}

std::vector<std::pair<std::string, Shape>> x070_param_shapes(const ModelConfig& c) {
  std::vector<std::pair<std::string, Shape>> r;
  for (auto& p : rwkv7_param_specs(c)) r.emplace_back(p.name, p.shape);
  return r;
}

}  // namespace rwkv
