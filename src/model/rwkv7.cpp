// rwkv7.cpp — RWKV-7 inference on the CPU: weight resolution (fp32 tensors, and bf16/fp16 GEMM
// matrices, are used in place, zero-copy; the small bf16/fp16 vectors and LoRA factors are
// converted to fp32 once at load), the recurrent state, and
// the forward over T tokens in GPT mode, chunked so memory stays bounded for long prompts.
#include "model/rwkv7.h"

#include <cstring>

#include "core/error.h"
#include "model/rwkv7_block.h"
#include "model/rwkv7_params.h"
#include "ops/embedding.h"
#include "ops/gemv.h"
#include "ops/layernorm.h"
#include "ops/matmul.h"

namespace rwkv {

namespace {

constexpr int kChunk = 128;  // tokens per pass; activations ~40*C floats per token

struct Rwkv7Impl {
  Rwkv7Views v;                      // fp32 views (null for matrices kept as stored)
  std::vector<Rwkv7LayerMats> mats;  // per layer: bf16/fp16 matrices used in place
  Rwkv7Mat head;
};

// The matrices read by a GEMM/GEMV: kept in a bf16/fp16 file's dtype (zero-copy).
bool is_big_matrix(const std::string& n) {
  auto ends = [&](const char* suf) {
    size_t k = std::strlen(suf);
    return n.size() >= k && n.compare(n.size() - k, k, suf) == 0;
  };
  return n == "head.weight" || ends(".att.receptance.weight") || ends(".att.key.weight") ||
         ends(".att.value.weight") || ends(".att.output.weight") || ends(".ffn.key.weight") ||
         ends(".ffn.value.weight");
}

const Rwkv7Impl& impl_of(const Rwkv7Model& m) {
  RWKV_CHECK(m.impl, "Rwkv7Model used before from_state_dict");
  return *static_cast<const Rwkv7Impl*>(m.impl.get());
}

}  // namespace

Rwkv7Model Rwkv7Model::from_state_dict(StateDict sd, const std::string& source) {
  Rwkv7Model m;
  m.cfg = rwkv7_config_from_state_dict(sd, source);
  auto impl = std::make_shared<Rwkv7Impl>();
  // Resolve every parameter to an fp32 pointer, in the official order; the big matrices are
  // also read as stored (pointer + dtype in `stored`; bf16/fp16 ones only so, no fp32 copy).
  std::vector<float*> ptrs;
  std::vector<Rwkv7Mat> stored;
  for (auto& s : rwkv7_param_specs(m.cfg)) {
    stored.push_back({});
    const Tensor* t = sd.find(s.name);
    const int64_t n = shape_numel(s.shape);
    if (!t) {
      if (s.name.rfind("blocks.0.att.v", 0) != 0) fail("model", "{}: missing tensor '{}'", source, s.name);
      m.owned.push_back(Tensor::zeros(DType::F32, s.shape));  // unused in layer 0
      ptrs.push_back(m.owned.back().ptr<float>());
      continue;
    }
    if (t->numel() != n || (t->shape != s.shape && s.shape.size() != 3))
      fail("model", "{}: '{}' has shape {}, expected {}", source, s.name, shape_str(t->shape),
           shape_str(s.shape));
    if (t->dtype == DType::F32) {
      ptrs.push_back(t->ptr<float>());
      if (is_big_matrix(s.name)) stored.back() = {t->data, t->dtype};  // also read in place
    } else if ((t->dtype == DType::BF16 || t->dtype == DType::F16) && is_big_matrix(s.name)) {
      stored.back() = {t->data, t->dtype};
      ptrs.push_back(nullptr);
    } else {
      if (t->dtype != DType::BF16 && t->dtype != DType::F16 && t->dtype != DType::F64)
        fail("model", "{}: '{}' has dtype {}, expected a float type", source, s.name,
             dtype_name(t->dtype));
      m.owned.push_back(t->to(DType::F32));
      ptrs.push_back(m.owned.back().ptr<float>());
    }
  }
  rwkv7_bind_views(impl->v, m.cfg, [&](size_t i, const Rwkv7ParamSpec&) { return ptrs[i]; });
  impl->mats.assign(m.cfg.n_layer, Rwkv7LayerMats{});
  {
    const auto specs = rwkv7_param_specs(m.cfg);
    for (size_t i = 0; i < specs.size(); i++) {
      if (!stored[i].p) continue;
      const std::string& n = specs[i].name;
      if (n == "head.weight") {
        impl->head = stored[i];
        continue;
      }
      const int l = std::stoi(n.substr(7, n.find('.', 7) - 7));
      Rwkv7LayerMats& mm = impl->mats[l];
      Rwkv7Mat* slot = n.find(".att.receptance.") != std::string::npos ? &mm.receptance
                       : n.find(".att.key.") != std::string::npos      ? &mm.key
                       : n.find(".att.value.") != std::string::npos    ? &mm.value
                       : n.find(".att.output.") != std::string::npos   ? &mm.output
                       : n.find(".ffn.key.") != std::string::npos      ? &mm.ffn_key
                                                                       : &mm.ffn_value;
      *slot = stored[i];
    }
  }
  // LoRA factors for decode (see Rwkv7LayerMats): the first ones transposed once into the file's
  // float dtype (exact: the fp32 views hold the file's values), the second ones read in place.
  for (int l = 0; l < m.cfg.n_layer; l++) {
    const Rwkv7LayerParams& lw = impl->v.layers[l];
    Rwkv7LayerMats& mm = impl->mats[l];
    const std::string pre = fmt::format("blocks.{}.att.", l);
    const int64_t C = m.cfg.n_embd;
    auto first = [&](const char* name, const float* w, int64_t D, Rwkv7Mat& slot) {  // w (C, D)
      const Tensor* t = sd.find(pre + name);
      if (!t || !w) return;  // layer 0 has no v1/v2
      Tensor tt = Tensor::empty(DType::F32, {D, C});
      float* o = tt.ptr<float>();
      for (int64_t c = 0; c < C; c++)
        for (int64_t j = 0; j < D; j++) o[j * C + c] = w[c * D + j];
      if (t->dtype == DType::BF16 || t->dtype == DType::F16) tt = tt.to(t->dtype);
      slot = {tt.data, tt.dtype};
      m.owned.push_back(std::move(tt));
    };
    auto second = [&](const char* name, const float* w, Rwkv7Mat& slot) {  // w (D, C)
      const Tensor* t = sd.find(pre + name);
      if (!t || !w) return;
      slot = (t->dtype == DType::BF16 || t->dtype == DType::F16) ? Rwkv7Mat{t->data, t->dtype} : Rwkv7Mat{w, DType::F32};
    };
    first("w1", lw.w1, m.cfg.d_decay, mm.w1t);
    first("a1", lw.a1, m.cfg.d_aaa, mm.a1t);
    first("g1", lw.g1, m.cfg.d_gate, mm.g1t);
    second("w2", lw.w2, mm.w2);
    second("a2", lw.a2, mm.a2);
    second("g2", lw.g2, mm.g2);
    if (l > 0) {
      first("v1", lw.v1, m.cfg.d_mv, mm.v1t);
      second("v2", lw.v2, mm.v2);
    }
  }
  m.weights = std::move(sd);
  m.impl = impl;
  return m;
}

Rwkv7State Rwkv7State::zeros(const ModelConfig& cfg) {
  Rwkv7State s;
  s.n_layer = cfg.n_layer;
  s.C = cfg.n_embd;
  s.H = cfg.n_head;
  s.N = cfg.head_size;
  s.att_x.assign(size_t(s.n_layer) * s.C, 0.f);
  s.wkv.assign(size_t(s.n_layer) * s.H * s.N * s.N, 0.f);
  s.ffn_x.assign(size_t(s.n_layer) * s.C, 0.f);
  return s;
}

void rwkv7_forward(const Rwkv7Model& m, const int32_t* tokens, int64_t T, Rwkv7State& state,
                   float* logits, bool all_logits) {
  const ModelConfig& c = m.cfg;
  const int C = c.n_embd, H = c.n_head, N = c.head_size, L = c.n_layer;
  if (state.n_layer != L || state.C != C || state.H != H || state.N != N ||
      state.att_x.size() != size_t(L) * C || state.wkv.size() != size_t(L) * H * N * N ||
      state.ffn_x.size() != size_t(L) * C)
    fail("model", "state does not match the model (n_layer {}, n_embd {}, heads {}x{})", L, C, H, N);
  std::vector<Rwkv7LayerStateView> views(L);
  for (int l = 0; l < L; l++)
    views[l] = {state.att_x.data() + size_t(l) * C, state.wkv.data() + size_t(l) * H * N * N,
                state.ffn_x.data() + size_t(l) * C};
  rwkv7_forward(m, tokens, T, views.data(), logits, all_logits);
}

void rwkv7_forward(const Rwkv7Model& m, const int32_t* tokens, int64_t T, const Rwkv7LayerStateView* layers,
                   float* logits, bool all_logits) {
  const Rwkv7Impl& im = impl_of(m);
  const Rwkv7Views& w = im.v;
  const ModelConfig& c = m.cfg;
  const int C = c.n_embd, V = c.vocab_size, L = c.n_layer;
  for (int64_t t = 0; t < T; t++)
    if (tokens[t] < 0 || tokens[t] >= V)
      fail("model", "token id {} at position {} is outside the vocabulary (size {})", tokens[t], t, V);
  if (T <= 0) return;

  const int Tc_max = int(T < kChunk ? T : kChunk);
  Rwkv7Dims dmax = Rwkv7Dims::make(c, 1, Tc_max);
  Rwkv7LayerActs acts;
  const size_t nacts = rwkv7_layer_acts_layout(acts, dmax, nullptr, false);
  thread_local std::vector<float> buf;
  const size_t need = nacts + 2 * size_t(Tc_max) * C + 16;
  if (buf.size() < need) buf.assign(need, 0.f);
  float* x = buf.data() + nacts;                   // (Tc, C) residual stream
  float* v_first = x + size_t(Tc_max) * C;         // (Tc, C)

  for (int64_t t0 = 0; t0 < T; t0 += kChunk) {
    const int Tc = int(T - t0 < kChunk ? T - t0 : kChunk);
    const bool last_chunk = t0 + Tc == T;
    Rwkv7Dims d = Rwkv7Dims::make(c, 1, Tc);
    rwkv7_layer_acts_layout(acts, d, buf.data(), false);
    embedding_forward(x, tokens + t0, w.emb, Tc, C);
    layernorm_forward(x, nullptr, nullptr, x, w.layers[0].ln0_w, w.layers[0].ln0_b, Tc, C, 1e-5f);
    for (int l = 0; l < L; l++) {
      Rwkv7LayerStateView st = layers[l];
      rwkv7_layer_forward(w.layers[l], acts, d, l, x, x, v_first, &st, &im.mats[l]);
    }
    if (!logits) continue;
    if (all_logits) {
      layernorm_forward(x, nullptr, nullptr, x, w.ln_out_w, w.ln_out_b, Tc, C, 1e-5f);
      if (im.head.p)
        linear_forward_any(logits + t0 * V, x, im.head.p, im.head.dt, Tc, C, V);
      else
        matmul_linear_forward(logits + t0 * V, x, w.head, Tc, C, V);
    } else if (last_chunk) {
      float* xl = x + size_t(Tc - 1) * C;
      layernorm_forward(xl, nullptr, nullptr, xl, w.ln_out_w, w.ln_out_b, 1, C, 1e-5f);
      if (im.head.p)
        linear_forward_any(logits, xl, im.head.p, im.head.dt, 1, C, V);
      else
        matmul_linear_forward(logits, xl, w.head, 1, C, V);
    }
  }
}

}  // namespace rwkv
