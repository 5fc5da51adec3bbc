// rwkv4.cpp — RWKV-4 forward on the CPU (see rwkv4.h). Per layer:
//   xx = ln1(x); sx = shift(xx); k/v/r inputs = xx*mix + sx*(1-mix)
//   r = sigmoid(W_r·rx); k = W_k·kx; v = W_v·vx
//   WKV with max tracking (u = time_first, w = -exp(time_decay)), per channel:
//     q = max(pp, u+k); y = (e^(pp-q)·aa + e^(u+k-q)·v) / (e^(pp-q)·bb + e^(u+k-q))
//     q' = max(pp+w, k); aa = e^(pp+w-q')·aa + e^(k-q')·v; bb = e^(pp+w-q')·bb + e^(k-q'); pp = q'
//   x += W_o·(r*y);  then channel mix: x += sigmoid(W_r·rx) * W_v·relu(W_k·kx)^2
#include "model/rwkv4.h"

#include <cmath>

#include "core/error.h"

namespace rwkv {

using namespace legacy;

std::unique_ptr<Rwkv4Model> Rwkv4Model::from_state_dict(StateDict sd, const std::string& source,
                                                        const ModelConfig& cfg) {
  std::unique_ptr<Rwkv4Model> m(new Rwkv4Model(std::move(sd), source));
  Weights& w = m->w_;
  m->cfg_ = cfg;
  const int C = cfg.n_embd;
  m->c_.load(w, cfg.n_layer, C, cfg.vocab_size);
  m->A_ = int(w.at("blocks.0.att.key.weight").shape.at(0));
  m->F_ = int(w.at("blocks.0.ffn.key.weight").shape.at(0));
  const int A = m->A_, F = m->F_;
  for (int i = 0; i < cfg.n_layer; i++) {
    std::string b = "blocks." + std::to_string(i) + ".";
    Layer l;
    l.ln1_w = w.get(b + "ln1.weight", {C});
    l.ln1_b = w.get(b + "ln1.bias", {C});
    l.ck = one_minus(w.get(b + "att.time_mix_k", {C}), C);
    l.cv = one_minus(w.get(b + "att.time_mix_v", {C}), C);
    l.cr = one_minus(w.get(b + "att.time_mix_r", {C}), C);
    const float* td = w.get(b + "att.time_decay", {A});
    l.decay.resize(A);
    for (int c = 0; c < A; c++) l.decay[c] = -std::exp(td[c]);
    l.first = w.get(b + "att.time_first", {A});
    l.att.load(w, b, C, A, false);
    l.ffn.load(w, b, C, F, false);
    m->layers_.push_back(std::move(l));
  }
  return m;
}

StateDict Rwkv4Model::zero_state() const {
  StateDict st;
  const int C = cfg_.n_embd;
  for (int i = 0; i < cfg_.n_layer; i++) {
    std::string p = "state." + std::to_string(i) + ".";
    st.set(p + "att_x", Tensor::zeros(DType::F32, {C}));
    st.set(p + "att_aa", Tensor::zeros(DType::F32, {A_}));
    st.set(p + "att_bb", Tensor::zeros(DType::F32, {A_}));
    Tensor pp = Tensor::zeros(DType::F32, {A_});
    for (int c = 0; c < A_; c++) pp.ptr<float>()[c] = -1e30f;
    st.set(p + "att_pp", pp);
    st.set(p + "ffn_x", Tensor::zeros(DType::F32, {C}));
  }
  return st;
}

void Rwkv4Model::forward(const int32_t* tokens, int64_t T, StateDict& state, float* logits,
                         bool all_logits) const {
  RWKV_CHECK(T >= 1, "T = {}", T);
  const int C = cfg_.n_embd, A = A_;
  const size_t TC = size_t(T) * C;
  std::vector<float> x(TC), xx(TC), sx(TC), kx(TC), vx(TC), rx(TC);
  std::vector<float> r(size_t(T) * A), k(size_t(T) * A), v(size_t(T) * A), y(size_t(T) * A);
  embed(c_, tokens, T, x.data());
  for (int i = 0; i < cfg_.n_layer; i++) {
    const Layer& l = layers_[i];
    std::string p = "state." + std::to_string(i) + ".";
    float* att_x = state_f32(state, p + "att_x", C);
    float* aa = state_f32(state, p + "att_aa", A);
    float* bb = state_f32(state, p + "att_bb", A);
    float* pp = state_f32(state, p + "att_pp", A);
    float* ffn_x = state_f32(state, p + "ffn_x", C);

    // ---- time mix ----
    layer_norm(x.data(), T, C, l.ln1_w, l.ln1_b, xx.data());
    token_shift(xx.data(), T, C, att_x, sx.data());
    for (int64_t t = 0; t < T; t++)
      for (int c = 0; c < C; c++) {
        size_t o = size_t(t) * C + c;
        float d = sx[o] - xx[o];
        kx[o] = xx[o] + d * l.ck[c];
        vx[o] = xx[o] + d * l.cv[c];
        rx[o] = xx[o] + d * l.cr[c];
      }
    linear(rx.data(), T, l.att.r, r.data());
    linear(kx.data(), T, l.att.k, k.data());
    linear(vx.data(), T, l.att.v, v.data());
#pragma omp parallel for if (T * A >= 8192)  // decode: serial, the products dominate
    for (int c = 0; c < A; c++) {
      float a = aa[c], b = bb[c], q = pp[c];
      const float u = l.first[c], w = l.decay[c];
      for (int64_t t = 0; t < T; t++) {
        size_t o = size_t(t) * A + c;
        float kk = k[o], vv = v[o];
        float ww = u + kk, m = std::max(q, ww);
        float e1 = std::exp(q - m), e2 = std::exp(ww - m);
        y[o] = sigmoidf(r[o]) * (e1 * a + e2 * vv) / (e1 * b + e2);
        ww = w + q;
        m = std::max(ww, kk);
        e1 = std::exp(ww - m);
        e2 = std::exp(kk - m);
        a = e1 * a + e2 * vv;
        b = e1 * b + e2;
        q = m;
      }
      aa[c] = a, bb[c] = b, pp[c] = q;
    }
    linear(y.data(), T, l.att.o, xx.data());
    for (size_t o = 0; o < TC; o++) x[o] += xx[o];

    l.ffn.forward(x.data(), T, C, ffn_x);
  }
  head(c_, x.data(), T, logits, all_logits);
}

}  // namespace rwkv
