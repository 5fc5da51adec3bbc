// test_wkv456.cpp — the RWKV-4/5/6 recurrences (ops/wkv4.h, wkv5.h, wkv6.h) against
// straightforward fp64 loops on random inputs (T = 1, 7, 33; H = 1, 3; N = 4, 64), the state
// carried across calls (T1 then T2 == T1 + T2, bit for bit), and WKV-4's max tracking keeping
// huge keys finite.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "ops/wkv4.h"
#include "ops/wkv5.h"
#include "ops/wkv6.h"
#include "test_util.h"

using namespace rwkv;
using Vec = std::vector<float>;

namespace {

using rwkv::test::rnd;

// ---- WKV-4 ----

struct Wkv4Case {
  Vec sr, k, v, w, u, aa, bb, pp;  // sr empty: no gate
};

Wkv4Case wkv4_case(int T, int C, std::mt19937& g, float klo, float khi, bool fresh, bool gate) {
  Wkv4Case c;
  if (gate) c.sr = rnd(size_t(T) * C, g, 0.f, 1.f);
  c.k = rnd(size_t(T) * C, g, klo, khi);
  c.v = rnd(size_t(T) * C, g, -1.f, 1.f);
  c.w = rnd(C, g, -2.f, 1.f);
  for (float& x : c.w) x = -std::exp(x);
  c.u = rnd(C, g, -1.f, 1.f);
  if (fresh) {
    c.aa.assign(C, 0.f), c.bb.assign(C, 0.f), c.pp.assign(C, -1e30f);
  } else {
    c.aa = rnd(C, g, -1.f, 1.f), c.bb = rnd(C, g, 0.5f, 2.f), c.pp = rnd(C, g, -2.f, 2.f);
  }
  return c;
}

// log(sum_i e^(e_i) * x_i) as (max, scaled sum): exact in double for any exponents.
struct LogSum {
  std::vector<double> e, x;
  void add(double ei, double xi) { e.push_back(ei), x.push_back(xi); }
  double ratio(const LogSum& den) const {  // sum(this) / sum(den), both over the same exponents
    double m = -1e300;
    for (double ei : e) m = std::max(m, ei);
    double a = 0, b = 0;
    for (size_t i = 0; i < e.size(); i++) a += std::exp(e[i] - m) * x[i], b += std::exp(e[i] - m) * den.x[i];
    return a / b;
  }
  double log_sum() const {
    double m = -1e300, s = 0;
    for (double ei : e) m = std::max(m, ei);
    for (size_t i = 0; i < e.size(); i++) s += std::exp(e[i] - m) * x[i];
    return m + std::log(s);
  }
};

// y (T, C) and the final state's mean aa/bb and log-denominator pp + log(bb), in fp64 from the
// definition (ops/wkv4.h), without any max tracking.
void wkv4_ref(const Wkv4Case& c, int T, int C, Vec& y, Vec& mean, Vec& logden) {
  y.assign(size_t(T) * C, 0.f), mean.assign(C, 0.f), logden.assign(C, 0.f);
  for (int ch = 0; ch < C; ch++) {
    const double w = c.w[ch], u = c.u[ch];
    LogSum num, den;  // the state's terms, decayed to "before token t"
    if (c.bb[ch] != 0.f) num.add(c.pp[ch], c.aa[ch]), den.add(c.pp[ch], c.bb[ch]);
    for (int t = 0; t < T; t++) {
      const size_t o = size_t(t) * C + ch;
      LogSum n2 = num, d2 = den;
      n2.add(u + c.k[o], c.v[o]), d2.add(u + c.k[o], 1.0);
      y[o] = float((c.sr.empty() ? 1.0 : double(c.sr[o])) * n2.ratio(d2));
      for (double& e : num.e) e += w;
      for (double& e : den.e) e += w;
      num.add(c.k[o], c.v[o]), den.add(c.k[o], 1.0);
    }
    mean[ch] = float(num.ratio(den));
    logden[ch] = float(den.log_sum());
  }
}

void check_wkv4(int T, int C, float klo, float khi, bool fresh, bool gate, uint32_t seed) {
  std::mt19937 g(seed);
  Wkv4Case c = wkv4_case(T, C, g, klo, khi, fresh, gate);
  Vec yr, mean_r, logden_r;
  wkv4_ref(c, T, C, yr, mean_r, logden_r);
  Vec y(size_t(T) * C), aa = c.aa, bb = c.bb, pp = c.pp;
  wkv4_forward(y.data(), gate ? c.sr.data() : nullptr, c.k.data(), c.v.data(), c.w.data(), c.u.data(), aa.data(),
               bb.data(), pp.data(), T, C);
  Vec mean(C), logden(C);
  for (int ch = 0; ch < C; ch++) mean[ch] = aa[ch] / bb[ch], logden[ch] = pp[ch] + std::log(bb[ch]);
  for (float e : y) ASSERT_TRUE(std::isfinite(e)) << "T=" << T << " C=" << C << " k in [" << klo << ", " << khi << "]";
  for (const Vec* s : {&aa, &bb, &pp}) for (float e : *s) ASSERT_TRUE(std::isfinite(e));
  const std::string what = "T=" + std::to_string(T) + " C=" + std::to_string(C) + " fresh=" + std::to_string(fresh);
  EXPECT_LE(test::tol_excess(y, yr, test::tol::fp32_logits), 0.0) << what;
  EXPECT_LE(test::tol_excess(mean, mean_r, test::tol::fp32_logits), 0.0) << what;
  EXPECT_LE(test::tol_excess(logden, logden_r, test::tol::fp32_logits), 0.0) << what;
}

TEST(Wkv4, MatchesFp64Definition) {
  uint32_t seed = 1;
  for (int T : {1, 7, 33})
    for (int H : {1, 3})
      for (int N : {4, 64})
        for (bool fresh : {true, false}) check_wkv4(T, H * N, -3.f, 3.f, fresh, /*gate=*/H == 3, seed++);
}

TEST(Wkv4, HugeKeysStayFinite) {
  // e^k overflows fp32 beyond k = 88: the running max keeps every exponent <= 0.
  check_wkv4(33, 64, 60.f, 200.f, true, true, 7);
  check_wkv4(33, 64, -200.f, 200.f, true, false, 8);
  check_wkv4(7, 12, -300.f, -100.f, false, true, 9);
}

TEST(Wkv4, StateCarriesAcrossCalls) {
  const int T1 = 7, T2 = 26, T = T1 + T2, C = 3 * 64;
  std::mt19937 g(3);
  Wkv4Case c = wkv4_case(T, C, g, -3.f, 3.f, true, true);
  Vec y(size_t(T) * C), aa = c.aa, bb = c.bb, pp = c.pp;
  wkv4_forward(y.data(), c.sr.data(), c.k.data(), c.v.data(), c.w.data(), c.u.data(), aa.data(), bb.data(), pp.data(),
               T, C);
  Vec y2(size_t(T) * C), aa2 = c.aa, bb2 = c.bb, pp2 = c.pp;
  for (auto [t0, n] : {std::pair{0, T1}, std::pair{T1, T2}}) {
    const size_t o = size_t(t0) * C;
    wkv4_forward(y2.data() + o, c.sr.data() + o, c.k.data() + o, c.v.data() + o, c.w.data(), c.u.data(), aa2.data(),
                 bb2.data(), pp2.data(), n, C);
  }
  EXPECT_LE(test::tol_excess(y2, y, test::tol::fp32_exact), 0.0);
  EXPECT_EQ(aa2, aa);
  EXPECT_EQ(bb2, bb);
  EXPECT_EQ(pp2, pp);
}

// ---- WKV-5 / WKV-6 ----

struct Wkv56Case {
  Vec r, k, v, w, u, S;  // w: (H*N) for WKV-5, (T, H*N) for WKV-6
};

Wkv56Case wkv56_case(int T, int H, int N, bool per_token, std::mt19937& g) {
  const size_t TA = size_t(T) * H * N;
  Wkv56Case c;
  c.r = rnd(TA, g, -1.f, 1.f), c.k = rnd(TA, g, -1.f, 1.f), c.v = rnd(TA, g, -1.f, 1.f);
  c.w = rnd(per_token ? TA : size_t(H) * N, g, -3.f, 1.f);
  for (float& x : c.w) x = std::exp(-std::exp(x));  // the decay in (0, 1)
  c.u = rnd(size_t(H) * N, g, -1.f, 1.f);
  c.S = rnd(size_t(H) * N * N, g, -1.f, 1.f);
  return c;
}

// The definition (ops/wkv5.h) in fp64; S (H, N, N) updated in place.
void wkv56_ref(const Wkv56Case& c, bool per_token, int T, int H, int N, Vec& y, std::vector<double>& S) {
  const int A = H * N;
  y.assign(size_t(T) * A, 0.f);
  for (int t = 0; t < T; t++)
    for (int h = 0; h < H; h++) {
      const size_t o = size_t(t) * A + size_t(h) * N;
      const float* w = c.w.data() + (per_token ? o : size_t(h) * N);
      for (int i = 0; i < N; i++) {
        double* Si = S.data() + (size_t(h) * N + i) * N;
        double acc = 0;
        for (int j = 0; j < N; j++) {
          acc += double(c.r[o + j]) * (Si[j] + double(c.u[h * N + j]) * c.k[o + j] * c.v[o + i]);
          Si[j] = Si[j] * w[j] + double(c.v[o + i]) * c.k[o + j];
        }
        y[o + i] = float(acc);
      }
    }
}

void run56(bool per_token, float* y, float* S, const Wkv56Case& c, size_t o, size_t wo, int T, int H, int N) {
  if (per_token)
    wkv6_forward(y + o, S, c.r.data() + o, c.k.data() + o, c.v.data() + o, c.w.data() + wo, c.u.data(), T, H, N);
  else
    wkv5_forward(y + o, S, c.r.data() + o, c.k.data() + o, c.v.data() + o, c.w.data(), c.u.data(), T, H, N);
}

TEST(Wkv56, MatchesFp64Definition) {
  uint32_t seed = 100;
  for (bool per_token : {false, true})
    for (int T : {1, 7, 33})
      for (int H : {1, 3})
        for (int N : {4, 64}) {
          std::mt19937 g(seed++);
          Wkv56Case c = wkv56_case(T, H, N, per_token, g);
          std::vector<double> Sr(c.S.begin(), c.S.end());
          Vec yr;
          wkv56_ref(c, per_token, T, H, N, yr, Sr);
          Vec y(size_t(T) * H * N), S = c.S;
          run56(per_token, y.data(), S.data(), c, 0, 0, T, H, N);
          // Each output and state entry sums O(N) products per token: the absolute part of the
          // tolerance scales with sqrt(N), as for the GEMVs (test_gemv.cpp).
          const test::Tol tol{test::tol::fp32_logits.abs * std::sqrt(double(N)), test::tol::fp32_logits.rel};
          const std::string what = std::string(per_token ? "wkv6" : "wkv5") + " T=" + std::to_string(T) +
                                   " H=" + std::to_string(H) + " N=" + std::to_string(N);
          EXPECT_LE(test::tol_excess(y, yr, tol), 0.0) << what;
          EXPECT_LE(test::tol_excess(S, Vec(Sr.begin(), Sr.end()), tol), 0.0) << what << " (state)";
        }
}

TEST(Wkv56, StateCarriesAcrossCalls) {
  const int T1 = 7, T2 = 26, T = T1 + T2, H = 3, N = 64, A = H * N;
  for (bool per_token : {false, true}) {
    std::mt19937 g(per_token ? 5 : 6);
    Wkv56Case c = wkv56_case(T, H, N, per_token, g);
    Vec y(size_t(T) * A), S = c.S;
    run56(per_token, y.data(), S.data(), c, 0, 0, T, H, N);
    Vec y2(size_t(T) * A), S2 = c.S;
    run56(per_token, y2.data(), S2.data(), c, 0, 0, T1, H, N);
    run56(per_token, y2.data(), S2.data(), c, size_t(T1) * A, size_t(T1) * A, T2, H, N);
    EXPECT_LE(test::tol_excess(y2, y, test::tol::fp32_exact), 0.0) << (per_token ? "wkv6" : "wkv5");
    EXPECT_EQ(S2, S) << (per_token ? "wkv6" : "wkv5");
  }
}

TEST(Wkv56, Wkv6WithOneDecayRowIsWkv5) {
  const int T = 33, H = 3, N = 64, A = H * N;
  std::mt19937 g(9);
  Wkv56Case c = wkv56_case(T, H, N, false, g);
  Vec y5(size_t(T) * A), S5 = c.S;
  wkv5_forward(y5.data(), S5.data(), c.r.data(), c.k.data(), c.v.data(), c.w.data(), c.u.data(), T, H, N);
  Vec w6(size_t(T) * A);
  for (int t = 0; t < T; t++) std::copy(c.w.begin(), c.w.end(), w6.begin() + size_t(t) * A);
  Vec y6(size_t(T) * A), S6 = c.S;
  wkv6_forward(y6.data(), S6.data(), c.r.data(), c.k.data(), c.v.data(), w6.data(), c.u.data(), T, H, N);
  EXPECT_EQ(y6, y5);
  EXPECT_EQ(S6, S5);
}

TEST(Wkv6, DecayMatchesFp64) {
  const int M = 5, A = 37;
  std::mt19937 g(10);
  Vec lora = rnd(size_t(M) * A, g, -2.f, 2.f), td = rnd(A, g, -4.f, 1.f), w(size_t(M) * A), ref(w.size());
  for (int m = 0; m < M; m++)
    for (int c = 0; c < A; c++) ref[m * A + c] = float(std::exp(-std::exp(double(td[c]) + lora[m * A + c])));
  wkv6_decay_forward(w.data(), lora.data(), td.data(), M, A);
  EXPECT_LE(test::tol_excess(w, ref, test::tol::fp32_logits), 0.0);
  wkv6_decay_forward(lora.data(), lora.data(), td.data(), M, A);  // in place
  EXPECT_EQ(lora, w);
}

}  // namespace
