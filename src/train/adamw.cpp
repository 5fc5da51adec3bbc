// adamw.cpp — see adamw.h. fp32 state, double bias corrections, OpenMP over elements.
#include "train/adamw.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "model/param_table.h"

namespace rwkv::train {

ParamGroup param_group(const std::string& name, const Shape& shape, double weight_decay) {
  switch (param_group_of(name, shape)) {  // the model's table rule (model/param_table.h)
    case rwkv::ParamGroup::Lr2x: return ParamGroup::Lr2x;
    case rwkv::ParamGroup::Decay: return weight_decay > 0 ? ParamGroup::Decay : ParamGroup::Lr1x;
    case rwkv::ParamGroup::Plain: break;
  }
  return ParamGroup::Lr1x;
}

AdamW::AdamW(std::vector<ParamSlot> slots, size_t total, AdamWConfig cfg)
    : AdamW(std::move(slots), total, cfg, 0, total) {}

AdamW::AdamW(std::vector<ParamSlot> slots, size_t total, AdamWConfig cfg, size_t begin, size_t end)
    : slots_(std::move(slots)), cfg_(cfg), m_(end - begin, 0.f), v_(end - begin, 0.f), begin_(begin), end_(end) {
  RWKV_CHECK(begin <= end && end <= total, "optimizer range [{}, {}) of {} floats", begin, end, total);
  for (auto& s : slots_) {
    RWKV_CHECK(s.offset + s.numel <= total, "slot {} out of range", s.name);
    ParamGroup g = param_group(s.name, s.shape, cfg_.weight_decay);
    if (!cfg_.layerwise_lr && g == ParamGroup::Lr2x) g = ParamGroup::Lr1x;
    groups_.push_back(g);
  }
}

void AdamW::step_range(float* params, const float* grads, double lr) {
  t_++;
  const double bc1 = 1.0 - std::pow(cfg_.beta1, double(t_));
  const double bc2 = 1.0 - std::pow(cfg_.beta2, double(t_));
  const float b1 = float(cfg_.beta1), b2 = float(cfg_.beta2);
  const float eps = float(cfg_.eps);
  const float inv_bc1 = float(1.0 / bc1), inv_bc2 = float(1.0 / bc2);
  for (size_t si = 0; si < slots_.size(); si++) {
    const ParamSlot& s = slots_[si];
    const ParamGroup g = groups_[si];
    const float lr_g = float(lr * (g == ParamGroup::Lr2x ? 2.0 : 1.0));
    const float wd = g == ParamGroup::Decay ? float(cfg_.weight_decay) : 0.f;
    const size_t lo = std::max(s.offset, begin_), hi = std::min(s.offset + s.numel, end_);
    if (lo >= hi) continue;  // the slot lies outside this optimizer's range
    float* p = params + (lo - begin_);
    const float* gr = grads + (lo - begin_);
    float* m = m_.data() + (lo - begin_);
    float* v = v_.data() + (lo - begin_);
    const int64_t n = int64_t(hi - lo);
#pragma omp parallel for schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; i++) {
      float gi = gr[i];
      float mi = b1 * m[i] + (1.f - b1) * gi;
      float vi = b2 * v[i] + (1.f - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      float denom = std::sqrt(vi * inv_bc2) + eps;
      float u = (mi * inv_bc1) / denom + wd * p[i];
      p[i] -= lr_g * u;
    }
  }
}

double grad_norm(const float* g, size_t n) {
  double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (n > 65536)
  for (int64_t i = 0; i < int64_t(n); i++) s += double(g[i]) * double(g[i]);
  return std::sqrt(s);
}

double clip_grad_norm(float* g, size_t n, double norm, double max_norm) {
  if (max_norm <= 0) return 1.0;
  double coef = max_norm / (norm + 1e-6);
  if (coef >= 1.0) return 1.0;
  const float c = float(coef);
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < int64_t(n); i++) g[i] *= c;
  return coef;
}

}  // namespace rwkv::train
