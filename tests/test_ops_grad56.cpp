// test_ops_grad56.cpp — finite-difference checks of the ops the RWKV-5.2 / RWKV-6 trainer adds
// (WKV-6 training forward/backward, the x060 decay, ddlerp, the gate product), as
// test_ops_grad.cpp does for the RWKV-7 ops: loss = sum(out * proj), central differences of
// the fp32 forward in double, compared per tensor with the analytic backward.
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ops/ddlerp.h"
#include "ops/elementwise.h"
#include "ops/wkv6.h"
#include "test_fd.h"
#include "test_util.h"

using namespace rwkv;
using Vec = std::vector<float>;
using rwkv::test::rnd;

namespace {

using test::check_fd;
using test::dotd;
using test::Input;

}  // namespace

TEST(OpsGrad56, Wkv6TrainForwardIsTheInferenceRecurrence) {
  std::mt19937 g(41);
  const int B = 2, T = 21, H = 2, N = 8, A = H * N;
  Vec r = rnd(B * T * A, g), k = rnd(B * T * A, g), v = rnd(B * T * A, g), w = rnd(B * T * A, g, 0.2f, 0.99f),
      u = rnd(A, g), y(B * T * A), ck(size_t(B) * H * wkv6_num_chunks(T) * N * N);
  wkv6_train_forward(y.data(), ck.data(), r.data(), k.data(), v.data(), w.data(), u.data(), B, T, H, N);
  for (int b = 0; b < B; b++) {
    Vec S(size_t(H) * N * N, 0.f), y1(T * A);
    const size_t o = size_t(b) * T * A;
    wkv6_forward(y1.data(), S.data(), r.data() + o, k.data() + o, v.data() + o, w.data() + o, u.data(), T, H, N);
    for (int i = 0; i < T * A; i++) EXPECT_NEAR(y[o + i], y1[i], 1e-5f * (1 + std::fabs(y1[i]))) << b << " " << i;
  }
}

TEST(OpsGrad56, Wkv6Backward) {
  std::mt19937 g(42);
  const int B = 2, T = 20, H = 2, N = 4, A = H * N;  // T crosses a checkpoint chunk (16)
  Vec r = rnd(B * T * A, g), k = rnd(B * T * A, g), v = rnd(B * T * A, g), w = rnd(B * T * A, g, 0.3f, 0.98f),
      u = rnd(A, g), proj = rnd(B * T * A, g), y(B * T * A), ck(size_t(B) * H * wkv6_num_chunks(T) * N * N);
  auto loss = [&] {
    wkv6_train_forward(y.data(), ck.data(), r.data(), k.data(), v.data(), w.data(), u.data(), B, T, H, N);
    return dotd(y, proj);
  };
  loss();
  Vec dr(r.size(), 0.f), dk(r.size(), 0.f), dv(r.size(), 0.f), dw(r.size(), 0.f), du(A, 0.f);
  wkv6_backward(dr.data(), dk.data(), dv.data(), dw.data(), du.data(), proj.data(), r.data(), k.data(), v.data(),
                w.data(), u.data(), ck.data(), B, T, H, N);
  check_fd(loss, {{"r", &r, &dr}, {"k", &k, &dk}, {"v", &v, &dv}, {"w", &w, &dw}, {"u", &u, &du}});
}

TEST(OpsGrad56, Wkv6Decay) {
  std::mt19937 g(43);
  const int M = 5, A = 7;
  Vec lora = rnd(M * A, g), td = rnd(A, g, -3.f, 0.5f), proj = rnd(M * A, g), w(M * A);
  auto loss = [&] {
    wkv6_decay_forward(w.data(), lora.data(), td.data(), M, A);
    return dotd(w, proj);
  };
  loss();
  Vec dl(M * A, 0.f), dtd(A, 0.f);
  wkv6_decay_backward(dl.data(), dtd.data(), proj.data(), w.data(), lora.data(), td.data(), M, A);
  check_fd(loss, {{"lora", &lora, &dl}, {"time_decay", &td, &dtd}});
}

TEST(OpsGrad56, DdlerpAndMul) {
  std::mt19937 g(44);
  const int M = 6, C = 5;
  Vec x = rnd(M * C, g), xx = rnd(M * C, g), mu = rnd(C, g), m = rnd(M * C, g), proj = rnd(M * C, g), out(M * C);
  auto loss = [&] {
    ddlerp_forward(out.data(), x.data(), xx.data(), mu.data(), m.data(), M, C);
    return dotd(out, proj);
  };
  Vec dx(M * C, 0.f), dxx(M * C, 0.f), dmu(C, 0.f), dm(M * C, 0.f);
  ddlerp_backward(dx.data(), dxx.data(), dmu.data(), dm.data(), proj.data(), xx.data(), mu.data(), m.data(), M, C);
  check_fd(loss, {{"x", &x, &dx}, {"xx", &xx, &dxx}, {"mu", &mu, &dmu}, {"m", &m, &dm}});

  Vec a = rnd(M * C, g), b = rnd(M * C, g), o(M * C);
  auto loss2 = [&] {
    mul_forward(o.data(), a.data(), b.data(), M * C);
    return dotd(o, proj);
  };
  Vec da(M * C, 0.f), db(M * C, 0.f);
  mul_backward(da.data(), db.data(), proj.data(), a.data(), b.data(), M * C);
  check_fd(loss2, {{"a", &a, &da}, {"b", &b, &db}});
}
