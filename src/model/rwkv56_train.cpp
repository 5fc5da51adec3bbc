// rwkv56_train.cpp — the x052 / x060 training step on the CPU (see rwkv56_train.h).
#include "model/rwkv56_train.h"

#include <algorithm>

#include "core/error.h"
#include "ops/embedding.h"
#include "ops/l2wrap_ce.h"
#include "ops/layernorm.h"
#include "ops/matmul.h"

namespace rwkv {

namespace {
constexpr float kLnEps = 1e-5f;

void ensure(Rwkv56TrainScratch& s, const Rwkv56Dims& d, int L, int V) {
  if (s.B == d.B && s.T == d.T && int(s.acts.size()) == L && !s.acts.empty() &&
      s.logits.size() == size_t(d.M) * V && s.xs[0].size() == size_t(d.M) * d.C &&
      s.acts[0].y.size() == size_t(d.M) * d.A && (s.acts[0].mh.empty() != d.x060))
    return;
  const size_t M = size_t(d.M), C = size_t(d.C);
  s.B = d.B, s.T = d.T;
  s.inputs.resize(M), s.targets.resize(M);
  s.emb_out.resize(M * C), s.ln0_mean.resize(M), s.ln0_rstd.resize(M);
  s.xs.assign(size_t(L) + 1, std::vector<float>(M * C));
  s.acts.assign(size_t(L), {});
  for (auto& a : s.acts) rwkv56_acts_resize(a, d);
  s.lnout.resize(M * C), s.lnout_mean.resize(M), s.lnout_rstd.resize(M);
  s.logits.resize(M * size_t(V)), s.losses.resize(M), s.dres.resize(M * C), s.dtmp.resize(M * C);
}

}  // namespace

float rwkv56_forward_loss(const Rwkv56Params& p, const int32_t* tokens, int B, int T, Rwkv56TrainScratch& s) {
  RWKV_CHECK(B > 0 && T > 0, "B {} T {}", B, T);
  const Rwkv56Dims d = Rwkv56Dims::make(p, B, T);
  const int L = p.cfg.n_layer, V = p.cfg.vocab_size, C = d.C;
  const int64_t M = d.M;
  ensure(s, d, L, V);
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      const int32_t in = tokens[int64_t(b) * (T + 1) + t], out = tokens[int64_t(b) * (T + 1) + t + 1];
      for (int32_t id : {in, out})
        if (id < 0 || id >= V)
          fail("train", "token id {} (sequence {}, position {}) is outside the vocabulary (size {})", id, b, t, V);
      s.inputs[size_t(b) * T + t] = in, s.targets[size_t(b) * T + t] = out;
    }
  embedding_forward(s.emb_out.data(), s.inputs.data(), p.emb, M, C);
  layernorm_forward(s.xs[0].data(), s.ln0_mean.data(), s.ln0_rstd.data(), s.emb_out.data(), p.layers[0].ln0_w,
                    p.layers[0].ln0_b, M, C, kLnEps);
  for (int l = 0; l < L; l++)
    rwkv56_layer_forward(p.layers[size_t(l)], s.acts[size_t(l)], d, s.xs[size_t(l)].data(), s.xs[size_t(l) + 1].data());
  layernorm_forward(s.lnout.data(), s.lnout_mean.data(), s.lnout_rstd.data(), s.xs[size_t(L)].data(), p.ln_out_w,
                    p.ln_out_b, M, C, kLnEps);
  matmul_linear_forward(s.logits.data(), s.lnout.data(), p.head, M, C, V);
  return float(l2wrap_ce_forward(s.losses.data(), s.logits.data(), s.targets.data(), M, V) / double(M));
}

float rwkv56_forward_backward(const Rwkv56Params& p, const int32_t* tokens, int B, int T, Rwkv56Params& g,
                              Rwkv56TrainScratch& s, float l2wrap) {
  const float loss = rwkv56_forward_loss(p, tokens, B, T, s);
  const Rwkv56Dims d = Rwkv56Dims::make(p, B, T);
  const int L = p.cfg.n_layer, V = p.cfg.vocab_size, C = d.C;
  const int64_t M = d.M;
  if (g.data.size() != p.data.size() || g.cfg.arch != p.cfg.arch) g = Rwkv56Params::zeros(p.cfg, p.head_size_divisor);
  g.set_zero();
  l2wrap_ce_backward(s.logits.data(), s.logits.data(), s.targets.data(), M, V, float(1.0 / double(M)),
                     float(double(l2wrap) / double(M)));
  std::fill(s.dtmp.begin(), s.dtmp.end(), 0.f);
  matmul_linear_backward(s.dtmp.data(), g.head, s.logits.data(), s.lnout.data(), p.head, M, C, V);
  std::fill(s.dres.begin(), s.dres.end(), 0.f);
  layernorm_backward(s.dres.data(), g.ln_out_w, g.ln_out_b, s.dtmp.data(), s.xs[size_t(L)].data(), p.ln_out_w,
                     s.lnout_mean.data(), s.lnout_rstd.data(), M, C);
  for (int l = L - 1; l >= 0; l--)
    rwkv56_layer_backward(p.layers[size_t(l)], g.layers[size_t(l)], s.acts[size_t(l)], s.back, d,
                          s.xs[size_t(l)].data(), s.dres.data());
  std::fill(s.dtmp.begin(), s.dtmp.end(), 0.f);
  layernorm_backward(s.dtmp.data(), g.layers[0].ln0_w, g.layers[0].ln0_b, s.dres.data(), s.emb_out.data(),
                     p.layers[0].ln0_w, s.ln0_mean.data(), s.ln0_rstd.data(), M, C);
  embedding_backward(g.emb, s.dtmp.data(), s.inputs.data(), M, C);
  return loss;
}

}  // namespace rwkv
