// rwkv56_block.cpp — the x052 / x060 training block, forward and backward (see rwkv56_block.h).
// x052 mixes as z*m + zp*(1-m) = z + (zp - z)*(1 - m): the ops' mix with mu = 1 - time_mix.
#include "model/rwkv56_block.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ops/activation.h"
#include "ops/ddlerp.h"
#include "ops/elementwise.h"
#include "ops/layernorm.h"
#include "ops/matmul.h"
#include "ops/token_shift.h"
#include "ops/wkv6.h"

namespace rwkv {

namespace {
constexpr float kLnEps = 1e-5f;

void zero(std::vector<float>& v) { std::fill(v.begin(), v.end(), 0.f); }

std::vector<float> one_minus(const float* m, int C) {
  std::vector<float> o(static_cast<size_t>(C));
  for (int c = 0; c < C; c++) o[size_t(c)] = 1.f - m[c];
  return o;
}

// GroupNorm eps: x052 normalises y / head_size_divisor with eps 1e-5, x060 y itself with
// eps 1e-5 * divisor^2 (RWKV-v5/src/model.py).
float gn_eps(const Rwkv56Dims& d) {
  return d.x060 ? 1e-5f * float(d.head_size_divisor) * float(d.head_size_divisor) : 1e-5f;
}
}  // namespace

Rwkv56Dims Rwkv56Dims::make(const Rwkv56Params& p, int B, int T) {
  Rwkv56Dims d;
  d.B = B, d.T = T, d.M = int64_t(B) * T;
  d.C = p.cfg.n_embd, d.A = p.cfg.dim_att, d.H = p.cfg.n_head, d.N = p.cfg.head_size, d.F = p.cfg.dim_ffn;
  d.x060 = p.x060();
  d.Dm = d.x060 ? kRwkv6MixRank : 0;
  d.Dw = d.x060 ? p.cfg.d_decay : 0;
  d.head_size_divisor = p.head_size_divisor;
  RWKV_CHECK(d.H * d.N == d.A, "dim_att {} != {} heads x {}", d.A, d.H, d.N);
  return d;
}

void rwkv56_acts_resize(Rwkv56LayerActs& a, const Rwkv56Dims& d) {
  const size_t M = size_t(d.M), C = size_t(d.C), A = size_t(d.A), F = size_t(d.F), H = size_t(d.H);
  for (auto* v : {&a.ln1, &a.xx, &a.x_mid, &a.ln2, &a.fxx, &a.fxk, &a.fxr, &a.fkv, &a.frp, &a.fr}) v->resize(M * C);
  for (auto* v : {&a.ln1_mean, &a.ln1_rstd, &a.ln2_mean, &a.ln2_rstd}) v->resize(M);
  for (int f = d.x060 ? 0 : 1; f < 5; f++) a.xm[f].resize(M * C);
  if (d.x060) {
    a.xxx.resize(M * C), a.mh.resize(M * 5 * size_t(d.Dm)), a.mhs.resize(M * 5 * size_t(d.Dm));
    a.mf.resize(5 * M * C), a.dh.resize(M * size_t(d.Dw)), a.wl.resize(M * A);
  } else {
    a.ys.resize(M * A);
  }
  for (auto* v : {&a.w, &a.r, &a.k, &a.v, &a.gpre, &a.g, &a.y, &a.z, &a.zg}) v->resize(M * A);
  a.ckpt.resize(size_t(d.B) * H * size_t(wkv6_num_chunks(d.T)) * size_t(d.N) * size_t(d.N));
  a.gn_mean.resize(M * H), a.gn_rstd.resize(M * H);
  a.fpre.resize(M * F), a.fh.resize(M * F);
}

void rwkv56_layer_forward(const Rwkv56LayerParams& w, Rwkv56LayerActs& a, const Rwkv56Dims& d,
                          const float* x_in, float* x_out) {
  const int64_t M = d.M;
  const int C = d.C, A = d.A, F = d.F;
  layernorm_forward(a.ln1.data(), a.ln1_mean.data(), a.ln1_rstd.data(), x_in, w.ln1_w, w.ln1_b, M, C, kLnEps);
  token_shift_forward(a.xx.data(), a.ln1.data(), nullptr, d.B, d.T, C);
  if (d.x060) {
    const int Dm = d.Dm, D5 = 5 * Dm;
    mix_forward(a.xxx.data(), a.ln1.data(), a.xx.data(), w.maa_x, M, C);
    matmul_plain_forward(a.mh.data(), a.xxx.data(), w.maa_w1, M, C, D5);
    act_forward(a.mh.data(), a.mh.data(), M * D5, Act::Tanh);
    for (int f = 0; f < 5; f++) {
      float* sl = a.mhs.data() + f * M * Dm;  // slice f of each row: (M, Dm)
      for (int64_t m = 0; m < M; m++) std::copy_n(a.mh.data() + m * D5 + f * Dm, Dm, sl + m * Dm);
      float* mf = a.mf.data() + f * M * C;
      matmul_plain_forward(mf, sl, w.maa_w2 + int64_t(f) * Dm * C, M, Dm, C);
      ddlerp_forward(a.xm[f].data(), a.ln1.data(), a.xx.data(), w.maa[f], mf, M, C);
    }
    matmul_plain_forward(a.dh.data(), a.xm[0].data(), w.decay_w1, M, C, d.Dw);
    act_forward(a.dh.data(), a.dh.data(), M * d.Dw, Act::Tanh);
    matmul_plain_forward(a.wl.data(), a.dh.data(), w.decay_w2, M, d.Dw, A);
    wkv6_decay_forward(a.w.data(), a.wl.data(), w.time_decay, M, A);
  } else {
    const float* mix[5] = {nullptr, w.mix_k, w.mix_v, w.mix_r, w.mix_g};
    for (int f = 1; f < 5; f++)
      mix_forward(a.xm[f].data(), a.ln1.data(), a.xx.data(), one_minus(mix[f], C).data(), M, C);
    std::vector<float> ew(static_cast<size_t>(A));
    for (int c = 0; c < A; c++) ew[size_t(c)] = std::exp(-std::exp(w.time_decay[c]));
    for (int64_t m = 0; m < M; m++) std::copy(ew.begin(), ew.end(), a.w.data() + m * A);
  }
  matmul_linear_forward(a.r.data(), a.xm[3].data(), w.receptance, M, C, A);
  matmul_linear_forward(a.k.data(), a.xm[1].data(), w.key, M, C, A);
  matmul_linear_forward(a.v.data(), a.xm[2].data(), w.value, M, C, A);
  matmul_linear_forward(a.gpre.data(), a.xm[4].data(), w.gate, M, C, A);
  act_forward(a.g.data(), a.gpre.data(), M * A, Act::Silu);
  wkv6_train_forward(a.y.data(), a.ckpt.data(), a.r.data(), a.k.data(), a.v.data(), a.w.data(), w.faaaa, d.B, d.T,
                     d.H, d.N);
  const float* gn_in = a.y.data();
  if (!d.x060) {
    const float inv = 1.f / float(d.head_size_divisor);
    for (int64_t i = 0; i < M * A; i++) a.ys[size_t(i)] = a.y[size_t(i)] * inv;
    gn_in = a.ys.data();
  }
  groupnorm_forward(a.z.data(), a.gn_mean.data(), a.gn_rstd.data(), gn_in, w.ln_x_w, w.ln_x_b, M, A, d.H, gn_eps(d));
  mul_forward(a.zg.data(), a.z.data(), a.g.data(), M * A);
  matmul_linear_forward(x_out, a.zg.data(), w.output, M, A, C);
  for (int64_t i = 0; i < M * C; i++) a.x_mid[size_t(i)] = x_in[i] + x_out[i];

  // Channel mix.
  layernorm_forward(a.ln2.data(), a.ln2_mean.data(), a.ln2_rstd.data(), a.x_mid.data(), w.ln2_w, w.ln2_b, M, C,
                    kLnEps);
  token_shift_forward(a.fxx.data(), a.ln2.data(), nullptr, d.B, d.T, C);
  const std::vector<float> mk = d.x060 ? std::vector<float>(w.ffn_mix_k, w.ffn_mix_k + C) : one_minus(w.ffn_mix_k, C);
  const std::vector<float> mr = d.x060 ? std::vector<float>(w.ffn_mix_r, w.ffn_mix_r + C) : one_minus(w.ffn_mix_r, C);
  mix_forward(a.fxk.data(), a.ln2.data(), a.fxx.data(), mk.data(), M, C);
  mix_forward(a.fxr.data(), a.ln2.data(), a.fxx.data(), mr.data(), M, C);
  matmul_linear_forward(a.fpre.data(), a.fxk.data(), w.ffn_key, M, C, F);
  act_forward(a.fh.data(), a.fpre.data(), M * F, Act::Relu2);
  matmul_linear_forward(a.fkv.data(), a.fh.data(), w.ffn_value, M, F, C);
  matmul_linear_forward(a.frp.data(), a.fxr.data(), w.ffn_receptance, M, C, C);
  act_forward(a.fr.data(), a.frp.data(), M * C, Act::Sigmoid);
  for (int64_t i = 0; i < M * C; i++) x_out[i] = a.x_mid[size_t(i)] + a.fr[size_t(i)] * a.fkv[size_t(i)];
}

void rwkv56_layer_backward(const Rwkv56LayerParams& w, const Rwkv56LayerParams& gw,
                           const Rwkv56LayerActs& a, Rwkv56BackScratch& s, const Rwkv56Dims& d,
                           const float* x_in, float* dres) {
  const int64_t M = d.M;
  const int C = d.C, A = d.A, F = d.F;
  const size_t MC = size_t(M) * C, MA = size_t(M) * A;
  for (auto& v : s.c) v.resize(MC);
  for (auto& v : s.a) v.resize(MA);
  for (auto& v : s.f) v.resize(size_t(M) * F);
  const size_t lo_n = size_t(M) * size_t(std::max(5 * d.Dm, d.Dw));
  for (auto& v : s.lo) v.resize(std::max<size_t>(lo_n, 1));
  s.los.resize(std::max<size_t>(size_t(5) * M * d.Dm, 1));
  s.vec.resize(size_t(C));
  auto& c = s.c;
  auto& ga = s.a;
  // x052's mixes are 1 - time_mix: the gradient of the mix is minus the gradient of mu.
  auto mix_back = [&](float* dln, float* dxx, float* gmix, const float* dout, const float* xx, const float* mix) {
    if (d.x060) return mix_backward(dln, dxx, gmix, dout, xx, mix, M, C);
    zero(s.vec);
    mix_backward(dln, dxx, s.vec.data(), dout, xx, one_minus(mix, C).data(), M, C);
    for (int i = 0; i < C; i++) gmix[i] -= s.vec[size_t(i)];
  };

  // ---- channel mix: out = sigmoid(frp) * value(relu(key(fxk))^2) ----
  for (int i = 0; i < 6; i++) zero(c[i]);
  for (auto& v : s.f) zero(v);
  mul_backward(c[1].data(), c[0].data(), dres, a.fr.data(), a.fkv.data(), int64_t(MC));  // d fr, d fkv
  act_backward(c[2].data(), c[1].data(), a.frp.data(), a.fr.data(), int64_t(MC), Act::Sigmoid);
  matmul_linear_backward(c[3].data(), gw.ffn_receptance, c[2].data(), a.fxr.data(), w.ffn_receptance, M, C, C);
  matmul_linear_backward(s.f[0].data(), gw.ffn_value, c[0].data(), a.fh.data(), w.ffn_value, M, F, C);
  act_backward(s.f[1].data(), s.f[0].data(), a.fpre.data(), a.fh.data(), M * F, Act::Relu2);
  matmul_linear_backward(c[4].data(), gw.ffn_key, s.f[1].data(), a.fxk.data(), w.ffn_key, M, C, F);
  zero(c[0]);  // d fxx
  mix_back(c[5].data(), c[0].data(), gw.ffn_mix_k, c[4].data(), a.fxx.data(), w.ffn_mix_k);
  mix_back(c[5].data(), c[0].data(), gw.ffn_mix_r, c[3].data(), a.fxx.data(), w.ffn_mix_r);
  token_shift_backward(c[5].data(), nullptr, c[0].data(), d.B, d.T, C);
  layernorm_backward(dres, gw.ln2_w, gw.ln2_b, c[5].data(), a.x_mid.data(), w.ln2_w, a.ln2_mean.data(),
                     a.ln2_rstd.data(), M, C);

  // ---- time mix tail: out = W_o (GroupNorm(y) * silu(gpre)) ----
  for (auto& v : ga) zero(v);
  matmul_linear_backward(ga[0].data(), gw.output, dres, a.zg.data(), w.output, M, A, C);
  mul_backward(ga[1].data(), ga[2].data(), ga[0].data(), a.z.data(), a.g.data(), int64_t(MA));  // d z, d g
  act_backward(ga[3].data(), ga[2].data(), a.gpre.data(), a.g.data(), int64_t(MA), Act::Silu);
  groupnorm_backward(ga[4].data(), gw.ln_x_w, gw.ln_x_b, ga[1].data(), d.x060 ? a.y.data() : a.ys.data(), w.ln_x_w,
                     a.gn_mean.data(), a.gn_rstd.data(), M, A, d.H);
  if (!d.x060) {
    const float inv = 1.f / float(d.head_size_divisor);
    for (size_t i = 0; i < MA; i++) ga[4][i] *= inv;
  }
  zero(ga[0]), zero(ga[1]), zero(ga[2]);
  wkv6_backward(ga[0].data(), ga[1].data(), ga[2].data(), ga[5].data(), gw.faaaa, ga[4].data(), a.r.data(),
                a.k.data(), a.v.data(), a.w.data(), w.faaaa, a.ckpt.data(), d.B, d.T, d.H, d.N);
  for (int i = 0; i < 9; i++) zero(c[i]);
  if (d.x060) {
    wkv6_decay_backward(ga[6].data(), gw.time_decay, ga[5].data(), a.w.data(), a.wl.data(), w.time_decay, M, A);
    zero(s.lo[0]), zero(s.lo[1]);
    matmul_plain_backward(s.lo[0].data(), gw.decay_w2, ga[6].data(), a.dh.data(), w.decay_w2, M, d.Dw, A);
    act_backward(s.lo[1].data(), s.lo[0].data(), nullptr, a.dh.data(), M * d.Dw, Act::Tanh);
    matmul_plain_backward(c[0].data(), gw.decay_w1, s.lo[1].data(), a.xm[0].data(), w.decay_w1, M, C, d.Dw);
  } else {
    wkv6_decay_backward(nullptr, gw.time_decay, ga[5].data(), a.w.data(), nullptr, w.time_decay, M, A);
  }
  // d of the mixed inputs: w c[0] (x060), k c[2], v c[3], r c[1], g c[4]
  float* dxm[5] = {c[0].data(), c[2].data(), c[3].data(), c[1].data(), c[4].data()};
  matmul_linear_backward(dxm[3], gw.receptance, ga[0].data(), a.xm[3].data(), w.receptance, M, C, A);
  matmul_linear_backward(dxm[1], gw.key, ga[1].data(), a.xm[1].data(), w.key, M, C, A);
  matmul_linear_backward(dxm[2], gw.value, ga[2].data(), a.xm[2].data(), w.value, M, C, A);
  matmul_linear_backward(dxm[4], gw.gate, ga[3].data(), a.xm[4].data(), w.gate, M, C, A);
  float *dln1 = c[5].data(), *dxx = c[6].data();
  if (d.x060) {
    const int Dm = d.Dm, D5 = 5 * Dm;
    zero(s.lo[0]), zero(s.los);
    for (int f = 0; f < 5; f++) {
      zero(c[7]);
      ddlerp_backward(dln1, dxx, gw.maa[f], c[7].data(), dxm[f], a.xx.data(), w.maa[f], a.mf.data() + f * M * C, M, C);
      float* dsl = s.los.data() + f * M * Dm;
      matmul_plain_backward(dsl, gw.maa_w2 + int64_t(f) * Dm * C, c[7].data(), a.mhs.data() + f * M * Dm,
                            w.maa_w2 + int64_t(f) * Dm * C, M, Dm, C);
      for (int64_t m = 0; m < M; m++) std::copy_n(dsl + m * Dm, Dm, s.lo[0].data() + m * D5 + f * Dm);
    }
    zero(s.lo[1]);
    act_backward(s.lo[1].data(), s.lo[0].data(), nullptr, a.mh.data(), M * D5, Act::Tanh);
    matmul_plain_backward(c[8].data(), gw.maa_w1, s.lo[1].data(), a.xxx.data(), w.maa_w1, M, C, D5);
    mix_backward(dln1, dxx, gw.maa_x, c[8].data(), a.xx.data(), w.maa_x, M, C);
  } else {
    const float* mix[5] = {nullptr, w.mix_k, w.mix_v, w.mix_r, w.mix_g};
    float* gmix[5] = {nullptr, gw.mix_k, gw.mix_v, gw.mix_r, gw.mix_g};
    for (int f = 1; f < 5; f++) mix_back(dln1, dxx, gmix[f], dxm[f], a.xx.data(), mix[f]);
  }
  token_shift_backward(dln1, nullptr, dxx, d.B, d.T, C);
  layernorm_backward(dres, gw.ln1_w, gw.ln1_b, dln1, x_in, w.ln1_w, a.ln1_mean.data(), a.ln1_rstd.data(), M, C);
}

}  // namespace rwkv
