// test_ops_grad.cpp — finite-difference checks of every CPU op's backward (src/ops) on tiny
// shapes: the loss is sum(out * proj) for fixed random proj, evaluated in double; central
// differences of fp32 forwards are compared with the analytic backward per tensor.
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ops/activation.h"
#include "ops/embedding.h"
#include "ops/l2wrap_ce.h"
#include "ops/layernorm.h"
#include "ops/lora.h"
#include "ops/matmul.h"
#include "ops/tmix_kk.h"
#include "ops/tmix_out.h"
#include "ops/token_shift.h"
#include "ops/wkv7.h"
#include "test_fd.h"
#include "test_util.h"

using namespace rwkv;
using Vec = std::vector<float>;

namespace {

using rwkv::test::rnd;

using test::check_fd;
using test::dotd;
using test::Input;

}  // namespace

TEST(OpsGrad, LayerNormAndGroupNorm) {
  std::mt19937 g(1);
  const int M = 5, C = 12;
  for (int G : {1, 3}) {
    Vec x = rnd(M * C, g, -2, 2), w = rnd(C, g, 0.5, 1.5), b = rnd(C, g), proj = rnd(M * C, g);
    Vec out(M * C), mean(M * G), rstd(M * G);
    auto loss = [&] {
      groupnorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), M, C, G, 1e-5f);
      return dotd(out, proj);
    };
    loss();
    Vec dx(M * C, 0.f), dw(C, 0.f), db(C, 0.f);
    groupnorm_backward(dx.data(), dw.data(), db.data(), proj.data(), x.data(), w.data(), mean.data(),
                       rstd.data(), M, C, G);
    check_fd(loss, {{"x", &x, &dx}, {"w", &w, &dw}, {"b", &b, &db}});
  }
  // layernorm_* is groupnorm with one group: same numbers.
  Vec x = rnd(M * C, g), w = rnd(C, g), b = rnd(C, g), o1(M * C), o2(M * C);
  layernorm_forward(o1.data(), nullptr, nullptr, x.data(), w.data(), b.data(), M, C, 1e-5f);
  groupnorm_forward(o2.data(), nullptr, nullptr, x.data(), w.data(), b.data(), M, C, 1, 1e-5f);
  EXPECT_EQ(o1, o2);
}

TEST(OpsGrad, Matmul) {
  std::mt19937 g(2);
  const int M = 4, K = 6, N = 5;
  for (bool plain : {false, true}) {
    Vec x = rnd(M * K, g), W = rnd(K * N, g), proj = rnd(M * N, g), out(M * N);
    auto loss = [&] {
      if (plain)
        matmul_plain_forward(out.data(), x.data(), W.data(), M, K, N);
      else
        matmul_linear_forward(out.data(), x.data(), W.data(), M, K, N);
      return dotd(out, proj);
    };
    Vec dx(M * K, 0.f), dW(K * N, 0.f);
    if (plain)
      matmul_plain_backward(dx.data(), dW.data(), proj.data(), x.data(), W.data(), M, K, N);
    else
      matmul_linear_backward(dx.data(), dW.data(), proj.data(), x.data(), W.data(), M, K, N);
    check_fd(loss, {{"x", &x, &dx}, {"W", &W, &dW}});
  }
  // One row goes through sgemv: same result as the first row of a 2-row sgemm.
  Vec x = rnd(2 * K, g), W = rnd(N * K, g), o1(N), o2(2 * N);
  matmul_linear_forward(o1.data(), x.data(), W.data(), 1, K, N);
  matmul_linear_forward(o2.data(), x.data(), W.data(), 2, K, N);
  for (int n = 0; n < N; n++) EXPECT_NEAR(o1[n], o2[n], 1e-6);
}

TEST(OpsGrad, TokenShiftAndMix) {
  std::mt19937 g(3);
  const int B = 2, T = 4, C = 3;
  Vec x = rnd(B * T * C, g), prev = rnd(B * C, g), mu = rnd(C, g), proj = rnd(B * T * C, g);
  Vec xx(B * T * C), out(B * T * C);
  auto loss = [&] {
    token_shift_forward(xx.data(), x.data(), prev.data(), B, T, C);
    mix_forward(out.data(), x.data(), xx.data(), mu.data(), B * T, C);
    return dotd(out, proj);
  };
  loss();
  Vec dx(x.size(), 0.f), dprev(prev.size(), 0.f), dxx(xx.size(), 0.f), dmu(C, 0.f);
  mix_backward(dx.data(), dxx.data(), dmu.data(), proj.data(), xx.data(), mu.data(), B * T, C);
  token_shift_backward(dx.data(), dprev.data(), dxx.data(), B, T, C);
  check_fd(loss, {{"x", &x, &dx}, {"prev", &prev, &dprev}, {"mu", &mu, &dmu}});
  // Without a previous state, the first token's shift is -x.
  token_shift_forward(xx.data(), x.data(), nullptr, B, T, C);
  EXPECT_EQ(xx[0], -x[0]);
  EXPECT_EQ(xx[T * C], -x[T * C]);
}

TEST(OpsGrad, Activations) {
  std::mt19937 g(4);
  const int n = 40;
  for (Act act : {Act::Tanh, Act::Sigmoid, Act::Relu2, Act::Decay}) {
    Vec x = rnd(n, g, -3, 3), proj = rnd(n, g), out(n);
    for (auto& v : x)
      if (std::fabs(v) < 0.01f) v = 0.5f;  // keep relu^2 away from its kink
    auto loss = [&] {
      act_forward(out.data(), x.data(), n, act);
      return dotd(out, proj);
    };
    loss();
    Vec dx(n, 0.f);
    act_backward(dx.data(), proj.data(), x.data(), out.data(), n, act);
    check_fd(loss, {{"act " + std::to_string(int(act)), &x, &dx}});
  }
  // Decay: exp(-exp(-softplus(-w) - 0.5)), the official soft clamp.
  for (float w : {-5.f, -0.3f, 0.f, 2.f, 8.f}) {
    float out;
    act_forward(&out, &w, 1, Act::Decay);
    double ref = std::exp(-std::exp(-std::log1p(std::exp(-double(w))) - 0.5));
    EXPECT_NEAR(out, ref, 1e-6) << w;
  }
}

TEST(OpsGrad, Lora) {
  std::mt19937 g(5);
  const int M = 3, C = 6, D = 4;
  for (LoraAct act : {LoraAct::None, LoraAct::Tanh, LoraAct::Sigmoid}) {
    Vec x = rnd(M * C, g), w1 = rnd(C * D, g), w2 = rnd(D * C, g), bias = rnd(C, g),
        proj = rnd(M * C, g), out(M * C), h(M * D);
    auto loss = [&] {
      lora_forward(out.data(), h.data(), x.data(), w1.data(), w2.data(), bias.data(), M, C, D, act);
      return dotd(out, proj);
    };
    loss();
    Vec dx(x.size(), 0.f), dw1(w1.size(), 0.f), dw2(w2.size(), 0.f), db(C, 0.f), dh(M * D);
    lora_backward(dx.data(), dw1.data(), dw2.data(), db.data(), dh.data(), proj.data(), x.data(),
                  h.data(), w1.data(), w2.data(), M, C, D, act);
    check_fd(loss, {{"x", &x, &dx}, {"w1", &w1, &dw1}, {"w2", &w2, &dw2}, {"bias", &bias, &db}});
  }
}

TEST(OpsGrad, Embedding) {
  std::mt19937 g(6);
  const int M = 5, C = 3, V = 4;
  std::vector<int32_t> tok = {1, 3, 1, 0, 1};
  Vec table = rnd(V * C, g), proj = rnd(M * C, g), out(M * C);
  auto loss = [&] {
    embedding_forward(out.data(), tok.data(), table.data(), M, C);
    return dotd(out, proj);
  };
  Vec dt(table.size(), 0.f);
  embedding_backward(dt.data(), proj.data(), tok.data(), M, C);
  check_fd(loss, {{"table", &table, &dt}});
}

TEST(OpsGrad, CrossEntropyAndL2Wrap) {
  std::mt19937 g(7);
  const int M = 4, V = 9;
  Vec logits = rnd(M * V, g, -3, 3);
  std::vector<int32_t> tgt = {0, 8, 3, 3};
  const float scale = 1.f / M;
  auto loss = [&] { return l2wrap_ce_forward(nullptr, logits.data(), tgt.data(), M, V) * scale; };
  Vec d(M * V);
  l2wrap_ce_backward(d.data(), logits.data(), tgt.data(), M, V, scale, 0.f);
  check_fd(loss, {{"logits", &logits, &d}});
  // L2Wrap adds factor * max at each row's argmax and nothing elsewhere.
  Vec d2(M * V);
  const float factor = 1e-4f / M;
  l2wrap_ce_backward(d2.data(), logits.data(), tgt.data(), M, V, scale, factor);
  for (int m = 0; m < M; m++) {
    int am = 0;
    for (int i = 1; i < V; i++)
      if (logits[m * V + i] > logits[m * V + am]) am = i;
    for (int i = 0; i < V; i++) {
      float extra = i == am ? factor * logits[m * V + am] : 0.f;
      EXPECT_NEAR(d2[m * V + i], d[m * V + i] + extra, 1e-7) << m << "," << i;
    }
  }
  // Per-row losses are -log softmax at the target.
  Vec rows(M);
  double total = l2wrap_ce_forward(rows.data(), logits.data(), tgt.data(), M, V);
  double sum = 0, lse = 0;
  for (int i = 0; i < V; i++) lse += std::exp(double(logits[i]));
  EXPECT_NEAR(rows[0], std::log(lse) - logits[0], 1e-5);
  for (float r : rows) sum += r;
  EXPECT_NEAR(total, sum, 1e-5);
  // A negative target is a padding row: loss 0, gradient 0 (no L2Wrap); the others unchanged.
  std::vector<int32_t> pad = {0, -1, 3, -1};
  Vec prow(M), d3(M * V, 5.f);
  const double ptotal = l2wrap_ce_forward(prow.data(), logits.data(), pad.data(), M, V);
  EXPECT_EQ(prow[1], 0.f);
  EXPECT_EQ(prow[3], 0.f);
  EXPECT_EQ(prow[0], rows[0]);
  EXPECT_EQ(prow[2], rows[2]);
  EXPECT_NEAR(ptotal, double(rows[0]) + rows[2], 1e-5);
  l2wrap_ce_backward(d3.data(), logits.data(), pad.data(), M, V, scale, factor);
  for (int i = 0; i < V; i++) {
    EXPECT_EQ(d3[1 * V + i], 0.f);
    EXPECT_EQ(d3[3 * V + i], 0.f);
    EXPECT_EQ(d3[0 * V + i], d2[0 * V + i]);
    EXPECT_EQ(d3[2 * V + i], d2[2 * V + i]);
  }
}

TEST(OpsGrad, TmixKk) {
  std::mt19937 g(8);
  const int M = 3, H = 2, N = 4, C = H * N;
  Vec k = rnd(M * C, g), k_k = rnd(C, g), a = rnd(M * C, g, 0.1f, 0.9f), k_a = rnd(C, g);
  Vec p1 = rnd(M * C, g), p2 = rnd(M * C, g), p3 = rnd(M * C, g);
  Vec k2(M * C), na(M * C), kka(M * C), kk(M * C), nrm(M * H);
  auto loss = [&] {
    tmix_kk_forward(k2.data(), na.data(), kka.data(), kk.data(), nrm.data(), k.data(), k_k.data(),
                    a.data(), k_a.data(), M, H, N);
    return dotd(k2, p1) + dotd(na, p2) + dotd(kka, p3);
  };
  loss();
  Vec dk(k.size(), 0.f), da(a.size(), 0.f), dkk(C, 0.f), dka(C, 0.f);
  tmix_kk_backward(dk.data(), da.data(), dkk.data(), dka.data(), p1.data(), p2.data(), p3.data(),
                   k.data(), k_k.data(), a.data(), k_a.data(), kk.data(), nrm.data(), M, H, N);
  check_fd(loss, {{"k", &k, &dk}, {"a", &a, &da}, {"k_k", &k_k, &dkk}, {"k_a", &k_a, &dka}});
  // Each head of kk has unit norm.
  for (int m = 0; m < M; m++)
    for (int h = 0; h < H; h++) {
      double s = 0;
      for (int n = 0; n < N; n++) s += double(kk[m * C + h * N + n]) * kk[m * C + h * N + n];
      EXPECT_NEAR(s, 1.0, 1e-5);
    }
}

TEST(OpsGrad, TmixOutAndValueResidual) {
  std::mt19937 g(9);
  const int M = 3, H = 2, N = 4, C = H * N;
  Vec y = rnd(M * C, g, -2, 2), r = rnd(M * C, g), k = rnd(M * C, g), v = rnd(M * C, g),
      rk = rnd(C, g), lw = rnd(C, g, 0.5, 1.5), lb = rnd(C, g), gg = rnd(M * C, g),
      proj = rnd(M * C, g);
  Vec out(M * C), z(M * C), mean(M * H), rstd(M * H), bonus(M * H);
  auto loss = [&] {
    tmix_out_forward(out.data(), z.data(), mean.data(), rstd.data(), bonus.data(), y.data(),
                     r.data(), k.data(), v.data(), rk.data(), lw.data(), lb.data(), gg.data(), M,
                     H, N);
    return dotd(out, proj);
  };
  loss();
  Vec dy(M * C, 0.f), dr(M * C, 0.f), dk(M * C, 0.f), dv(M * C, 0.f), dg(M * C, 0.f), drk(C, 0.f),
      dlw(C, 0.f), dlb(C, 0.f);
  tmix_out_backward(dy.data(), dr.data(), dk.data(), dv.data(), dg.data(), drk.data(), dlw.data(),
                    dlb.data(), proj.data(), y.data(), r.data(), k.data(), v.data(), rk.data(),
                    lw.data(), gg.data(), z.data(), mean.data(), rstd.data(), bonus.data(), M, H, N);
  check_fd(loss, {{"y", &y, &dy}, {"r", &r, &dr}, {"k", &k, &dk}, {"v", &v, &dv}, {"g", &gg, &dg},
                  {"r_k", &rk, &drk}, {"ln_x.w", &lw, &dlw}, {"ln_x.b", &lb, &dlb}});

  Vec vf = rnd(M * C, g), s = rnd(M * C, g, 0.1f, 0.9f), o2(M * C);
  auto loss2 = [&] {
    vres_forward(o2.data(), v.data(), vf.data(), s.data(), M, C);
    return dotd(o2, proj);
  };
  Vec dv2(M * C, 0.f), dvf(M * C, 0.f), ds(M * C, 0.f);
  vres_backward(dv2.data(), dvf.data(), ds.data(), proj.data(), v.data(), vf.data(), s.data(), M, C);
  check_fd(loss2, {{"v", &v, &dv2}, {"v_first", &vf, &dvf}, {"s", &s, &ds}});
}

TEST(OpsGrad, Wkv7) {
  std::mt19937 g(10);
  // T = 37 spans three checkpoint chunks (16, 16, 5).
  const int B = 2, T = 37, H = 2, N = 4, n = B * T * H * N;
  Vec r = rnd(n, g), w = rnd(n, g, 0.6f, 0.99f), k = rnd(n, g), v = rnd(n, g);
  Vec a(n), b(n);
  {  // a = -kk, b = kk * a_gate with unit-norm kk per head, as the model feeds it
    Vec kk = rnd(n, g), ag = rnd(n, g, 0.f, 1.f);
    for (int i = 0; i < n; i += N) {
      double s = 0;
      for (int j = 0; j < N; j++) s += kk[i + j] * kk[i + j];
      for (int j = 0; j < N; j++) {
        float q = float(kk[i + j] / std::sqrt(s));
        a[i + j] = -q;
        b[i + j] = q * ag[i + j];
      }
    }
  }
  Vec s0 = rnd(B * H * N * N, g, -0.5, 0.5), py = rnd(n, g), ps = rnd(B * H * N * N, g);
  Vec y(n), sout(B * H * N * N), ckpt(B * H * wkv7_num_chunks(T) * N * N);
  auto loss = [&] {
    wkv7_forward(y.data(), sout.data(), ckpt.data(), r.data(), w.data(), k.data(), v.data(),
                 a.data(), b.data(), s0.data(), B, T, H, N);
    return dotd(y, py) + dotd(sout, ps);
  };
  loss();
  Vec dr(n, 0.f), dw(n, 0.f), dk(n, 0.f), dv(n, 0.f), da(n, 0.f), db(n, 0.f), ds0(s0.size(), 0.f);
  wkv7_backward(dr.data(), dw.data(), dk.data(), dv.data(), da.data(), db.data(), ds0.data(),
                py.data(), ps.data(), r.data(), w.data(), k.data(), v.data(), a.data(), b.data(),
                ckpt.data(), B, T, H, N);
  check_fd(loss, {{"r", &r, &dr}, {"w", &w, &dw}, {"k", &k, &dk}, {"v", &v, &dv}, {"a", &a, &da},
                  {"b", &b, &db}, {"s0", &s0, &ds0}});

  // Splitting the sequence and carrying the state gives the same outputs.
  loss();  // y, sout for the unperturbed inputs
  const int T1 = 10, T2 = T - T1;
  auto slice = [&](const Vec& src, int t0, int len) {
    Vec o(size_t(B) * len * H * N);
    for (int bb = 0; bb < B; bb++)
      for (int t = 0; t < len; t++)
        for (int e = 0; e < H * N; e++)
          o[(size_t(bb) * len + t) * H * N + e] = src[(size_t(bb) * T + t0 + t) * H * N + e];
    return o;
  };
  Vec s = s0;
  for (auto [t0, len] : {std::pair{0, T1}, std::pair{T1, T2}}) {
    Vec rr = slice(r, t0, len), ww = slice(w, t0, len), kk2 = slice(k, t0, len),
        vv = slice(v, t0, len), aa = slice(a, t0, len), bb2 = slice(b, t0, len), yy(rr.size());
    wkv7_forward(yy.data(), s.data(), nullptr, rr.data(), ww.data(), kk2.data(), vv.data(),
                 aa.data(), bb2.data(), s.data(), B, len, H, N);
    Vec yref = slice(y, t0, len);
    for (size_t i = 0; i < yy.size(); i++) ASSERT_NEAR(yy[i], yref[i], 1e-5) << t0 << " " << i;
  }
  for (size_t i = 0; i < s.size(); i++) ASSERT_NEAR(s[i], sout[i], 1e-5);
}
