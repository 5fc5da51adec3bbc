// test_rwkv7_state_grads.cpp — RWKV-7 training with a start state and an end state: the end
// state against the official fixture's, finite differences of d(start state) and of the
// parameters under a d(end state) on a tiny random model, and a document run in two parts with
// the state carried equal to one run.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/rwkv7_params.h"
#include "model/rwkv7_train.h"
#include "test_rwkv7_fixture.h"
#include "test_rwkv7_tiny.h"
#include "test_util.h"

using namespace rwkv;

namespace {

ModelConfig small_config() { return test::tiny_rwkv7_config(2, 11); }
Rwkv7Params random_params(const ModelConfig& c, uint32_t seed) { return test::random_rwkv7_params(c, seed); }
using test::random_tokens;

double dotd(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += double(a[i]) * b[i];
  return s;
}

}  // namespace

TEST(Rwkv7StateGrads, LayoutIsTheEngineSlot) {
  const ModelConfig c = small_config();
  // per layer att_x (C) + wkv (H,N,N) + ffn_x (C)
  EXPECT_EQ(rwkv7_state_floats(c), 2 * (16 + 2 * 8 * 8 + 16));
}

TEST(Rwkv7StateGrads, FixtureEndStateMatchesReference) {
  test::Rwkv7Fixture f = test::load_rwkv7_fixture();
  Rwkv7Params p = Rwkv7Params::from_state_dict(f.model, "model.pth");
  const ModelConfig& c = p.cfg;
  const int64_t S = rwkv7_state_floats(c), C = c.n_embd, HNN = int64_t(c.n_head) * c.head_size * c.head_size;
  std::vector<float> out(size_t(f.B) * S, -1.f);
  Rwkv7TrainState st;
  st.out = out.data();
  Rwkv7TrainScratch s;
  rwkv7_forward_loss(p, f.tokens.data(), f.B, f.T, s, nullptr, &st);
  // Slot of sequence b: per layer att_x, wkv, ffn_x; the reference has (B, ...) per part.
  double worst = 0;
  for (int l = 0; l < c.n_layer; l++) {
    const std::pair<std::string, int64_t> parts[3] = {{"att_x", C}, {"wkv", HNN}, {"ffn_x", C}};
    int64_t off = l * (2 * C + HNN);
    for (auto& [name, n] : parts) {
      std::vector<float> ref = f.expected.at(fmt::format("state.{}.{}", l, name)).to_f32_vec();
      ASSERT_EQ(ref.size(), size_t(f.B * n));
      std::vector<float> got;
      for (int b = 0; b < f.B; b++) got.insert(got.end(), out.begin() + b * S + off, out.begin() + b * S + off + n);
      EXPECT_LE(test::tol_excess(got, ref, test::tol::fp32_logits), 0.0) << "state." << l << "." << name;
      worst = std::max(worst, test::rel_norm_err(got, ref));
      off += n;
    }
  }
  std::printf("[ state ] end state vs the fp64 reference: worst relative error (norm) %.3g\n", worst);
}

TEST(Rwkv7StateGrads, ZeroStateAndSplitRunsAgreeWithOneRun) {
  const ModelConfig c = small_config();
  Rwkv7Params p = random_params(c, 41);
  const int B = 2, T = 21, T1 = 9, T2 = T - T1;
  auto tok = random_tokens(B, T, c.vocab_size, 42);
  const int64_t S = rwkv7_state_floats(c);
  // An explicit zero start state is the default, bit for bit.
  std::vector<float> zero(size_t(B) * S, 0.f), d_in(size_t(B) * S, 7.f), end(size_t(B) * S);
  Rwkv7Params g0, g1;
  Rwkv7TrainScratch s0, s1;
  const float l0 = rwkv7_forward_backward(p, tok.data(), B, T, g0, s0, false);
  Rwkv7TrainState st;
  st.in = zero.data();
  st.out = end.data();
  st.d_in = d_in.data();
  const float l1 = rwkv7_forward_backward(p, tok.data(), B, T, g1, s1, false, 1e-4f, &st);
  EXPECT_EQ(l0, l1);
  EXPECT_EQ(g0.data, g1.data);
  double dn = 0;
  for (float x : d_in) dn += double(x) * x;
  EXPECT_GT(dn, 0.0);  // overwritten with a real gradient
  // Two parts with the state carried give one run's losses and end state.
  auto part = [&](int t0, int len) {
    std::vector<int32_t> o;
    for (int b = 0; b < B; b++)
      o.insert(o.end(), tok.begin() + b * (T + 1) + t0, tok.begin() + b * (T + 1) + t0 + len + 1);
    return o;
  };
  std::vector<float> rows(size_t(B) * T), r1(size_t(B) * T1), r2(size_t(B) * T2), mid(size_t(B) * S),
      end2(size_t(B) * S);
  Rwkv7TrainScratch e;
  rwkv7_forward_loss(p, tok.data(), B, T, e, rows.data());
  auto t1 = part(0, T1), t2 = part(T1, T2);
  Rwkv7TrainState a, b;
  a.out = mid.data();
  b.in = mid.data();
  b.out = end2.data();
  rwkv7_forward_loss(p, t1.data(), B, T1, e, r1.data(), &a);
  rwkv7_forward_loss(p, t2.data(), B, T2, e, r2.data(), &b);
  for (int bb = 0; bb < B; bb++)
    for (int t = 0; t < T; t++) {
      float got = t < T1 ? r1[bb * T1 + t] : r2[bb * T2 + t - T1];
      EXPECT_NEAR(got, rows[bb * T + t], test::tol::fp32_modes.abs + test::tol::fp32_modes.rel * rows[bb * T + t])
          << bb << " " << t;
    }
  EXPECT_LE(test::tol_excess(end2, end, test::tol::fp32_modes), 0.0);
}

// State tuning's frozen model (Rwkv7TrainState::frozen_matrices): the six projections' and the
// head's gradients are not computed (left zero); the loss, d(start state) and every other
// gradient are the same bits as with them.
TEST(Rwkv7StateGrads, FrozenMatricesSkipOnlyTheirGradients) {
  const ModelConfig c = small_config();
  Rwkv7Params p = random_params(c, 61);
  const int B = 2, T = 19;
  auto tok = random_tokens(B, T, c.vocab_size, 62);
  const int64_t S = rwkv7_state_floats(c);
  std::mt19937 gen(63);
  std::vector<float> s0 = test::rnd(size_t(B) * S, gen, -0.5f, 0.5f);
  std::vector<float> d_all(size_t(B) * S), d_frozen(size_t(B) * S);
  Rwkv7Params g_all, g_frozen;
  Rwkv7TrainScratch s;
  Rwkv7TrainState st;
  st.in = s0.data();
  st.d_in = d_all.data();
  const float l_all = rwkv7_forward_backward(p, tok.data(), B, T, g_all, s, false, 1e-4f, &st);
  st.d_in = d_frozen.data();
  st.frozen_matrices = true;
  const float l_frozen = rwkv7_forward_backward(p, tok.data(), B, T, g_frozen, s, false, 1e-4f, &st);
  EXPECT_EQ(l_all, l_frozen);
  EXPECT_EQ(d_all, d_frozen);
  // the skipped ranges are zero in the frozen run; clearing them in the full run leaves equal data
  const int64_t C = c.n_embd, F = c.dim_ffn, V = c.vocab_size;
  auto clear = [&](Rwkv7Params& g, const Rwkv7Params& frozen) {
    auto zero = [&](float* at, int64_t n) {
      const size_t off = size_t(at - g.data.data());
      for (int64_t i = 0; i < n; i++) EXPECT_EQ(frozen.data[off + size_t(i)], 0.f);
      std::fill(at, at + n, 0.f);
    };
    zero(g.head, V * C);
    for (auto& L : g.layers) {
      for (float* m : {L.receptance, L.key, L.value, L.output}) zero(m, C * C);
      zero(L.ffn_key, F * C);
      zero(L.ffn_value, C * F);
    }
  };
  double n_all = 0;
  for (float x : g_all.data) n_all += double(x) * x;
  EXPECT_GT(n_all, 0.0);
  clear(g_all, g_frozen);
  EXPECT_EQ(g_all.data, g_frozen.data);
}

// loss = mean CE + <end state, proj>: d(start state) and the parameters' gradients (through the
// d(end state) path too) against central differences. T 19 crosses a WKV checkpoint chunk (16);
// T 2 gives the token-shift parts (first token only) a gradient well above the FD noise.
class Rwkv7StateGradsFd : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Rwkv7StateGrads, Rwkv7StateGradsFd, ::testing::Values(19, 2));

TEST_P(Rwkv7StateGradsFd, StartStateAndParams) {
  const ModelConfig c = small_config();
  Rwkv7Params p = random_params(c, 51);
  const int B = 2, T = GetParam();
  const double min_grad = T <= 2 ? 1e-3 : 1e-4;  // the largest entry of every part
  auto tok = random_tokens(B, T, c.vocab_size, 52);
  const int64_t S = rwkv7_state_floats(c);
  std::mt19937 gen(53);
  std::vector<float> s0 = test::rnd(size_t(B) * S, gen, -0.5f, 0.5f);
  std::vector<float> proj = test::rnd(size_t(B) * S, gen, -0.5f, 0.5f);
  std::vector<float> ds0(size_t(B) * S), end(size_t(B) * S);
  Rwkv7Params g;
  Rwkv7TrainScratch s;
  Rwkv7TrainState st;
  st.in = s0.data();
  st.d_out = proj.data();
  st.d_in = ds0.data();
  rwkv7_forward_backward(p, tok.data(), B, T, g, s, false, /*l2wrap=*/0.f, &st);

  Rwkv7TrainScratch se;
  std::vector<float> rows(size_t(B) * T);
  auto loss = [&] {
    Rwkv7TrainState q;
    q.in = s0.data();
    q.out = end.data();
    rwkv7_forward_loss(p, tok.data(), B, T, se, rows.data(), &q);
    double sum = 0;
    for (float r : rows) sum += r;
    return sum / double(rows.size()) + dotd(end, proj);
  };
  const float eps = 3e-3f;
  auto fd = [&](float* x) {
    const float orig = *x;
    *x = orig + eps;
    const double lp = loss();
    *x = orig - eps;
    const double lm = loss();
    *x = orig;
    return float((lp - lm) / (2.0 * eps));
  };
  std::mt19937 pick(54);
  // Start state: per sequence, layer and part, the largest analytic entry and two random ones.
  const int64_t C = c.n_embd, HNN = int64_t(c.n_head) * c.head_size * c.head_size;
  int checked = 0;
  for (int b = 0; b < B; b++)
    for (int l = 0; l < c.n_layer; l++) {
      int64_t off = b * S + l * (2 * C + HNN);
      for (auto [name, n] : {std::pair{"att_x", C}, std::pair{"wkv", HNN}, std::pair{"ffn_x", C}}) {
        int64_t big = off;
        for (int64_t i = off; i < off + n; i++)
          if (std::fabs(ds0[i]) > std::fabs(ds0[big])) big = i;
        std::vector<float> an, num;
        for (int64_t i : {big, off + int64_t(pick() % n), off + int64_t(pick() % n)}) {
          an.push_back(ds0[i]);
          num.push_back(fd(&s0[i]));
        }
        EXPECT_GT(std::fabs(an[0]), min_grad) << "state." << l << "." << name << " has no gradient";
        EXPECT_LE(test::tol_excess(an, num, test::tol::fd_model), 0.0)
            << "seq " << b << " state." << l << "." << name << ": analytic " << an[0] << " " << an[1]
            << " " << an[2] << " fd " << num[0] << " " << num[1] << " " << num[2];
        off += n;
        checked++;
      }
    }
  EXPECT_EQ(checked, B * c.n_layer * 3);
  // Parameters: the largest entry and one random one of each tensor.
  for (auto& spec : rwkv7_param_specs(c)) {
    float* w = p.find(spec.name);
    const float* gw = g.find(spec.name);
    const int64_t n = shape_numel(spec.shape);
    std::vector<float> an, num;
    for (int64_t i : test::fd_probe_indices(gw, n, pick, 1)) {
      an.push_back(gw[i]);
      num.push_back(fd(&w[i]));
    }
    EXPECT_LE(test::tol_excess(an, num, test::tol::fd_model), 0.0)
        << spec.name << ": analytic " << an[0] << " " << an[1] << " fd " << num[0] << " " << num[1];
  }
}
