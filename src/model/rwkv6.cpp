// rwkv6.cpp — RWKV-6 forward on the CPU (see rwkv6.h). Per layer:
//   xx = ln1(x); d = shift(xx) - xx
//   m[s] = tanh((xx + d*maa_x) · maa_w1)[s] · maa_w2[s]      s = w, k, v, r, g   (LoRA, D = rank)
//   wx, kx, vx, rx, gx = xx + d*(maa_s + m[s])
//   r, k, v = W·input; g = silu(W_g·gx)
//   w = exp(-exp(time_decay + tanh(wx·decay_w1)·decay_w2))   per token and channel
//   WKV per head (wkv5_forward) with u = time_faaaa; y = GroupNorm(H, eps 64e-5)(wkv) * g
//   x += W_o·y;  then the channel mix with time_maa_k/r.
#include "model/rwkv6.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace rwkv {

using namespace legacy;

std::unique_ptr<Rwkv6Model> Rwkv6Model::from_state_dict(StateDict sd, const std::string& source,
                                                        const ModelConfig& cfg) {
  std::unique_ptr<Rwkv6Model> m(new Rwkv6Model(std::move(sd), source));
  Weights& w = m->w_;
  m->cfg_ = cfg;
  const int C = cfg.n_embd;
  m->c_.load(w, cfg.n_layer, C, cfg.vocab_size);
  const int A = m->A_ = int(w.at("blocks.0.att.key.weight").shape.at(0));
  const int F = m->F_ = int(w.at("blocks.0.ffn.key.weight").shape.at(0));
  const int H = m->H_ = head_count(w, "blocks.0.att.time_faaaa", A, m->N_);
  const int N = m->N_;
  const Tensor& w1 = w.at("blocks.0.att.time_maa_w1");
  if (w1.dim() != 2 || w1.shape[1] % 5 != 0)
    fail("model", "{}: blocks.0.att.time_maa_w1 has shape {}, expected (C, 5*D)", source, shape_str(w1.shape));
  const int D = m->D_ = int(w1.shape[1] / 5);
  const int Dw = m->Dw_ = int(w.at("blocks.0.att.time_decay_w1").shape.back());
  static const char* kMaa[5] = {"w", "k", "v", "r", "g"};
  for (int i = 0; i < cfg.n_layer; i++) {
    std::string b = "blocks." + std::to_string(i) + ".";
    Layer l;
    l.ln1_w = w.get(b + "ln1.weight", {C});
    l.ln1_b = w.get(b + "ln1.bias", {C});
    l.lnx_w = w.get(b + "att.ln_x.weight", {A});
    l.lnx_b = w.get(b + "att.ln_x.bias", {A});
    l.maa_x = w.get(b + "att.time_maa_x", {C});
    for (int s = 0; s < 5; s++) l.maa[s] = w.get(b + "att.time_maa_" + kMaa[s], {C});
    l.maa_w1 = w.get(b + "att.time_maa_w1", {C, 5 * D});
    l.maa_w2 = w.get(b + "att.time_maa_w2", {5, D, C});
    l.decay = w.get(b + "att.time_decay", {A});
    l.decay_w1 = w.get(b + "att.time_decay_w1", {C, Dw});
    l.decay_w2 = w.get(b + "att.time_decay_w2", {Dw, A});
    l.first = w.get(b + "att.time_faaaa", {H, N});
    l.att.load(w, b, C, A, true);
    l.time_state = load_time_state(w, b, H, N);
    l.ffn.load(w, b, C, F, true);
    m->layers_.push_back(std::move(l));
  }
  return m;
}

StateDict Rwkv6Model::zero_state() const {
  return wkv_zero_state(cfg_.n_layer, cfg_.n_embd, H_, N_, [&](int i) { return layers_[i].time_state; });
}

void Rwkv6Model::forward(const int32_t* tokens, int64_t T, StateDict& state, float* logits,
                         bool all_logits) const {
  RWKV_CHECK(T >= 1, "T = {}", T);
  const int C = cfg_.n_embd, A = A_, H = H_, N = N_, D = D_, Dw = Dw_;
  const size_t TC = size_t(T) * C, TA = size_t(T) * A;
  std::vector<float> x(TC), xx(TC), sx(TC), xxx(TC), lora(size_t(T) * 5 * D), m(TC);
  std::vector<float> in[5];  // wx, kx, vx, rx, gx
  for (auto& e : in) e.resize(TC);
  std::vector<float> r(TA), k(TA), v(TA), g(TA), wd(TA), y(TA), dl(size_t(T) * Dw);
  std::vector<float> lora_s(size_t(T) * D);
  embed(c_, tokens, T, x.data());
  for (int i = 0; i < cfg_.n_layer; i++) {
    const Layer& l = layers_[i];
    const WkvLayerState st = wkv_layer_state(state, i, C, H, N);

    layer_norm(x.data(), T, C, l.ln1_w, l.ln1_b, xx.data());
    token_shift(xx.data(), T, C, st.att_x, sx.data());
    for (size_t o = 0; o < TC; o++) {
      sx[o] -= xx[o];  // sx is now d = shift(xx) - xx
      xxx[o] = xx[o] + sx[o] * l.maa_x[o % C];
    }
    matmul_io(xxx.data(), T, C, l.maa_w1, 5 * D, lora.data());
    for (float& e : lora) e = std::tanh(e);
    for (int s = 0; s < 5; s++) {
      for (int64_t t = 0; t < T; t++)
        std::memcpy(&lora_s[size_t(t) * D], &lora[size_t(t) * 5 * D + size_t(s) * D], sizeof(float) * D);
      matmul_io(lora_s.data(), T, D, l.maa_w2 + size_t(s) * D * C, C, m.data());
      const float* maa = l.maa[s];
      float* dst = in[s].data();
      for (size_t o = 0; o < TC; o++) dst[o] = xx[o] + sx[o] * (maa[o % C] + m[o]);
    }
    linear(in[3].data(), T, l.att.r, r.data());
    linear(in[1].data(), T, l.att.k, k.data());
    linear(in[2].data(), T, l.att.v, v.data());
    linear(in[4].data(), T, l.att.g, g.data());
    for (float& e : g) e = e * sigmoidf(e);  // silu
    matmul_io(in[0].data(), T, C, l.decay_w1, Dw, dl.data());
    for (float& e : dl) e = std::tanh(e);
    matmul_io(dl.data(), T, Dw, l.decay_w2, A, wd.data());
    for (size_t o = 0; o < TA; o++) wd[o] = std::exp(-std::exp(l.decay[o % A] + wd[o]));

    wkv5_att_out(T, H, N, C, r.data(), k.data(), v.data(), wd.data(), true, l.first, st.S, l.lnx_w,
                 l.lnx_b, g.data(), l.att.o, y.data(), xx.data(), x.data());

    l.ffn.forward(x.data(), T, C, st.ffn_x);
  }
  head(c_, x.data(), T, logits, all_logits);
}

}  // namespace rwkv
