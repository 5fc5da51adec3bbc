// layer456.cpp — the shared parts of the RWKV-4/5/6 layers (see layer456.h).
#include "model/layer456.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/gemv.h"
#include "ops/row_invariant.h"
#include "ops/layernorm.h"
#include "ops/token_shift.h"

namespace rwkv {

namespace {
constexpr float kLnEps = 1e-5f, kLnxEps = 64e-5f;

}  // namespace

TableReader::TableReader(WeightStore& w, ParamTable table, const char* arch) : w_(w), table_(std::move(table)) {
  for (size_t i = 0; i < table_.size(); i++) index_.emplace(table_[i].name, i);
  for (const auto& [name, t] : w_.tensors().items)
    if (!index_.count(name)) fail("model", "{}: unknown tensor '{}' for an RWKV {} model", w_.source(), name, arch);
  for (const ParamSpec& s : table_) {
    const Tensor* t = w_.tensors().find(s.name);
    if (!t) {
      if (s.optional) continue;
      fail("model", "{}: missing tensor '{}' (RWKV {})", w_.source(), s.name, arch);
    }
    if (shape_squeezed(t->shape) != shape_squeezed(s.shape))
      fail("model", "{}: tensor '{}' has shape {}, expected {}", w_.source(), s.name, shape_str(t->shape),
           shape_str(s.shape));
  }
}

const ParamSpec& TableReader::spec(const std::string& name) const {
  auto it = index_.find(name);
  RWKV_CHECK(it != index_.end(), "'{}' is not in the parameter table", name);
  return table_[it->second];
}

const float* TableReader::vec(const std::string& name) { return w_.vec(name, spec(name).shape); }

void TableReader::ln(const std::string& prefix, const float** w, const float** b) {
  *w = vec(prefix + ".weight");
  *b = vec(prefix + ".bias");
}

const float* TableReader::opt_vec(const std::string& name) { return w_.has(name) ? vec(name) : nullptr; }

WeightMat TableReader::mat(const std::string& name) {
  const Shape& s = spec(name).shape;
  RWKV_CHECK(s.size() == 2, "'{}' is not a matrix", name);
  return w_.mat(name, s[0], s[1]);
}

std::vector<float> TableReader::one_minus(const std::string& name) {
  const float* p = vec(name);
  std::vector<float> r(size_t(shape_numel(spec(name).shape)));
  for (size_t i = 0; i < r.size(); i++) r[i] = 1.f - p[i];
  return r;
}

void ln_shift(float* xx, float* d, const float* x, const float* w, const float* b, int64_t M, int C,
              std::span<const SeqRun> runs, int64_t state_off) {
  layernorm_forward(xx, nullptr, nullptr, x, w, b, M, C, kLnEps);
  for (const SeqRun& q : runs) {
    float* st = q.state + state_off;
    token_shift_forward(d + q.row0 * C, xx + q.row0 * C, st, 1, int(q.n), C);
    std::memcpy(st, xx + (q.row0 + q.n - 1) * C, sizeof(float) * C);
  }
}

void project(std::span<const Proj> jobs, int64_t M) {
  constexpr size_t kMax = 8;
  if (M == 1 && jobs.size() <= kMax && !row_invariant_products()) {
    GemvJob g[kMax];
    for (size_t i = 0; i < jobs.size(); i++) {
      const WeightMat& W = *jobs[i].W;
      g[i] = GemvJob{jobs[i].y, jobs[i].x, W.p, W.dt, W.rows, W.cols};
      g[i].i8 = W.i8;
      g[i].q4 = W.q4;
    }
    gemv_batch(g, int(jobs.size()));
    return;
  }
  for (const Proj& j : jobs) linear_forward_mat(j.y, j.x, *j.W, M);
}

void ChannelMix456::load(TableReader& r, const std::string& p, int C_, int F_, Names names, int64_t off) {
  C = C_, F = F_, state_off = off;
  r.ln(p + "ln2", &ln_w, &ln_b);
  ln_replaces_x = names == Names::TimeMixOne;
  if (names == Names::TimeMixOne) {
    mu_k = mu_r = r.one_minus(p + "ffn.time_mix");
  } else if (names == Names::TimeMaa) {
    const float *k = r.vec(p + "ffn.time_maa_k"), *rr = r.vec(p + "ffn.time_maa_r");
    mu_k.assign(k, k + C);
    mu_r.assign(rr, rr + C);
  } else {
    mu_k = r.one_minus(p + "ffn.time_mix_k");
    mu_r = r.one_minus(p + "ffn.time_mix_r");
  }
  key = r.mat(p + "ffn.key.weight");
  receptance = r.mat(p + "ffn.receptance.weight");
  value = r.mat(p + "ffn.value.weight");
}

int64_t ChannelMix456::work_floats(int64_t M, int C, int F) { return M * (4 * int64_t(C) + F); }

void ChannelMix456::forward(float* x, int64_t M, std::span<const SeqRun> runs, float* work) const {
  const int64_t MC = M * C;
  float* xx = work;        // (M, C) ln2(x)
  float* d = xx + MC;      // (M, C) shift(xx) - xx, then W_r · rx
  float* kx = d + MC;      // (M, C) key input, then W_v · k
  float* rx = kx + MC;     // (M, C) receptance input
  float* k = rx + MC;      // (M, F)
  ln_shift(xx, d, x, ln_w, ln_b, M, C, runs, state_off);
  if (ln_replaces_x) std::memcpy(x, xx, sizeof(float) * MC);
  mix_forward(kx, xx, d, mu_k.data(), M, C);
  mix_forward(rx, xx, d, mu_r.data(), M, C);
  const Proj first[2] = {{k, kx, &key}, {d, rx, &receptance}};
  project(first, M);
  act_forward(k, k, M * F, Act::Relu2);
  linear_forward_mat(kx, k, value, M);
  act_forward(d, d, MC, Act::Sigmoid);
  addmul_forward(x, d, kx, MC);
}

float* take_work456(Arena& scratch, int64_t att_floats, int64_t M, const ModelConfig& cfg) {
  const int64_t n = std::max(att_floats, ChannelMix456::work_floats(M, cfg.n_embd, cfg.dim_ffn));
  return scratch.floats(size_t(n));
}

void WkvLayer56::load(TableReader& r, StateLayout& layout, int i, const ModelConfig& cfg, bool gate, bool maa) {
  const LayerKeys keys(i);
  const std::string &b = keys.block, &s = keys.state;
  const int64_t C = cfg.n_embd, H = cfg.n_head, N = cfg.head_size;
  r.ln(b + "ln1", &ln1_w, &ln1_b);
  lnx_w = r.vec(b + "att.ln_x.weight");
  lnx_b = r.vec(b + "att.ln_x.bias");
  key = r.mat(b + "att.key.weight");
  value = r.mat(b + "att.value.weight");
  receptance = r.mat(b + "att.receptance.weight");
  if (gate) this->gate = r.mat(b + "att.gate.weight");
  output = r.mat(b + "att.output.weight");
  off_x = layout.add(s + "att_x", {C});
  off_wkv = layout.add(s + "wkv", {H, N, N});
  if (const float* ts = r.opt_vec(b + "att.time_state"))
    std::memcpy(layout.initial.data() + off_wkv, ts, sizeof(float) * size_t(H * N * N));
  ffn.load(r, b, int(C), cfg.dim_ffn, maa ? ChannelMix456::Names::TimeMaa : ChannelMix456::Names::TimeMix,
           layout.add(s + "ffn_x", {C}));
}

void check_heads(const ModelConfig& cfg, const std::string& source, const char* key) {
  if (cfg.n_head <= 0 || int64_t(cfg.n_head) * cfg.head_size != cfg.dim_att)
    fail("model", "{}: {} has {} heads, which does not divide dim_att {}", source, key, cfg.n_head, cfg.dim_att);
}

void wkv_tail456(float* x, float* y, const float* g, const float* lnx_w, const float* lnx_b,
                 const WeightMat& W_o, int64_t M, int H, int N, int C) {
  const int A = H * N;
  groupnorm_forward(y, nullptr, nullptr, y, lnx_w, lnx_b, M, A, H, kLnxEps);
  if (g) mul_forward(y, y, g, M * A);
  linear_forward_mat(x, y, W_o, M, /*accumulate=*/true);
}

}  // namespace rwkv
