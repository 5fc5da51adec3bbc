// test_ops456.cpp — the small ops the RWKV-4/5/6 layers added: silu (forward against fp64,
// backward against finite differences), the elementwise products (ops/elementwise.h) and
// RWKV-6's data-dependent token-shift mix (ops/ddlerp.h), each against an fp64 loop; the
// exp-based activations bit for bit as their scalar formulas with std::exp.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ops/activation.h"
#include "ops/ddlerp.h"
#include "ops/elementwise.h"
#include "test_util.h"

using namespace rwkv;
using Vec = std::vector<float>;

namespace {

using rwkv::test::rnd;

TEST(Ops456, SiluForwardAndBackward) {
  std::mt19937 g(1);
  const int n = 50;
  Vec x = rnd(n, g, -6.f, 6.f), out(n), ref(n);
  for (int i = 0; i < n; i++) ref[i] = float(x[i] / (1.0 + std::exp(-double(x[i]))));
  act_forward(out.data(), x.data(), n, Act::Silu);
  EXPECT_LE(test::tol_excess(out, ref, test::tol::fp32_logits), 0.0);
  // backward: dL/dx of L = sum(proj * silu(x)), central differences in fp64 of the fp32 forward
  Vec proj = rnd(n, g), dx(n, 0.f), fd(n);
  act_backward(dx.data(), proj.data(), x.data(), out.data(), n, Act::Silu);
  const float eps = 1e-3f;
  for (int i = 0; i < n; i++) {
    float lo = x[i] - eps, hi = x[i] + eps, ylo, yhi;
    act_forward(&ylo, &lo, 1, Act::Silu);
    act_forward(&yhi, &hi, 1, Act::Silu);
    fd[i] = float(proj[i] * (double(yhi) - ylo) / (2.0 * eps));
  }
  EXPECT_LE(test::tol_excess(dx, fd, test::tol::fd_grad), 0.0);
  // in place
  act_forward(x.data(), x.data(), n, Act::Silu);
  EXPECT_EQ(x, out);
}

TEST(Ops456, ElementwiseProducts) {
  std::mt19937 g(2);
  const int64_t n = 40000;  // above the threading threshold
  Vec a = rnd(n, g), b = rnd(n, g), acc = rnd(n, g), prod(n), ref_prod(n), ref_acc(n);
  for (int64_t i = 0; i < n; i++) {
    ref_prod[i] = float(double(a[i]) * b[i]);
    ref_acc[i] = float(acc[i] + double(a[i]) * b[i]);
  }
  mul_forward(prod.data(), a.data(), b.data(), n);
  addmul_forward(acc.data(), a.data(), b.data(), n);
  EXPECT_LE(test::tol_excess(prod, ref_prod, test::tol::fp32_exact), 0.0);  // one rounding
  EXPECT_LE(test::tol_excess(acc, ref_acc, test::tol::fp32_gemv), 0.0);
  mul_forward(a.data(), a.data(), b.data(), n);  // in place
  EXPECT_EQ(a, prod);
}

TEST(Ops456, DataDependentMix) {
  std::mt19937 g(3);
  const int64_t M = 7;
  const int C = 33;
  Vec x = rnd(M * C, g), xx = rnd(M * C, g), mu = rnd(C, g), m = rnd(M * C, g), out(M * C), ref(M * C);
  for (int64_t r = 0; r < M; r++)
    for (int c = 0; c < C; c++) {
      const int64_t o = r * C + c;
      ref[o] = float(x[o] + double(xx[o]) * (double(mu[c]) + m[o]));
    }
  ddlerp_forward(out.data(), x.data(), xx.data(), mu.data(), m.data(), M, C);
  EXPECT_LE(test::tol_excess(out, ref, test::tol::fp32_gemv), 0.0);
  ddlerp_forward(m.data(), x.data(), xx.data(), mu.data(), m.data(), M, C);  // out aliasing m
  EXPECT_EQ(m, out);
}



// The exp-based activations (sigmoid, RWKV-7's decay exp(-e^-0.5 sigmoid(x)), silu) give the
// scalar formulas' floats bit for bit, std::exp included, whichever lanes compute them
// (ops/cpu/expf_glibc.h's exp8 where built): a sweep of floats, the overflow / underflow edges
// of exp, infinities and NaN, in lengths that leave tails of every size and split over threads.
TEST(Activation, ExactAsStdExp) {
  std::vector<float> x;
  for (uint32_t u = 0; u < 0xFF800000u; u += 0x00C00F1u) {  // both signs, tiny to huge
    float f;
    std::memcpy(&f, &u, 4);
    x.push_back(f);
    x.push_back(-f);
  }
  for (float t : {88.72283f, 103.97208f, 87.33654f, 16.f, 1e-30f})
    for (float s : {1.f, -1.f}) {
      float f = s * t;
      for (int k = 0; k < 4; k++, f = std::nextafter(f, 0.f)) x.push_back(f);
    }
  x.insert(x.end(), {INFINITY, -INFINITY, NAN, 0.f, -0.f});
  for (int64_t n : {int64_t(x.size()), int64_t(7), int64_t(13)}) {
    for (Act act : {Act::Sigmoid, Act::Decay, Act::Silu}) {
      std::vector<float> out(static_cast<size_t>(n));
      act_forward(out.data(), x.data(), n, act);
      size_t bad = 0;
      for (int64_t i = 0; i < n; i++) {
        const float v = x[size_t(i)], s = 1.f / (1.f + std::exp(-v));
        const float want = act == Act::Sigmoid ? s : act == Act::Decay ? std::exp(-0.60653065971263342f * s) : v * s;
        if (std::memcmp(&want, &out[size_t(i)], 4) != 0 && !(std::isnan(want) && std::isnan(out[size_t(i)])) && bad++ < 5)
          ADD_FAILURE() << "act " << int(act) << " x=" << v << ": " << out[size_t(i)] << ", want " << want;
      }
      EXPECT_EQ(bad, 0u) << "act " << int(act) << " n=" << n;
    }
  }
}

}  // namespace
