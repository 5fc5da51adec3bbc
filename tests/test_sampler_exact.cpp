// test_sampler_exact.cpp — the optimised sampler (vectorised softmax, top-p without a full sort,
// greedy without exponentials, the draw skipping dropped tokens) against the straightforward loops
// of sampler_reference.h: the same probabilities bit for bit and the same tokens for the same seed,
// over many logit vectors (flat, peaked, zipf, exact ties, banned tokens, near-ties at the top,
// logits deep in expf's underflow), vocabulary sizes, and settings of top_p, top_k, temperature.
#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "infer/sampler.h"
#include "infer/softmax_exp.h"
#include "infer/top_p.h"
#include "sampler_reference.h"
#include "test_util.h"

using namespace rwkv;

namespace {

std::vector<float> make_logits(int shape, int V, std::mt19937& g) {
  std::normal_distribution<float> nd(0.f, 1.f);
  std::uniform_real_distribution<float> ud(0.f, 1.f);
  std::vector<float> l(V);
  for (int i = 0; i < V; i++) {
    switch (shape) {
      case 0: l[i] = 0.55f * nd(g); break;                                     // a random model's: flat
      case 1: l[i] = 3 * nd(g); break;                                         // peaked (boosts below)
      case 2: l[i] = -1.1f * std::log(float(1 + (i * 7919) % V)) + 0.1f * nd(g); break;  // zipf
      case 3: l[i] = std::round(2 * nd(g)) / 2; break;                         // many exact ties
      case 4: l[i] = ud(g) < 0.3f ? -INFINITY : nd(g); break;                  // banned tokens
      case 5: l[i] = 5 * nd(g) - 40; break;                                    // near-ties at the top (below)
      default: l[i] = -100 - 10 * ud(g); break;                                // expf's underflow range
    }
  }
  if (shape == 4) l[V / 2] = 0.5f;  // not all banned
  if (shape == 1) l[5 % V] = 25, l[77 % V] = 24, l[1000 % V] = 23.5f;
  if (shape == 5) {
    const float top = 12.5f;
    l[3 % V] = top;
    l[(V - 1)] = std::nextafter(top, 0.f);      // within 2^-20: the greedy shortcut must not apply
    l[(V / 2)] = top - 1e-6f;
  }
  if (shape == 6) l[V / 3] = 0, l[V / 5] = -0.5f;
  return l;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b, int* at) {
  for (size_t i = 0; i < a.size(); i++)
    if (std::memcmp(&a[i], &b[i], 4) != 0) {
      *at = int(i);
      return false;
    }
  return a.size() == b.size();
}

void check(const std::vector<float>& l, float temp, float top_p, int top_k, uint32_t seed) {
  const int V = int(l.size());
  SCOPED_TRACE(testing::Message() << "V " << V << " temperature " << temp << " top_p " << top_p << " top_k "
                                  << top_k << " seed " << seed);
  std::vector<float> fast, slow;
  sampling_probs(l.data(), V, temp, top_p, top_k, fast);
  ref::sampling_probs(l.data(), V, temp, top_p, top_k, slow);
  int at = -1;
  ASSERT_TRUE(same_bits(fast, slow, &at)) << "first differing probability at " << at << ": " << fast[at]
                                          << " vs " << slow[at];
  Rng a(seed), b(seed);
  for (int d = 0; d < 4; d++) ASSERT_EQ(sample_logits(l.data(), V, temp, top_p, top_k, a), ref::draw(slow, b));
}

}  // namespace

TEST(SamplerExact, SameProbabilitiesAndTokensAsTheReference) {
  std::mt19937 g(2024);
  const float temps[] = {0.f, 0.3f, 1.f, 1.7f}, top_ps[] = {0.f, 0.3f, 0.85f, 1.f};
  const int top_ks[] = {0, 1, 3, 50};
  int checked = 0;
  for (int V : {1, 7, 301, 50277, 65536}) {
    for (int shape = 0; shape < 7; shape++) {
      const std::vector<float> l = make_logits(shape, V, g);
      for (float t : temps)
        for (float p : top_ps)
          for (int k : top_ks) {
            // all settings on small vocabularies; a random quarter on the large ones (the
            // reference's full sort of 65,536 ids is what costs)
            if (V > 1000 && g() % 4 != 0) continue;
            check(l, t, p, k, g());
            if (testing::Test::HasFatalFailure()) return;
            checked++;
          }
    }
  }
  EXPECT_GT(checked, 500);
}

// Many draws on vectors a model gave: the generate and chat defaults, and top_p values near the
// cumulative sums where rounding decides.
TEST(SamplerExact, ManySeedsAtTheDefaults) {
  std::mt19937 g(7);
  const int V = 65536;
  for (int shape : {0, 1, 2}) {
    const std::vector<float> l = make_logits(shape, V, g);
    for (float p : {0.3f, 0.999f, 0.9999999f}) check(l, 1.0f, p, 0, g());
    std::vector<float> probs;
    ref::sampling_probs(l.data(), V, 1.0f, 0.85f, 0, probs);
    Rng a(g()), b(a);
    for (int d = 0; d < 300; d++) ASSERT_EQ(sample_logits(l.data(), V, 1.0f, 0.85f, 0, a), ref::draw(probs, b));
  }
}

// exp_minus_max gives std::exp's floats (on an x86 CPU with FMA: glibc's __expf_fma, which the
// vector code reproduces) over the whole range the sampler feeds it: every 613th float in
// [-110, 0], the underflow thresholds and their neighbours, -inf, -0.
TEST(SamplerExact, ExpMatchesStdExp) {
  std::vector<float> x;
  for (uint32_t u = 0x80000000u; u <= 0xC2DC0000u; u += 613) {
    float f;
    std::memcpy(&f, &u, 4);
    x.push_back(f);
  }
  for (float t : {-0x1.9fe368p6f, -0x1.9d1d9ep6f, -0x1.5d589ep6f, -88.0f, -87.33654f, -1e-30f}) {
    float f = std::nextafter(std::nextafter(t, 0.f), 0.f);
    for (int k = 0; k < 5; k++, f = std::nextafter(f, -INFINITY)) x.push_back(f);
  }
  x.push_back(-INFINITY);
  x.push_back(-0.0f);
  x.push_back(0.0f);
  std::vector<float> out(x.size());
  const double s = exp_minus_max(x.data(), 0.0f, out.data(), int(x.size()));
  size_t bad = 0;
  for (size_t i = 0; i < x.size(); i++) {
    const float want = std::exp(x[i]);
    if (std::memcmp(&want, &out[i], 4) != 0 && bad++ < 5)
      ADD_FAILURE() << "exp(" << x[i] << ") = " << out[i] << ", std::exp " << want;
  }
  EXPECT_EQ(bad, 0u) << "of " << x.size();
  EXPECT_EQ(s, ref::sum_f64(out.data(), int(out.size())));
  // shifted by a max, with a tail that is not a multiple of 8
  std::vector<float> l = {3.f, 2.5f, -1.f, 3.f, 0.f, -200.f, 2.9999998f, 1.f, -INFINITY, 2.f, 2.75f};
  std::vector<float> e(l.size());
  exp_minus_max(l.data(), 3.f, e.data(), int(l.size()));
  for (size_t i = 0; i < l.size(); i++) EXPECT_EQ(e[i], std::exp(l[i] - 3.f)) << i;
  bool nan = false;
  EXPECT_EQ(max_of(l.data(), int(l.size()), &nan), 3.f);
  EXPECT_FALSE(nan);
  l[4] = NAN;
  EXPECT_EQ(max_of(l.data(), int(l.size()), &nan), 3.f);
  EXPECT_TRUE(nan);
}

TEST(SamplerExact, NanOrInfiniteLogitsAreAnError) {
  std::vector<float> l(100, 0.f);
  Rng r(1);
  l[40] = NAN;
  EXPECT_THROW(sample_logits(l.data(), 100, 1.0f, 0.85f, 0, r), Error);
  l[40] = INFINITY;
  EXPECT_THROW(sample_logits(l.data(), 100, 0.0f, 0.85f, 0, r), Error);
}

// top_p_cutoff against a full sort of the values and their fp32 running sum, on distributions made
// to hit its shortcuts: flat ones (buckets added in bulk), values that are odd multiples of 2^-26
// (halfway between two multiples of the running sum's ulp while it is in [1/4, 1/2): the bulk
// addition must not be used there), exact ties, and top_k.
TEST(SamplerExact, TopPCutoffMatchesAFullSort) {
  std::mt19937 g(99);
  std::normal_distribution<float> nd(0.f, 1.f);
  int checked = 0;
  for (int rep = 0; rep < 60; rep++) {
    const int kind = rep % 4;
    const int V = rep % 3 == 0 || kind == 1 ? 65536 : 1000 + int(g() % 20000);
    std::vector<float> p(V);
    for (int i = 0; i < V; i++) {
      if (kind == 0) p[i] = std::exp(0.5f * nd(g));                             // flat
      else if (kind == 1) p[i] = std::ldexp(float(2 * (g() % 1024) + 1), -26);  // odd multiples of 2^-26
      else if (kind == 2) p[i] = float(1 + g() % 8);                            // few values, many ties
      else p[i] = std::exp(3 * nd(g));                                          // peaked
    }
    if (kind != 1) {  // normalise (kind 1 keeps its exact values: they sum to about V / 2^16)
      double z = 0;
      for (float x : p) z += x;
      for (float& x : p) x = float(x / z);
    }
    std::vector<float> desc = p;
    std::sort(desc.begin(), desc.end(), std::greater<float>());
    const float pmax = desc[0];
    // top_p also exactly at a running sum, and one ulp either side: where one ulp of rounding in
    // the sum moves the cutoff
    std::vector<float> cums(V);
    for (int i = 0; i < V; i++) cums[i] = (i ? cums[i - 1] : 0.f) + desc[i];
    const float at = cums[g() % V];
    for (float top_p : {0.1f, 0.3f, 0.5f, 0.85f, 0.95f, 1.0f, std::uniform_real_distribution<float>(0.f, 1.f)(g),
                        at, std::nextafter(at, 0.f), std::nextafter(at, 2.f)})
      for (int top_k : {0, 1, 40, 3000}) {
        if (!(top_p <= 1)) continue;
        float want = desc[V - 1], cum = 0;  // never reached: the smallest
        for (int i = 0; i < V; i++) {
          if ((cum += desc[i]) >= top_p) {
            want = desc[i];
            break;
          }
          if (top_k > 0 && top_k < V && i + 1 == top_k) {
            want = 0;  // not within the top_k: top-k decides
            break;
          }
        }
        if (top_p <= pmax) want = pmax;
        const TopP got = top_p_cutoff(p.data(), V, pmax, top_p, top_k);
        ASSERT_EQ(got.cutoff, want) << "rep " << rep << " V " << V << " top_p " << top_p << " top_k " << top_k;
        int kept = 0;
        for (float x : p) kept += x >= want;
        if (top_k > 0 && top_k < V && kept > top_k)
          ASSERT_EQ(got.kth, desc[top_k - 1]) << "rep " << rep << " top_p " << top_p << " top_k " << top_k;
        checked++;
      }
  }
  EXPECT_GT(checked, 60 * 9 * 4);
}
