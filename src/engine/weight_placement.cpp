// weight_placement.cpp — per-layer weight conversion for a strategy plan (see weight_placement.h).
#include "engine/weight_placement.h"

#include <set>

#include "core/error.h"
#include "model/weights.h"
#include "ops/mm8.h"
#include "ops/q4.h"

namespace rwkv {

namespace {
// x rounded to dt and back (the package casts mx, rx, my, ry to its activation type).
void round_to(std::vector<float>& v, DType dt) {
  if (dt == DType::BF16)
    for (float& x : v) x = bf16_to_f32(f32_to_bf16(x));
  else if (dt == DType::F16)
    for (float& x : v) x = f16_to_f32(f32_to_f16(x));
}
}  // namespace

bool mm8_quantizable(const std::string& name, const Tensor& t) {
  return shape_squeezed(t.shape).size() == 2 && t.shape.size() == 2 && name.ends_with(".weight") &&
         name.find("emb") == std::string::npos && name.find("_w1") == std::string::npos &&
         name.find("_w2") == std::string::npos && is_float(t.dtype);
}

void mm8_quantize_into(StateDict& out, const std::string& name, const Tensor& W, DType scale_dt) {
  const int64_t N = W.shape[0], K = W.shape[1];
  const Tensor w32 = W.dtype == DType::F32 ? W : W.to(DType::F32);
  Tensor q = Tensor::empty(DType::U8, {N, K});
  std::vector<float> mx(N), rx(N), my(K), ry(K);
  mm8_quantize(q.ptr<uint8_t>(), mx.data(), rx.data(), my.data(), ry.data(), w32.ptr<float>(), N, K);
  out.set(name, std::move(q));
  std::vector<float>* v[4] = {&mx, &rx, &my, &ry};
  for (int k = 0; k < 4; k++) {
    round_to(*v[k], scale_dt);
    Tensor t = Tensor::empty(DType::F32, {int64_t(v[k]->size())});
    std::copy(v[k]->begin(), v[k]->end(), t.ptr<float>());
    out.set(name + kMm8Suffixes[k], std::move(t));
  }
}

void q4_quantize_into(StateDict& out, const std::string& name, const Tensor& W) {
  const int64_t N = W.shape[0], K = W.shape[1];
  const Tensor w32 = W.dtype == DType::F32 ? W : W.to(DType::F32);
  Tensor q = Tensor::empty(DType::U8, {N, K / 2});
  Tensor d = Tensor::empty(DType::F16, {N, K / kQ4Block}), m = Tensor::empty(DType::F16, {N, K / kQ4Block});
  try {
    q4_quantize(q.ptr<uint8_t>(), d.ptr<uint16_t>(), m.ptr<uint16_t>(), w32.ptr<float>(), N, K);
  } catch (const Error& e) {
    fail("engine", "{}: {}", name, e.what());
  }
  out.set(name, std::move(q));
  out.set(name + kQ4Suffixes[0], std::move(d));
  out.set(name + kQ4Suffixes[1], std::move(m));
}

StateDict place_weights(StateDict sd, const std::vector<LayerPlacement>& plan, const std::string& source) {
  const int n_layer = int(plan.size()) - 1;
  std::set<std::string> companions;  // of matrices already int8 or q4: left as they are
  for (auto& [name, t] : sd.items)
    if (t.dtype == DType::U8) {
      for (const char* suf : kMm8Suffixes) companions.insert(name + suf);
      for (const char* suf : kQ4Suffixes) companions.insert(name + suf);
    }
  std::vector<size_t> to_quantize;
  for (size_t i = 0; i < sd.items.size(); i++) {
    auto& [name, t] = sd.items[i];
    if (companions.count(name) || !is_float(t.dtype)) continue;
    const LayerPlacement& p = plan[size_t(strategy_layer_of(name, n_layer))];
    if (p.quant_bits != 0 && p.quant_bits != 8)
      fail("engine", "{}: strategy stage {} asks for i{} weights; only i8 and q4 are supported", source, p.stage + 1, p.quant_bits);
    if ((p.quant_bits == 8 || (p.q4 && t.dim() == 2 && t.shape[1] % kQ4Block == 0)) && mm8_quantizable(name, t)) {
      to_quantize.push_back(i);
      continue;
    }
    if (t.dtype != p.atype) t = t.to(p.atype);
  }
  // Each matrix on its own thread (the conversion itself is sequential: it must round as torch does).
  std::vector<StateDict> parts(to_quantize.size());
  std::vector<std::string> errors(to_quantize.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t j = 0; j < to_quantize.size(); j++) {
    const auto& [name, t] = sd.items[to_quantize[j]];
    const LayerPlacement& p = plan[size_t(strategy_layer_of(name, n_layer))];
    try {  // no exception may leave the parallel region
      if (p.q4) q4_quantize_into(parts[j], name, t);
      else mm8_quantize_into(parts[j], name, t, p.atype);
    } catch (const Error& e) {
      errors[j] = e.what();
    }
  }
  for (const std::string& e : errors)
    if (!e.empty()) fail("engine", "{}: {}", source, e);
  for (StateDict& part : parts)
    for (auto& [name, t] : part.items) sd.set(name, std::move(t));
  return sd;
}

}  // namespace rwkv
