// test_rwkv7_ops64.cpp — RWKV-7's per-head forward ops at the model's head size N = 64, where the
// CPU takes its AVX-512 paths (test_ops_grad.cpp checks the backwards on N = 4, the scalar ones):
//  - wkv7_forward of a prefill (T >= 8, no checkpoints: the transposed multi-step kernel) vs an
//    fp64 recurrence, vs the same tokens one call each (the decode step), and bit for bit equal to
//    them under the row-invariant switch (ops/row_invariant.h: one kernel at any T);
//  - tmix_kk_forward and tmix_out_forward vs fp64 references of their formulas (ops/tmix_kk.h,
//    ops/tmix_out.h); tmix_kk without its kk / norm outputs gives the others' same bits.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ops/row_invariant.h"
#include "ops/tmix_kk.h"
#include "ops/tmix_out.h"
#include "ops/wkv7.h"
#include "test_util.h"

using namespace rwkv;
using Vec = std::vector<float>;

namespace {

using test::rnd;
namespace tol = test::tol;

constexpr int N = 64;

struct WkvInputs {
  int B, T, H;
  Vec r, w, k, v, a, b, s0;  // (B,T,H,N) each; s0 (B,H,N,N)
};

// a = -kk, b = kk * a_gate with kk of unit norm per head, as the model feeds them
WkvInputs wkv_inputs(int B, int T, int H, std::mt19937& g) {
  const size_t n = size_t(B) * T * H * N;
  WkvInputs in{B, T, H, rnd(n, g), rnd(n, g, 0.6f, 0.999f), rnd(n, g), rnd(n, g), Vec(n), Vec(n),
               rnd(size_t(B) * H * N * N, g, -0.5f, 0.5f)};
  const Vec kk = rnd(n, g), gate = rnd(n, g, 0.f, 1.f);
  for (size_t i = 0; i < n; i += N) {
    double s = 0;
    for (int j = 0; j < N; j++) s += double(kk[i + j]) * kk[i + j];
    for (int j = 0; j < N; j++) {
      const float q = float(kk[i + j] / std::sqrt(s));
      in.a[i + j] = -q;
      in.b[i + j] = q * gate[i + j];
    }
  }
  return in;
}

// y (B,T,H,N) and the final state by the recurrence of ops/wkv7.h in fp64
void wkv_reference(const WkvInputs& in, Vec& y, Vec& s_out) {
  const int B = in.B, T = in.T, H = in.H;
  y.assign(in.r.size(), 0.f);
  s_out.assign(in.s0.size(), 0.f);
  for (int bh = 0; bh < B * H; bh++) {
    const int bi = bh / H, h = bh % H;
    std::vector<double> S(in.s0.begin() + size_t(bh) * N * N, in.s0.begin() + size_t(bh + 1) * N * N);
    for (int t = 0; t < T; t++) {
      const size_t o = (size_t(bi) * T + t) * H * N + size_t(h) * N;
      for (int i = 0; i < N; i++) {
        double sa = 0, yi = 0;
        for (int j = 0; j < N; j++) sa += S[i * N + j] * in.a[o + j];
        for (int j = 0; j < N; j++) {
          S[i * N + j] = S[i * N + j] * in.w[o + j] + sa * in.b[o + j] + double(in.v[o + i]) * in.k[o + j];
          yi += S[i * N + j] * in.r[o + j];
        }
        y[o + i] = float(yi);
      }
    }
    for (int e = 0; e < N * N; e++) s_out[size_t(bh) * N * N + e] = float(S[e]);
  }
}

// the same tokens one call each (T = 1: the decode step), carrying the state
void wkv_token_by_token(const WkvInputs& in, Vec& y, Vec& s) {
  const int B = in.B, T = in.T, H = in.H, HN = H * N;
  y.assign(in.r.size(), 0.f);
  s = in.s0;
  Vec r1(size_t(B) * HN), w1(r1.size()), k1(r1.size()), v1(r1.size()), a1(r1.size()), b1(r1.size()), y1(r1.size());
  for (int t = 0; t < T; t++) {
    auto pick = [&](const Vec& src, Vec& dst) {
      for (int bi = 0; bi < B; bi++)
        std::memcpy(&dst[size_t(bi) * HN], &src[(size_t(bi) * T + t) * HN], sizeof(float) * HN);
    };
    pick(in.r, r1), pick(in.w, w1), pick(in.k, k1), pick(in.v, v1), pick(in.a, a1), pick(in.b, b1);
    wkv7_forward(y1.data(), s.data(), nullptr, r1.data(), w1.data(), k1.data(), v1.data(), a1.data(), b1.data(),
                 s.data(), B, 1, H, N);
    for (int bi = 0; bi < B; bi++)
      std::memcpy(&y[(size_t(bi) * T + t) * HN], &y1[size_t(bi) * HN], sizeof(float) * HN);
  }
}

}  // namespace

TEST(Rwkv7Ops64, Wkv7PrefillMatchesFp64AndTheDecodeStep) {
  std::mt19937 g(64);
  for (int T : {8, 41, 200}) {
    SCOPED_TRACE(testing::Message() << "T = " << T);
    const WkvInputs in = wkv_inputs(2, T, 3, g);
    Vec y(in.r.size()), s(in.s0.size());
    wkv7_forward(y.data(), s.data(), nullptr, in.r.data(), in.w.data(), in.k.data(), in.v.data(), in.a.data(),
                 in.b.data(), in.s0.data(), in.B, T, in.H, N);
    Vec y_ref, s_ref;
    wkv_reference(in, y_ref, s_ref);
    EXPECT_LE(test::tol_excess(y, y_ref, tol::fp32_logits), 0.0);
    EXPECT_LE(test::tol_excess(s, s_ref, tol::fp32_logits), 0.0);
    Vec y_step, s_step;
    wkv_token_by_token(in, y_step, s_step);
    EXPECT_LE(test::tol_excess(y, y_step, tol::fp32_modes), 0.0);
    EXPECT_LE(test::tol_excess(s, s_step, tol::fp32_modes), 0.0);
#if defined(__AVX512F__)
    // the prefill kernel ran: its sums go in another order than the step's
    EXPECT_NE(std::memcmp(y.data(), y_step.data(), sizeof(float) * y.size()), 0);
#endif
    {  // row-invariant: the step's kernel at any T, so the same bits as token by token
      const RowInvariantScope on(true);
      Vec yi(in.r.size()), si(in.s0.size());
      wkv7_forward(yi.data(), si.data(), nullptr, in.r.data(), in.w.data(), in.k.data(), in.v.data(),
                   in.a.data(), in.b.data(), in.s0.data(), in.B, T, in.H, N);
      EXPECT_EQ(std::memcmp(yi.data(), y_step.data(), sizeof(float) * yi.size()), 0);
      EXPECT_EQ(std::memcmp(si.data(), s_step.data(), sizeof(float) * si.size()), 0);
    }
  }
}

TEST(Rwkv7Ops64, TmixKkMatchesFp64) {
  std::mt19937 g(65);
  const int M = 5, H = 3, C = H * N;
  const Vec k = rnd(M * C, g, -2, 2), k_k = rnd(C, g), a = rnd(M * C, g, 0.f, 1.f), k_a = rnd(C, g);
  Vec k2(M * C), na(M * C), kka(M * C), kk(M * C), nrm(M * H);
  tmix_kk_forward(k2.data(), na.data(), kka.data(), kk.data(), nrm.data(), k.data(), k_k.data(), a.data(),
                  k_a.data(), M, H, N);
  Vec k2_ref(M * C), na_ref(M * C), kka_ref(M * C), kk_ref(M * C), nrm_ref(M * H);
  for (int m = 0; m < M; m++)
    for (int h = 0; h < H; h++) {
      const int o = m * C + h * N;
      double ss = 0;
      for (int n = 0; n < N; n++) ss += std::pow(double(k[o + n]) * k_k[h * N + n], 2);
      const double nr = std::sqrt(ss);
      nrm_ref[m * H + h] = float(nr);
      for (int n = 0; n < N; n++) {
        const double q = double(k[o + n]) * k_k[h * N + n] / nr;
        kk_ref[o + n] = float(q);
        na_ref[o + n] = float(-q);
        kka_ref[o + n] = float(q * a[o + n]);
        k2_ref[o + n] = float(k[o + n] * (1.0 + (double(a[o + n]) - 1.0) * k_a[h * N + n]));
      }
    }
  EXPECT_LE(test::tol_excess(nrm, nrm_ref, tol::fp32_gemv), 0.0);
  EXPECT_LE(test::tol_excess(kk, kk_ref, tol::fp32_gemv), 0.0);
  EXPECT_LE(test::tol_excess(na, na_ref, tol::fp32_gemv), 0.0);
  EXPECT_LE(test::tol_excess(kka, kka_ref, tol::fp32_gemv), 0.0);
  EXPECT_LE(test::tol_excess(k2, k2_ref, tol::fp32_gemv), 0.0);
  // an inference forward passes no kk / nrm: the other outputs keep their bits
  Vec k2b(M * C), nab(M * C), kkab(M * C);
  tmix_kk_forward(k2b.data(), nab.data(), kkab.data(), nullptr, nullptr, k.data(), k_k.data(), a.data(), k_a.data(), M,
                  H, N);
  EXPECT_EQ(k2b, k2);
  EXPECT_EQ(nab, na);
  EXPECT_EQ(kkab, kka);
}

TEST(Rwkv7Ops64, TmixOutMatchesFp64) {
  std::mt19937 g(66);
  const int M = 5, H = 3, C = H * N;
  const Vec y = rnd(M * C, g, -2, 3), r = rnd(M * C, g), k = rnd(M * C, g), v = rnd(M * C, g), rk = rnd(C, g),
            lw = rnd(C, g, 0.5, 1.5), lb = rnd(C, g), gg = rnd(M * C, g);
  Vec out(M * C), z(M * C), mean(M * H), rstd(M * H), bonus(M * H);
  tmix_out_forward(out.data(), z.data(), mean.data(), rstd.data(), bonus.data(), y.data(), r.data(), k.data(),
                   v.data(), rk.data(), lw.data(), lb.data(), gg.data(), M, H, N);
  Vec out_ref(M * C), z_ref(M * C), mean_ref(M * H), rstd_ref(M * H), bonus_ref(M * H);
  for (int m = 0; m < M; m++)
    for (int h = 0; h < H; h++) {
      const int o = m * C + h * N;
      double mu = 0, var = 0, bs = 0;
      for (int n = 0; n < N; n++) mu += y[o + n];
      mu /= N;
      for (int n = 0; n < N; n++) var += (y[o + n] - mu) * (y[o + n] - mu);
      for (int n = 0; n < N; n++) bs += double(r[o + n]) * k[o + n] * rk[h * N + n];
      const double rs = 1.0 / std::sqrt(var / N + LN_X_EPS);
      mean_ref[m * H + h] = float(mu), rstd_ref[m * H + h] = float(rs), bonus_ref[m * H + h] = float(bs);
      for (int n = 0; n < N; n++) {
        const int c = h * N + n;
        const double zz = (y[o + n] - mu) * rs * lw[c] + lb[c] + bs * v[o + n];
        z_ref[o + n] = float(zz);
        out_ref[o + n] = float(zz * gg[o + n]);
      }
    }
  EXPECT_LE(test::tol_excess(mean, mean_ref, tol::fp32_gemv), 0.0);
  EXPECT_LE(test::tol_excess(rstd, rstd_ref, tol::fp32_gemv), 0.0);
  EXPECT_LE(test::tol_excess(bonus, bonus_ref, tol::fp32_gemv), 0.0);
  EXPECT_LE(test::tol_excess(z, z_ref, tol::fp32_gemv), 0.0);
  EXPECT_LE(test::tol_excess(out, out_ref, tol::fp32_gemv), 0.0);
}
