// test_ops456.cpp — the small ops the RWKV-4/5/6 layers added: silu (forward against fp64,
// backward against finite differences), the elementwise products (ops/elementwise.h) and
// RWKV-6's data-dependent token-shift mix (ops/ddlerp.h), each against an fp64 loop.
#include <cmath>
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

}  // namespace
