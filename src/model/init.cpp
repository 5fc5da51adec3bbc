// init.cpp — the official x070 initialisation (see init.h). Formulas follow RWKV-LM
// train_temp/src/model.py; every deterministic value is computed the way torch does it: Python
// doubles stored into fp32 tensors, then fp32 tensor arithmetic with fp32-cast scalars.
#include "model/init.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"

extern "C" {
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work, const int* lwork, int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau, double* work,
             const int* lwork, int* info);
}

namespace rwkv {

namespace {

bool contains(const std::string& s, const char* sub) { return s.find(sub) != std::string::npos; }

// Module-level values of one block parameter (model.py __init__), as fp32 (shape-flat, C values).
std::vector<float> module_vector(const std::string& sub, int layer, const ModelConfig& c) {
  const int C = c.n_embd, N = c.head_size, L = c.n_layer;
  const double r01 = L > 1 ? double(layer) / (L - 1) : 0.0;  // ratio_0_to_1
  const double r1a0 = 1.0 - double(layer) / L;                 // ratio_1_to_almost0
  std::vector<float> ddd(C), lin(C), zz(C), www(C), out(C);
  for (int i = 0; i < C; i++) {
    ddd[i] = float(double(i) / C);
    lin[i] = float(double(i) / (C - 1) - 0.5);
    float z = float(((i % N) - (N - 1) / 2.0) / ((N - 1) / 2.0));
    zz[i] = z * std::fabs(z);
    www[i] = float(-6 + 6 * std::pow(double(i) / (C - 1), 1 + 1 * std::pow(r01, 0.3)));
  }
  auto one_minus_pow = [&](double e) {
    float ef = float(e);
    for (int i = 0; i < C; i++) out[i] = 1.0f - std::pow(ddd[i], ef);
  };
  if (sub == "att.x_r" || sub == "att.x_g") one_minus_pow(0.2 * r1a0);
  else if (sub == "att.x_w" || sub == "att.x_a") one_minus_pow(0.9 * r1a0);
  else if (sub == "att.x_k" || sub == "att.x_v") one_minus_pow(0.7 * r1a0);
  else if (sub == "ffn.x_k") one_minus_pow(std::pow(r1a0, 4));
  else if (sub == "att.w0") for (int i = 0; i < C; i++) out[i] = (www[i] + 0.5f) + zz[i] * 2.5f;
  else if (sub == "att.a0") for (int i = 0; i < C; i++) out[i] = ((0.0f - 0.19f) + zz[i] * 0.3f) + lin[i] * 0.4f;
  else if (sub == "att.v0") for (int i = 0; i < C; i++) out[i] = (0.0f + 0.73f) - lin[i] * 0.4f;
  else if (sub == "att.k_k") for (int i = 0; i < C; i++) out[i] = (0.0f + 0.71f) - lin[i] * 0.1f;
  else if (sub == "att.k_a") for (int i = 0; i < C; i++) out[i] = 0.0f + 1.02f;
  else if (sub == "att.ln_x.weight") {  // generate_init_weight: (p*0.0) + layer_scale**0.7
    float v = float(std::pow(double(1 + layer) / L, 0.7));
    for (int i = 0; i < C; i++) out[i] = 0.0f + v;
  } else fail("init", "no module formula for '{}'", sub);
  return out;
}

}  // namespace

InitRule x070_init_rule(const std::string& n, const ModelConfig& cfg) {
  InitRule r;
  bool keep = contains(n, "ln_") || contains(n, ".ln") || contains(n, "time_") || contains(n, "_mask") ||
              contains(n, "pos_emb") || contains(n, ".mask.") || n.ends_with("_w") || n.ends_with("_w1") ||
              n.ends_with("_w2") || n.ends_with("_bias") || !contains(n, ".weight");
  if (keep) {  // the module's own init
    r.kind = InitRule::Module;
    if (n.ends_with("att.w2") || n.ends_with("att.a2") || n.ends_with("att.v2") || n.ends_with("att.g2")) {
      // ortho_init(x, 0.1) in RWKV_Tmix_x070.__init__: gain sqrt(rows/cols) if rows > cols, else 1
      r.kind = InitRule::Orthogonal;
      int64_t rows = n.ends_with("att.w2") ? cfg.d_decay : n.ends_with("att.a2") ? cfg.d_aaa
                   : n.ends_with("att.v2") ? cfg.d_mv : cfg.d_gate;
      r.scale = 0.1 * (rows > cfg.n_embd ? std::sqrt(double(rows) / cfg.n_embd) : 1.0);
    }
    return r;
  }
  if (n == "emb.weight") { r.kind = InitRule::Uniform; r.scale = -1e-4; return r; }
  if (n == "head.weight") {
    r.kind = InitRule::Orthogonal;
    r.scale = cfg.vocab_size > cfg.n_embd ? 0.5 * std::sqrt(double(cfg.vocab_size) / cfg.n_embd) : 0.5;
    return r;
  }
  r.kind = InitRule::Orthogonal;
  r.scale = 1.0;
  for (const char* z : {".att.output.", ".ffn.value.", ".ffn.receptance.", ".ffnPre.value.", ".ffnPre.receptance.", "head_q.", ".oo.", ".rr."})
    if (contains(n, z)) r.scale = 0;
  if (contains(n, ".att.key.") || contains(n, ".att.gate.")) r.scale = 0.1;
  if (r.scale == 0) r.kind = InitRule::Zero;
  return r;
}

void orthogonal_fill(double* out, int64_t rows, int64_t cols, double gain, uint64_t seed) {
  const int64_t m = std::max(rows, cols), n = std::min(rows, cols);
  if (m > INT32_MAX || n == 0) fail("init", "orthogonal init of a {}x{} matrix is not supported", rows, cols);
  std::vector<double> a(static_cast<size_t>(m * n)), tau(static_cast<size_t>(n));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (auto& x : a) x = normal(rng);  // column-major m x n
  int M = int(m), Nn = int(n), info = 0, lwork = -1;
  double wq = 0;
  dgeqrf_(&M, &Nn, a.data(), &M, tau.data(), &wq, &lwork, &info);
  lwork = std::max(1, int(wq));
  std::vector<double> work(static_cast<size_t>(lwork));
  dgeqrf_(&M, &Nn, a.data(), &M, tau.data(), work.data(), &lwork, &info);
  if (info != 0) fail("init", "QR failed (dgeqrf info {})", info);
  std::vector<double> sign(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; j++) sign[j] = a[size_t(j + j * m)] < 0 ? -1.0 : 1.0;  // sign(diag(R))
  lwork = -1;
  dorgqr_(&M, &Nn, &Nn, a.data(), &M, tau.data(), &wq, &lwork, &info);
  lwork = std::max(1, int(wq));
  work.assign(size_t(lwork), 0);
  dorgqr_(&M, &Nn, &Nn, a.data(), &M, tau.data(), work.data(), &lwork, &info);
  if (info != 0) fail("init", "QR failed (dorgqr info {})", info);
  // Q (m x n, column-major) * sign -> rows x cols row-major: W = Q (rows >= cols) or Q^T.
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) {
      int64_t i = rows >= cols ? r : c, j = rows >= cols ? c : r;
      out[r * cols + c] = a[size_t(i + j * m)] * sign[size_t(j)] * gain;
    }
}

StateDict x070_init(const ModelConfig& cfg, uint64_t seed, DType dtype,
                    const std::function<void(const std::string&, const Shape&, const InitRule&)>& on_param) {
  if (cfg.arch != Arch::RWKV7) fail("init", "only x070 models can be initialised");
  StateDict sd;
  for (auto& [name, shape] : x070_param_shapes(cfg)) {
    InitRule rule = x070_init_rule(name, cfg);
    if (on_param) on_param(name, shape, rule);
    const int64_t numel = shape_numel(shape);
    Tensor f = Tensor::empty(DType::F32, shape);  // torch builds fp32, then casts
    float* p = f.ptr<float>();
    std::string sub;
    const int layer = split_block(name, &sub);
    switch (rule.kind) {
      case InitRule::Zero: std::memset(p, 0, numel * 4); break;
      case InitRule::Uniform: {
        std::mt19937_64 rng(init_tensor_seed(seed, name));
        std::uniform_real_distribution<double> u(-std::fabs(rule.scale), std::fabs(rule.scale));
        for (int64_t i = 0; i < numel; i++) p[i] = float(u(rng));
      } break;
      case InitRule::Orthogonal: {
        std::vector<double> w(static_cast<size_t>(numel));
        orthogonal_fill(w.data(), shape[0], numel / shape[0], rule.scale, init_tensor_seed(seed, name));
        for (int64_t i = 0; i < numel; i++) p[i] = float(w[size_t(i)]);
      } break;
      case InitRule::Module: {
        if (sub.ends_with("ln1.weight") || sub.ends_with("ln2.weight") || sub.ends_with("ln0.weight") ||
            name == "ln_out.weight") {
          for (int64_t i = 0; i < numel; i++) p[i] = 1.0f;
        } else if (name.ends_with(".bias") || sub == "att.w1" || sub == "att.a1" || sub == "att.v1" || sub == "att.g1") {
          std::memset(p, 0, numel * 4);  // LayerNorm/GroupNorm biases, LoRA down-projections
        } else if (sub == "att.r_k") {
          for (int64_t i = 0; i < numel; i++) p[i] = 0.0f - 0.04f;
        } else {
          auto v = module_vector(sub, layer, cfg);
          if (int64_t(v.size()) != numel) fail("init", "'{}': {} values for {}", name, v.size(), shape_str(shape));
          std::memcpy(p, v.data(), numel * 4);
        }
      } break;
    }
    sd.items.emplace_back(name, dtype == DType::F32 ? f : f.to(dtype));
  }
  return sd;
}

uint64_t init_tensor_seed(uint64_t seed, const std::string& name, uint64_t salt) {
  uint64_t h = 1469598103934665603ull ^ (seed * 0x9E3779B97F4A7C15ull) ^ salt;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace rwkv
