// init56.cpp — the official RWKV-5.2 (x052) / RWKV-6 (x060) initialisation of RWKV-LM
// RWKV-v5/src/model.py (RWKV_Tmix_x052/_x060, RWKV_CMix_x052/_x060 __init__, then
// RWKV.generate_init_weight), as train.py --my_pile_stage 1 writes rwkv-init.pth (see init.h).
// Deterministic tensors follow torch's fp32 arithmetic; random ones (orthogonal, uniform) come
// from our own seeded generator, drawn per tensor.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/torch_powf.h"
#include "model/init.h"
#include "model/rwkv56_params.h"

namespace rwkv {

namespace {

bool has(const std::string& s, const char* sub) { return s.find(sub) != std::string::npos; }
// Our draws for x052/x060 differ from x070's for the same seed and name.
constexpr uint64_t kSeedSalt = 0x5605;

// The module's own value of a block vector parameter (`sub` after "blocks.{l}."), fp32.
bool module_value(std::vector<float>& out, const std::string& sub, int l, const ModelConfig& c) {
  const int C = c.n_embd, A = c.dim_att, L = c.n_layer;
  const double r01 = L > 1 ? double(l) / (L - 1) : 0.0;  // ratio_0_to_1
  const double r10 = 1.0 - double(l) / L;                // ratio_1_to_almost0
  std::vector<float> ddd(static_cast<size_t>(C));
  for (int i = 0; i < C; i++) ddd[size_t(i)] = float(double(i) / C);
  // torch.pow(ddd, e) [+ add], or 1 - that: torch's fp32 tensor pow, whose vectorised body rounds
  // like Sleef's 1-ulp powf rather than correctly (core/torch_powf.h), so the vectors match bit for bit.
  auto pw = [&](double e, bool one_minus, double add) {
    const float af = float(add);
    out.resize(size_t(C));
    torch_pow_tensor_scalar(ddd.data(), out.data(), size_t(C), e);
    for (int i = 0; i < C; i++) {
      float p = out[size_t(i)] + af;
      out[size_t(i)] = one_minus ? 1.0f - p : p;
    }
  };
  const bool v6 = c.arch == Arch::RWKV6;
  if (sub == "att.time_mix_k" || sub == "ffn.time_mix_k" || sub == "ffn.time_mix_r") pw(r10, false, 0);
  else if (sub == "att.time_mix_v") pw(r10, false, 0.3 * r01);
  else if (sub == "att.time_mix_r" || sub == "att.time_mix_g") pw(0.5 * r10, false, 0);
  else if (sub == "att.time_maa_x" || sub == "att.time_maa_w" || sub == "att.time_maa_k") pw(r10, true, 0);
  else if (sub == "att.time_maa_v") pw(r10, true, 0.3 * r01);
  else if (sub == "att.time_maa_r" || sub == "att.time_maa_g") pw(0.5 * r10, true, 0);
  else if (v6 && (sub == "ffn.time_maa_k" || sub == "ffn.time_maa_r")) pw(r10 * r10 * r10, true, 0);
  else if (sub == "att.time_decay") {
    out.resize(size_t(A));
    for (int n = 0; n < A; n++) out[size_t(n)] = float(-6 + 5 * std::pow(double(n) / (A - 1), 0.7 + 1.3 * r01));
  } else if (sub == "att.time_faaaa") {
    out.resize(size_t(A));
    for (int n = 0; n < A; n++)
      out[size_t(n)] = float(r01 * (1 - double(n) / (A - 1)) + (((n + 1) % 3) - 1) * 0.1);
  } else if (sub == "att.ln_x.weight") {  // generate_init_weight: (p*0.0) + layer_scale**0.7
    out.assign(size_t(A), 0.0f + float(std::pow(double(1 + l) / L, 0.7)));
  } else {
    return false;
  }
  return true;
}

}  // namespace

InitRule rwkv56_init_rule(const std::string& n, const Shape& shape, const ModelConfig& cfg) {
  InitRule r;
  if (has(n, "ln_") || has(n, ".ln") || has(n, "time_") || n.ends_with("_w") || n.ends_with("_w1") || n.ends_with("_w2") ||
      n.ends_with("_bias") || !has(n, ".weight")) {
    r.kind = InitRule::Module;
    if (n.ends_with("time_maa_w2") || n.ends_with("time_decay_w2")) r.kind = InitRule::Uniform, r.scale = 0.01;
    return r;
  }
  if (n == "emb.weight") {
    r.kind = InitRule::Uniform, r.scale = -1e-4;
    return r;
  }
  // gain 1 times the tensor kind's scale; only head.weight gets sqrt(V / C) when V > C (the
  // official files: ffn.key (F, C) is orthogonal with gain 1)
  double gain = 1.0, scale = 1.0;
  for (const char* z : {".att.output.", ".ffn.value.", ".ffn.receptance."})
    if (has(n, z)) scale = 0;
  if (n == "head.weight") {
    scale = 0.5;
    if (cfg.vocab_size > cfg.n_embd) gain = std::sqrt(double(cfg.vocab_size) / cfg.n_embd);
  }
  if (has(n, ".att.key.") || has(n, ".att.gate.")) scale = 0.1;
  r.kind = scale == 0 ? InitRule::Zero : InitRule::Orthogonal;
  r.scale = gain * scale;
  return r;
}

StateDict rwkv56_init(const ModelConfig& cfg, uint64_t seed, DType dtype,
                      const std::function<void(const std::string&, const Shape&, const InitRule&)>& on_param) {
  if (cfg.arch != Arch::RWKV5_2 && cfg.arch != Arch::RWKV6) fail("init", "rwkv56_init: x052 or x060 only");
  StateDict sd;
  for (const ParamSpec& spec : rwkv56_param_table(cfg)) {
    const std::string& name = spec.name;
    InitRule rule = rwkv56_init_rule(name, spec.shape, cfg);
    if (on_param) on_param(name, spec.shape, rule);
    const int64_t numel = shape_numel(spec.shape);
    Tensor f = Tensor::zeros(DType::F32, spec.shape);
    float* p = f.ptr<float>();
    switch (rule.kind) {
      case InitRule::Zero: break;
      case InitRule::Uniform: {
        std::mt19937_64 rng(init_tensor_seed(seed, name, kSeedSalt));
        std::uniform_real_distribution<double> u(-std::fabs(rule.scale), std::fabs(rule.scale));
        for (int64_t i = 0; i < numel; i++) p[i] = float(u(rng));
      } break;
      case InitRule::Orthogonal: {
        std::vector<double> w(static_cast<size_t>(numel));
        orthogonal_fill(w.data(), spec.shape[0], numel / spec.shape[0], rule.scale, init_tensor_seed(seed, name, kSeedSalt));
        for (int64_t i = 0; i < numel; i++) p[i] = float(w[size_t(i)]);
      } break;
      case InitRule::Module: {
        std::string sub;
        const int layer = split_block(name, &sub);
        std::vector<float> v;
        if (name.ends_with("ln0.weight") || name.ends_with("ln1.weight") || name.ends_with("ln2.weight") || name == "ln_out.weight") {
          for (int64_t i = 0; i < numel; i++) p[i] = 1.0f;
        } else if (module_value(v, sub, layer, cfg)) {
          if (int64_t(v.size()) != numel) fail("init", "'{}': {} values for {}", name, v.size(), shape_str(spec.shape));
          std::memcpy(p, v.data(), sizeof(float) * size_t(numel));
        } else if (!(name.ends_with(".bias") || name.ends_with("_w1"))) {
          fail("init", "no module formula for '{}'", name);
        }  // biases and the LoRA down-projections stay 0
      } break;
    }
    sd.items.emplace_back(name, dtype == DType::F32 ? f : f.to(dtype));
  }
  return sd;
}

}  // namespace rwkv
