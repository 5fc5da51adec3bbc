// legacy_common.cpp — see legacy_common.h.
#include "model/legacy_common.h"


#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "ops/gemv.h"
#include "ops/matmul.h"

namespace rwkv::legacy {

static Shape squeeze(const Shape& s) {
  Shape r;
  for (auto d : s)
    if (d != 1) r.push_back(d);
  return r;
}

const Tensor& Weights::at(const std::string& name) const {
  const Tensor* t = sd_.find(name);
  if (!t) fail("model", "{}: missing tensor '{}'", source_, name);
  return *t;
}

const float* Weights::get(const std::string& name, const Shape& squeezed) {
  const Tensor& t = at(name);
  if (squeeze(t.shape) != squeeze(squeezed))
    fail("model", "{}: tensor '{}' has shape {}, expected {}", source_, name, shape_str(t.shape),
         shape_str(squeezed));
  if (t.dtype == DType::F32) return t.ptr<float>();
  if (t.dtype != DType::BF16 && t.dtype != DType::F16 && t.dtype != DType::F64)
    fail("model", "{}: tensor '{}' has dtype {}, expected a float type", source_, name, dtype_name(t.dtype));
  owned_.push_back(t.to(DType::F32));
  return owned_.back().ptr<float>();
}

Mat Weights::mat(const std::string& name, int64_t rows, int64_t cols) {
  const Tensor& t = at(name);
  if (squeeze(t.shape) != squeeze(Shape{rows, cols}))
    fail("model", "{}: tensor '{}' has shape {}, expected {}", source_, name, shape_str(t.shape),
         shape_str(Shape{rows, cols}));
  Mat m{t.data, t.dtype, rows, cols};
  if (t.dtype == DType::F64) {
    owned_.push_back(t.to(DType::F32));
    m.p = owned_.back().data;
    m.dt = DType::F32;
  } else if (t.dtype != DType::F32 && t.dtype != DType::BF16 && t.dtype != DType::F16) {
    fail("model", "{}: tensor '{}' has dtype {}, expected a float type", source_, name, dtype_name(t.dtype));
  }
  return m;
}

void Common::load(Weights& w, int n_layer, int n_embd, int vocab) {
  L = n_layer, C = n_embd, V = vocab;
  emb = w.mat("emb.weight", V, C);
  ln0_w = w.get("blocks.0.ln0.weight", {C});
  ln0_b = w.get("blocks.0.ln0.bias", {C});
  ln_out_w = w.get("ln_out.weight", {C});
  ln_out_b = w.get("ln_out.bias", {C});
  head = w.mat("head.weight", V, C);
}

void layer_norm(const float* x, int64_t T, int C, const float* w, const float* b, float* y) {
#pragma omp parallel for if (T > 4)
  for (int64_t t = 0; t < T; t++) {
    const float* xt = x + t * C;
    float* yt = y + t * C;
    double mean = 0, var = 0;
    for (int c = 0; c < C; c++) mean += xt[c];
    mean /= C;
    for (int c = 0; c < C; c++) var += (xt[c] - mean) * (xt[c] - mean);
    float rstd = float(1.0 / std::sqrt(var / C + 1e-5));
    float m = float(mean);
    for (int c = 0; c < C; c++) yt[c] = (xt[c] - m) * rstd * w[c] + b[c];
  }
}

void group_norm(float* x, int64_t T, int H, int N, const float* w, const float* b, float eps) {
#pragma omp parallel for collapse(2) if (T * H > 16)
  for (int64_t t = 0; t < T; t++) {
    for (int h = 0; h < H; h++) {
      float* p = x + (t * H + h) * N;
      double mean = 0, var = 0;
      for (int i = 0; i < N; i++) mean += p[i];
      mean /= N;
      for (int i = 0; i < N; i++) var += (p[i] - mean) * (p[i] - mean);
      float rstd = float(1.0 / std::sqrt(var / N + eps));
      float m = float(mean);
      const float* wh = w + h * N;
      const float* bh = b + h * N;
      for (int i = 0; i < N; i++) p[i] = (p[i] - m) * rstd * wh[i] + bh[i];
    }
  }
}

void linear(const float* x, int64_t T, const Mat& W, float* y) {
  linear_forward_any(y, x, W.p, W.dt, T, W.cols, W.rows);  // fp32 as stored; bf16/fp16 rows widened
}

void matmul_io(const float* x, int64_t T, int in, const float* W, int out, float* y) {
  matmul_plain_forward(y, x, W, T, in, out);
}

void token_shift(const float* xx, int64_t T, int C, float* last, float* prev) {
  std::memcpy(prev, last, sizeof(float) * C);
  if (T > 1) std::memcpy(prev + C, xx, sizeof(float) * C * (T - 1));
  std::memcpy(last, xx + (T - 1) * C, sizeof(float) * C);
}

void embed(const Common& m, const int32_t* tokens, int64_t T, float* x) {
  for (int64_t t = 0; t < T; t++) {
    if (tokens[t] < 0 || tokens[t] >= m.V)
      fail("infer", "token id {} at position {} is outside the model's vocabulary (size {})", tokens[t], t, m.V);
    const int64_t off = int64_t(tokens[t]) * m.C;
    float* xt = x + t * m.C;
    const uint16_t* h = static_cast<const uint16_t*>(m.emb.p) + off;
    switch (m.emb.dt) {
      case DType::BF16: for (int c = 0; c < m.C; c++) xt[c] = bf16_to_f32(h[c]); break;
      case DType::F16: for (int c = 0; c < m.C; c++) xt[c] = f16_to_f32(h[c]); break;
      default: std::memcpy(xt, static_cast<const float*>(m.emb.p) + off, sizeof(float) * m.C);
    }
  }
  layer_norm(x, T, m.C, m.ln0_w, m.ln0_b, x);
}

void head(const Common& m, const float* x, int64_t T, float* logits, bool all_logits) {
  if (!logits) return;
  int64_t rows = all_logits ? T : 1;
  const float* src = all_logits ? x : x + (T - 1) * m.C;
  std::vector<float> xn(size_t(rows) * m.C);
  layer_norm(src, rows, m.C, m.ln_out_w, m.ln_out_b, xn.data());
  linear(xn.data(), rows, m.head, logits);
}

std::vector<float> one_minus(const float* mix, int n) {
  std::vector<float> r(n);
  for (int i = 0; i < n; i++) r[i] = 1.f - mix[i];
  return r;
}

void ChannelMix::load(Weights& w, const std::string& b, int C, int F_, bool maa) {
  F = F_;
  ln_w = w.get(b + "ln2.weight", {C});
  ln_b = w.get(b + "ln2.bias", {C});
  if (maa) {
    const float* mk = w.get(b + "ffn.time_maa_k", {C});
    const float* mr = w.get(b + "ffn.time_maa_r", {C});
    ck.assign(mk, mk + C);
    cr.assign(mr, mr + C);
  } else {
    ck = one_minus(w.get(b + "ffn.time_mix_k", {C}), C);
    cr = one_minus(w.get(b + "ffn.time_mix_r", {C}), C);
  }
  k = w.mat(b + "ffn.key.weight", F, C);
  r = w.mat(b + "ffn.receptance.weight", C, C);
  v = w.mat(b + "ffn.value.weight", C, F);
}

void ChannelMix::forward(float* x, int64_t T, int C, float* ffn_x) const {
  const size_t TC = size_t(T) * C;
  std::vector<float> xx(TC), sx(TC), kx(TC), rx(TC), kf(size_t(T) * F);
  layer_norm(x, T, C, ln_w, ln_b, xx.data());
  token_shift(xx.data(), T, C, ffn_x, sx.data());
  for (int64_t t = 0; t < T; t++)
    for (int c = 0; c < C; c++) {
      size_t o = size_t(t) * C + c;
      float d = sx[o] - xx[o];
      kx[o] = xx[o] + d * ck[c];
      rx[o] = xx[o] + d * cr[c];
    }
  linear(kx.data(), T, k, kf.data());
  for (float& e : kf) e = e > 0 ? e * e : 0.f;
  linear(kf.data(), T, v, kx.data());
  linear(rx.data(), T, r, sx.data());
  for (size_t o = 0; o < TC; o++) x[o] += sigmoidf(sx[o]) * kx[o];
}

void wkv5_forward(int64_t T, int H, int N, const float* r, const float* k, const float* v,
                  const float* w, bool w_per_token, const float* u, float* S, float* y) {
  const int64_t HN = int64_t(H) * N;
#pragma omp parallel for if (H > 1 && T * N >= 256)
  for (int h = 0; h < H; h++) {
    float* s = S + int64_t(h) * N * N;
    const float* uh = u + int64_t(h) * N;
    for (int64_t t = 0; t < T; t++) {
      const int64_t o = t * HN + int64_t(h) * N;
      const float *rt = r + o, *kt = k + o, *vt = v + o;
      const float* wt = w + (w_per_token ? o : int64_t(h) * N);
      float ruk = 0;
      for (int j = 0; j < N; j++) ruk += rt[j] * uh[j] * kt[j];
      for (int i = 0; i < N; i++) {
        float* si = s + int64_t(i) * N;
        const float vi = vt[i];
        float acc = 0;
        for (int j = 0; j < N; j++) {
          acc += rt[j] * si[j];
          si[j] = si[j] * wt[j] + vi * kt[j];
        }
        y[o + i] = acc + vi * ruk;
      }
    }
  }
}

void AttProj::load(Weights& w, const std::string& b, int C, int A, bool gate) {
  k = w.mat(b + "att.key.weight", A, C);
  v = w.mat(b + "att.value.weight", A, C);
  r = w.mat(b + "att.receptance.weight", A, C);
  if (gate) g = w.mat(b + "att.gate.weight", A, C);
  o = w.mat(b + "att.output.weight", C, A);
}

int head_count(Weights& w, const std::string& name, int A, int& N) {
  const int H = int(w.at(name).shape.at(0));
  if (H <= 0 || A % H != 0)
    fail("model", "{}: {} has {} heads, which does not divide dim_att {}", w.source(), name, H, A);
  N = A / H;
  return H;
}

const float* load_time_state(Weights& w, const std::string& b, int H, int N) {
  return w.has(b + "att.time_state") ? w.get(b + "att.time_state", {H, N, N}) : nullptr;
}

WkvLayerState wkv_layer_state(StateDict& st, int i, int C, int H, int N) {
  std::string p = "state." + std::to_string(i) + ".";
  WkvLayerState s;
  s.att_x = state_f32(st, p + "att_x", C);
  s.S = state_f32(st, p + "wkv", int64_t(H) * N * N);
  s.ffn_x = state_f32(st, p + "ffn_x", C);
  return s;
}

void wkv5_att_out(int64_t T, int H, int N, int C, const float* r, const float* k, const float* v,
                  const float* w, bool w_per_token, const float* u, float* S, const float* lnx_w,
                  const float* lnx_b, const float* g, const Mat& W_o, float* y, float* tmp, float* x) {
  const size_t TA = size_t(T) * H * N, TC = size_t(T) * C;
  wkv5_forward(T, H, N, r, k, v, w, w_per_token, u, S, y);
  group_norm(y, T, H, N, lnx_w, lnx_b, 64e-5f);
  if (g)
    for (size_t o = 0; o < TA; o++) y[o] *= g[o];
  linear(y, T, W_o, tmp);
  for (size_t o = 0; o < TC; o++) x[o] += tmp[o];
}

float* state_f32(StateDict& st, const std::string& name, int64_t numel) {
  const Tensor* t = st.find(name);
  if (!t) fail("infer", "state has no tensor '{}'", name);
  if (t->dtype != DType::F32 || t->numel() != numel)
    fail("infer", "state tensor '{}' is {} {}, expected fp32 with {} elements", name, dtype_name(t->dtype),
         shape_str(t->shape), numel);
  return t->ptr<float>();
}

}  // namespace rwkv::legacy
