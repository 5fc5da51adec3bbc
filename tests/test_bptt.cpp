// test_bptt.cpp — segmented BPTT for RWKV-7 (train/bptt.h) on the official fixture model:
// full BPTT over 4 segments gives the gradients of one pass over the whole document,
// truncated mode the sum of per-segment gradients with detached states, and the memory grows
// only by the stored segment states.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "model/rwkv7_params.h"
#include "model/rwkv7_train.h"
#include "test_rwkv7_fixture.h"
#include "test_util.h"
#include "train/bptt.h"

using namespace rwkv;

namespace {

Rwkv7Params fixture_params() {
  test::Rwkv7Fixture f = test::load_rwkv7_fixture();
  return Rwkv7Params::from_state_dict(f.model, "model.pth");
}

std::vector<int32_t> random_tokens(int B, int T, int V, uint32_t seed) {
  std::mt19937 g(seed);
  std::vector<int32_t> t(size_t(B) * (T + 1));
  for (auto& x : t) x = int32_t(g() % V);
  return t;
}

// Worst relative error (norm) over the parameter tensors; each must be within `tol.rel`.
double expect_grads_match(const Rwkv7Params& got, const Rwkv7Params& ref, test::Tol tol,
                          const std::string& what) {
  double worst = 0;
  std::string worst_name;
  for (auto& spec : rwkv7_param_specs(ref.cfg)) {
    const int64_t n = shape_numel(spec.shape);
    const float* r = ref.find(spec.name);
    const float* gt = got.find(spec.name);
    std::vector<float> rv(r, r + n), gv(gt, gt + n);
    double norm = 0;
    for (float x : rv) norm += double(x) * x;
    if (norm == 0) {  // blocks.0.att.v0/v1/v2: unused in layer 0
      for (float x : gv) EXPECT_EQ(x, 0.f) << what << " " << spec.name;
      continue;
    }
    const double err = test::rel_norm_err(gv, rv);
    if (err > worst) worst = err, worst_name = spec.name;
    EXPECT_LE(err, tol.rel) << what << " " << spec.name << " relative error (norm) " << err;
  }
  std::printf("[ bptt ] %s: worst relative error (norm) %.3g (%s)\n", what.c_str(), worst,
              worst_name.c_str());
  return worst;
}

}  // namespace

// Acceptance 1 of the infctx issue: a document of 4 segments on the fixture model.
TEST(Rwkv7Bptt, FullBpttEqualsOneWholeDocumentPass) {
  test::Rwkv7Fixture f = test::load_rwkv7_fixture();
  Rwkv7Params p = Rwkv7Params::from_state_dict(f.model, "model.pth");
  struct Case { std::string name; std::vector<int32_t> tok; int B, T, ctx; };
  std::vector<Case> cases = {
      {"fixture tokens B 2 T 32, ctx_len 8", f.tokens, f.B, f.T, 8},
      // segments 24, 24, 24, 18: uneven, each crossing a WKV checkpoint chunk (16)
      {"random tokens B 1 T 90, ctx_len 24", random_tokens(1, 90, p.cfg.vocab_size, 61), 1, 90, 24},
  };
  for (const Case& k : cases) {
    for (bool grad_cp : {false, true}) {
      Rwkv7Params whole, seg;
      Rwkv7TrainScratch ws;
      const float lw = rwkv7_forward_backward(p, k.tok.data(), k.B, k.T, whole, ws, false);
      BpttScratch bs;
      BpttOptions o;
      o.ctx_len = k.ctx;
      o.grad_cp = grad_cp;
      BpttResult r = rwkv7_bptt_forward_backward(p, k.tok.data(), k.B, k.T, seg, bs, o);
      EXPECT_EQ(r.segments, 4);
      EXPECT_EQ(r.tokens, int64_t(k.B) * k.T);
      EXPECT_NEAR(r.loss, lw, 1e-6 * std::fabs(lw)) << k.name;
      std::printf("[ bptt ] %s%s: loss %.7f (whole %.7f)\n", k.name.c_str(),
                  grad_cp ? " grad_cp" : "", r.loss, lw);
      expect_grads_match(seg, whole, test::tol::bptt_vs_whole,
                         k.name + (grad_cp ? " grad_cp" : "") + ", full BPTT vs whole");
    }
  }
}

TEST(Rwkv7Bptt, TruncatedEqualsSumOfDetachedSegments) {
  Rwkv7Params p = fixture_params();
  const int B = 2, T = 60, ctx = 16;  // segments 16, 16, 16, 12
  auto tok = random_tokens(B, T, p.cfg.vocab_size, 71);
  BpttScratch bs;
  BpttOptions o;
  o.ctx_len = ctx;
  o.truncated = true;
  Rwkv7Params tr, full;
  BpttResult r = rwkv7_bptt_forward_backward(p, tok.data(), B, T, tr, bs, o);
  EXPECT_EQ(r.segments, 4);
  // Reference: each segment from the carried (forward) state, its own backward with no state
  // gradient, the loss scaled as a part of the whole document's mean; the gradients summed.
  const int64_t S = rwkv7_state_floats(p.cfg);
  std::vector<float> state(size_t(B) * S, 0.f), next(size_t(B) * S);
  Rwkv7Params sum = Rwkv7Params::zeros(p.cfg), g;
  Rwkv7TrainScratch s;
  double loss = 0;
  for (int k = 0; k * ctx < T; k++) {
    const int t0 = k * ctx, len = std::min(ctx, T - t0);
    std::vector<int32_t> seg;
    for (int b = 0; b < B; b++)
      seg.insert(seg.end(), tok.begin() + b * (T + 1) + t0, tok.begin() + b * (T + 1) + t0 + len + 1);
    Rwkv7TrainState st;
    st.in = state.data();
    st.out = next.data();
    st.denom = double(B) * T;
    loss += rwkv7_forward_backward(p, seg.data(), B, len, g, s, false, 1e-4f, &st);
    for (size_t i = 0; i < g.data.size(); i++) sum.data[i] += g.data[i];
    state = next;
  }
  EXPECT_NEAR(r.loss, loss, 1e-6 * loss);
  expect_grads_match(tr, sum, test::tol::fp32_modes, "truncated vs sum of detached segments");
  // Full BPTT differs from truncated (the state gradient matters): at least one tensor by > 1 %.
  o.truncated = false;
  rwkv7_bptt_forward_backward(p, tok.data(), B, T, full, bs, o);
  double most = 0;
  for (auto& spec : rwkv7_param_specs(p.cfg)) {
    const int64_t n = shape_numel(spec.shape);
    std::vector<float> a(tr.find(spec.name), tr.find(spec.name) + n), b(full.find(spec.name), full.find(spec.name) + n);
    double nb = 0;
    for (float x : b) nb += double(x) * x;
    if (nb > 0) most = std::max(most, test::rel_norm_err(a, b));
  }
  std::printf("[ bptt ] truncated vs full BPTT: largest relative difference (norm) %.3g\n", most);
  EXPECT_GT(most, 1e-2);
}

// Peak memory of 4 vs 16 segments of the same length: the difference is the 12 extra stored
// segment states (+10 %); the activations are those of one segment either way.
TEST(Rwkv7Bptt, MemoryGrowsOnlyByTheStoredStates) {
  Rwkv7Params p = fixture_params();
  const int ctx = 16, B = 1;
  const size_t state_bytes = size_t(B) * size_t(rwkv7_state_floats(p.cfg)) * sizeof(float);
  size_t peak[2];
  int i = 0;
  for (int nseg : {4, 16}) {
    const int T = nseg * ctx;
    auto tok = random_tokens(B, T, p.cfg.vocab_size, 80 + nseg);
    BpttScratch bs;
    BpttOptions o;
    o.ctx_len = ctx;
    Rwkv7Params g;
    BpttResult r = rwkv7_bptt_forward_backward(p, tok.data(), B, T, g, bs, o);
    EXPECT_EQ(r.segments, nseg);
    EXPECT_EQ(bs.state_bytes(), size_t(nseg) * state_bytes);
    Rwkv7Params gw;
    Rwkv7TrainScratch ws;
    rwkv7_forward_backward(p, tok.data(), B, T, gw, ws, false);
    std::printf("[ bptt ] %d segments of %d tokens: peak %zu bytes (states %zu); one pass over "
                "the whole document: %zu bytes\n",
                nseg, ctx, bs.peak_bytes(), bs.state_bytes(), ws.peak_bytes());
    peak[i++] = bs.peak_bytes();
  }
  const double extra = 12.0 * double(state_bytes);
  std::printf("[ bptt ] peak difference %zu bytes, predicted 12 states = %.0f bytes (bound %.0f)\n",
              peak[1] - peak[0], extra, 1.1 * extra);
  EXPECT_GE(peak[1], peak[0]);
  EXPECT_LE(double(peak[1] - peak[0]), 1.1 * extra);
}

// Documents of different lengths in one batch: the loss is the mean over the real tokens, and
// the gradients are those of each document alone weighted by its share of the tokens. The
// padding is invalid ids, so reading it would throw.
TEST(Rwkv7Bptt, ShorterDocumentsAreMasked) {
  Rwkv7Params p = fixture_params();
  const int B = 2, T = 90, ctx = 24;
  const std::vector<int32_t> lengths = {90, 50};
  auto tok = random_tokens(B, T, p.cfg.vocab_size, 95);
  for (int t = lengths[1] + 1; t <= T; t++) tok[size_t(T + 1) + t] = -7;
  const double real = lengths[0] + lengths[1];
  Rwkv7Params ref, whole, seg;
  Rwkv7TrainScratch s;
  double ref_loss = 0;
  for (int b = 0; b < B; b++) {  // each document alone, its part of the mean
    Rwkv7TrainState st;
    st.denom = real;
    st.accumulate = b > 0;
    ref_loss += rwkv7_forward_backward(p, tok.data() + size_t(b) * (T + 1), 1, lengths[b], ref, s,
                                       false, 1e-4f, &st);
  }
  Rwkv7TrainState st;  // one padded pass: denominator from the lengths
  st.lengths = lengths.data();
  Rwkv7TrainScratch s2;
  const float whole_loss = rwkv7_forward_backward(p, tok.data(), B, T, whole, s2, false, 1e-4f, &st);
  EXPECT_NEAR(whole_loss, ref_loss, 1e-6 * ref_loss);
  expect_grads_match(whole, ref, test::tol::bptt_vs_whole, "padded batch vs documents alone");
  BpttScratch bs;
  BpttOptions o;
  o.ctx_len = ctx;
  BpttResult r = rwkv7_bptt_forward_backward(p, tok.data(), B, T, seg, bs, o, lengths.data());
  EXPECT_EQ(r.tokens, 140);
  EXPECT_EQ(r.segments, 4);
  EXPECT_NEAR(r.loss, ref_loss, 1e-6 * ref_loss);
  expect_grads_match(seg, ref, test::tol::bptt_vs_whole, "masked BPTT vs documents alone");
  // A document without a target is refused.
  const std::vector<int32_t> bad = {90, 0};
  std::string e = test::error_of([&] { rwkv7_bptt_forward_backward(p, tok.data(), B, T, seg, bs, o, bad.data()); });
  EXPECT_NE(e.find("[train] document 1 has 0 targets"), std::string::npos) << e;
}

TEST(Rwkv7Bptt, BadCtxLenIsAClearError) {
  Rwkv7Params p = fixture_params();
  auto tok = random_tokens(1, 8, p.cfg.vocab_size, 90);
  BpttScratch bs;
  BpttOptions o;
  Rwkv7Params g;
  std::string e = test::error_of([&] { rwkv7_bptt_forward_backward(p, tok.data(), 1, 8, g, bs, o); });
  EXPECT_NE(e.find("[train] ctx_len"), std::string::npos) << e;
}

// State tuning's gradient: documents starting from a given state, d(start state) of full BPTT
// over 4 segments equals that of one pass over the whole document; in truncated mode it is
// the first segment's alone (the state is detached after it).
TEST(Rwkv7Bptt, StartStateAndItsGradient) {
  Rwkv7Params p = fixture_params();
  const int B = 2, T = 64, ctx = 16;
  const int64_t S = rwkv7_state_floats(p.cfg);
  auto tok = random_tokens(B, T, p.cfg.vocab_size, 97);
  std::mt19937 g(98);
  std::normal_distribution<float> nd(0.f, 0.5f);
  std::vector<float> init(size_t(B) * S);
  for (auto& x : init) x = nd(g);
  // Reference: one pass over the whole document from `init`.
  std::vector<float> d_whole(init.size());
  Rwkv7Params gw;
  Rwkv7TrainScratch ws;
  Rwkv7TrainState st;
  st.in = init.data();
  st.d_in = d_whole.data();
  const float lw = rwkv7_forward_backward(p, tok.data(), B, T, gw, ws, false, 1e-4f, &st);
  std::vector<float> d_seg(init.size(), 9.f);
  Rwkv7Params gs;
  BpttScratch bs;
  BpttOptions o;
  o.ctx_len = ctx;
  o.init_state = init.data();
  o.d_init_state = d_seg.data();
  BpttResult r = rwkv7_bptt_forward_backward(p, tok.data(), B, T, gs, bs, o);
  EXPECT_EQ(r.segments, 4);
  EXPECT_NEAR(r.loss, lw, 1e-6 * std::fabs(lw));
  const double err = test::rel_norm_err(d_seg, d_whole);
  std::printf("[ bptt ] d(start state), 4 segments vs whole: relative error (norm) %.3g\n", err);
  EXPECT_LE(err, test::tol::bptt_vs_whole.rel);
  expect_grads_match(gs, gw, test::tol::bptt_vs_whole, "from a start state, full BPTT vs whole");
  // Truncated: d(start state) of the first segment alone (its loss as part of the whole mean).
  std::vector<int32_t> first;
  for (int b = 0; b < B; b++)
    first.insert(first.end(), tok.begin() + b * (T + 1), tok.begin() + b * (T + 1) + ctx + 1);
  std::vector<float> d_first(init.size());
  Rwkv7TrainState s1;
  s1.in = init.data();
  s1.d_in = d_first.data();
  s1.denom = double(B) * T;
  Rwkv7Params g1;
  rwkv7_forward_backward(p, first.data(), B, ctx, g1, ws, false, 1e-4f, &s1);
  o.truncated = true;
  rwkv7_bptt_forward_backward(p, tok.data(), B, T, gs, bs, o);
  const double err_t = test::rel_norm_err(d_seg, d_first);
  std::printf("[ bptt ] truncated d(start state) vs the first segment alone: %.3g\n", err_t);
  EXPECT_LE(err_t, test::tol::bptt_vs_whole.rel);
  EXPECT_GT(test::rel_norm_err(d_whole, d_first), 1e-3);  // the later segments do matter in full BPTT
}
