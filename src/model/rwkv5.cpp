// rwkv5.cpp — RWKV-5 forward on the CPU (see rwkv5.h). Per layer:
//   xx = ln1(x); sx = shift(xx); inputs = xx + (sx-xx)*(1-time_mix_{k,v,r,g})
//   r, k, v = W·input; g = silu(W_g·gx) (x051, x052)
//   WKV per head (wkv5_forward) with w = exp(-exp(time_decay)), u = time_faaaa
//   (or exp(time_first) in files that name it time_first, as the pip package does)
//   y = GroupNorm(H, eps 64e-5)(wkv) [* g];  x += W_o·y;  then the channel mix.
#include "model/rwkv5.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace rwkv {

using namespace legacy;

namespace {
// time_decay / time_first are (H, N) in x052 and (H) in x050/x051: expand to (A).
std::vector<float> per_channel(Weights& w, const std::string& name, int H, int N) {
  const Tensor& t = w.at(name);
  bool per_head = t.numel() == H;
  const float* p = w.get(name, per_head ? Shape{H} : Shape{H, N});
  std::vector<float> r(size_t(H) * N);
  for (int h = 0; h < H; h++)
    for (int i = 0; i < N; i++) r[size_t(h) * N + i] = per_head ? p[h] : p[size_t(h) * N + i];
  return r;
}
}  // namespace

std::unique_ptr<Rwkv5Model> Rwkv5Model::from_state_dict(StateDict sd, const std::string& source,
                                                        const ModelConfig& cfg) {
  std::unique_ptr<Rwkv5Model> m(new Rwkv5Model(std::move(sd), source));
  Weights& w = m->w_;
  m->cfg_ = cfg;
  const int C = cfg.n_embd;
  m->c_.load(w, cfg.n_layer, C, cfg.vocab_size);
  const int A = m->A_ = int(w.at("blocks.0.att.key.weight").shape.at(0));
  const int F = m->F_ = int(w.at("blocks.0.ffn.key.weight").shape.at(0));
  const int H = m->H_ = head_count(w, "blocks.0.att.time_decay", A, m->N_);
  const int N = m->N_;
  const bool gate = cfg.arch != Arch::RWKV5;
  for (int i = 0; i < cfg.n_layer; i++) {
    std::string b = "blocks." + std::to_string(i) + ".";
    Layer l;
    l.ln1_w = w.get(b + "ln1.weight", {C});
    l.ln1_b = w.get(b + "ln1.bias", {C});
    l.lnx_w = w.get(b + "att.ln_x.weight", {A});
    l.lnx_b = w.get(b + "att.ln_x.bias", {A});
    l.ck = one_minus(w.get(b + "att.time_mix_k", {C}), C);
    l.cv = one_minus(w.get(b + "att.time_mix_v", {C}), C);
    l.cr = one_minus(w.get(b + "att.time_mix_r", {C}), C);
    if (gate) l.cg = one_minus(w.get(b + "att.time_mix_g", {C}), C);
    l.decay = per_channel(w, b + "att.time_decay", H, N);
    for (float& d : l.decay) d = std::exp(-std::exp(d));
    bool real_first = w.has(b + "att.time_faaaa");
    l.first = per_channel(w, b + (real_first ? "att.time_faaaa" : "att.time_first"), H, N);
    if (!real_first)
      for (float& u : l.first) u = std::exp(u);
    l.att.load(w, b, C, A, gate);
    l.time_state = load_time_state(w, b, H, N);
    l.ffn.load(w, b, C, F, false);
    m->layers_.push_back(std::move(l));
  }
  return m;
}

StateDict Rwkv5Model::zero_state() const {
  return wkv_zero_state(cfg_.n_layer, cfg_.n_embd, H_, N_, [&](int i) { return layers_[i].time_state; });
}

void Rwkv5Model::forward(const int32_t* tokens, int64_t T, StateDict& state, float* logits,
                         bool all_logits) const {
  RWKV_CHECK(T >= 1, "T = {}", T);
  const int C = cfg_.n_embd, A = A_, H = H_, N = N_;
  const size_t TC = size_t(T) * C, TA = size_t(T) * A;
  std::vector<float> x(TC), xx(TC), sx(TC), kx(TC), vx(TC), rx(TC), gx(TC);
  std::vector<float> r(TA), k(TA), v(TA), g(TA), y(TA);
  embed(c_, tokens, T, x.data());
  for (int i = 0; i < cfg_.n_layer; i++) {
    const Layer& l = layers_[i];
    const bool gate = l.att.g.p != nullptr;
    const WkvLayerState st = wkv_layer_state(state, i, C, H, N);

    layer_norm(x.data(), T, C, l.ln1_w, l.ln1_b, xx.data());
    token_shift(xx.data(), T, C, st.att_x, sx.data());
    for (int64_t t = 0; t < T; t++)
      for (int c = 0; c < C; c++) {
        size_t o = size_t(t) * C + c;
        float d = sx[o] - xx[o];
        kx[o] = xx[o] + d * l.ck[c];
        vx[o] = xx[o] + d * l.cv[c];
        rx[o] = xx[o] + d * l.cr[c];
        if (gate) gx[o] = xx[o] + d * l.cg[c];
      }
    linear(rx.data(), T, l.att.r, r.data());
    linear(kx.data(), T, l.att.k, k.data());
    linear(vx.data(), T, l.att.v, v.data());
    if (gate) {
      linear(gx.data(), T, l.att.g, g.data());
      for (float& e : g) e = e * sigmoidf(e);  // silu
    }
    wkv5_att_out(T, H, N, C, r.data(), k.data(), v.data(), l.decay.data(), false, l.first.data(), st.S,
                 l.lnx_w, l.lnx_b, gate ? g.data() : nullptr, l.att.o, y.data(), xx.data(), x.data());

    l.ffn.forward(x.data(), T, C, st.ffn_x);
  }
  head(c_, x.data(), T, logits, all_logits);
}

}  // namespace rwkv
