// test_sampler.cpp — the sampler against the official PIPELINE formulas on hand-made logits,
// the numpy-compatible RNG, occurrence penalties, and the UTF-8 / stop-string streaming.
#include <cmath>
#include <algorithm>
#include <map>
#include <random>

#include "core/error.h"
#include "infer/sampler.h"
#include "infer/text_stream.h"
#include "test_util.h"

using namespace rwkv;

static std::vector<float> log_probs(std::vector<float> p) {
  for (auto& x : p) x = std::log(x);
  return p;
}

TEST(Sampler, RngMatchesNumpyLegacySeed) {
  // np.random.seed(42); np.random.random_sample(2)  /  np.random.seed(0)
  Rng a(42);
  EXPECT_DOUBLE_EQ(a.uniform(), 0.3745401188473625);
  EXPECT_DOUBLE_EQ(a.uniform(), 0.9507143064099162);
  Rng b(0);
  EXPECT_DOUBLE_EQ(b.uniform(), 0.5488135039273248);
  EXPECT_DOUBLE_EQ(b.uniform(), 0.7151893663724195);
}

TEST(Sampler, TopPCutoffKeepsSmallestSetReachingP) {
  auto lg = log_probs({0.05f, 0.5f, 0.15f, 0.3f});
  std::vector<float> p;
  // sorted 0.5, 0.3, 0.15, 0.05; cumsum 0.5, 0.8, 0.95, 1 -> top_p 0.7 stops at 0.3
  sampling_probs(lg.data(), 4, 1.0f, 0.7f, 0, p);
  EXPECT_NEAR(p[1], 0.5 / 0.8, 1e-6);
  EXPECT_NEAR(p[3], 0.3 / 0.8, 1e-6);
  EXPECT_EQ(p[0], 0.0f);
  EXPECT_EQ(p[2], 0.0f);
  // top_p 0.9 -> keeps three
  sampling_probs(lg.data(), 4, 1.0f, 0.9f, 0, p);
  EXPECT_EQ(p[0], 0.0f);
  EXPECT_NEAR(p[2], 0.15 / 0.95, 1e-6);
  // top_p 0.4 -> only the top one
  sampling_probs(lg.data(), 4, 1.0f, 0.4f, 0, p);
  EXPECT_EQ(p[1], 1.0f);
  // top_p 1 keeps everything (documented difference from the official rounding quirk)
  sampling_probs(lg.data(), 4, 1.0f, 1.0f, 0, p);
  EXPECT_NEAR(p[0], 0.05, 1e-6);
}

// On a full vocabulary the kept set must be the smallest top set reaching top_p, whatever the
// shape: peaked (a trained model: the threshold search sorts a few), flat (a random model: a full
// sort), or a long tail.
TEST(Sampler, TopPOnFullVocabularyKeepsSmallestTopSet) {
  const int V = 65536;
  std::mt19937 g(7);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<std::vector<float>> shapes(3, std::vector<float>(V));
  for (int i = 0; i < V; i++) {
    shapes[0][i] = 3 * nd(g);                  // peaked after the boosts below
    shapes[1][i] = 0.01f * nd(g);              // nearly flat
    shapes[2][i] = -1.1f * std::log(i + 1.f);  // zipf-like tail
  }
  shapes[0][5] = 25, shapes[0][77] = 24, shapes[0][1000] = 23.5f;
  std::vector<float> p;
  for (size_t sh = 0; sh < shapes.size(); sh++) {
    const std::vector<float>& lg = shapes[sh];
    double mx = *std::max_element(lg.begin(), lg.end()), z = 0;
    std::vector<double> q(V);
    for (int i = 0; i < V; i++) z += q[i] = std::exp(double(lg[i]) - mx);
    for (double& v : q) v /= z;
    for (float top_p : {0.f, 0.3f, 0.85f, 0.99f}) {
      sampling_probs(lg.data(), V, 1.0f, top_p, 0, p);
      double kept_min = 2, dropped_max = 0, kept_sum = 0, kept_sum_above_min = 0;
      for (int i = 0; i < V; i++)
        if (p[i] > 0) kept_min = std::min(kept_min, q[i]), kept_sum += q[i];
        else dropped_max = std::max(dropped_max, q[i]);
      for (int i = 0; i < V; i++)
        if (p[i] > 0 && q[i] > kept_min * (1 + 1e-5)) kept_sum_above_min += q[i];
      SCOPED_TRACE(testing::Message() << "shape " << sh << " top_p " << top_p);
      const double eps = test::tol::fp32_cumsum.abs;
      EXPECT_LE(dropped_max, kept_min * (1 + 1e-5));  // every kept one outranks every dropped one
      EXPECT_GE(kept_sum, top_p - eps);               // the kept set reaches top_p ...
      EXPECT_LT(kept_sum_above_min, top_p + eps);     // ... and is the smallest that does
    }
  }
}

TEST(Sampler, TopKAndTemperature) {
  auto lg = log_probs({0.05f, 0.5f, 0.15f, 0.3f});
  std::vector<float> p;
  sampling_probs(lg.data(), 4, 1.0f, 1.0f, 2, p);  // top_k 2
  EXPECT_NEAR(p[1], 0.5 / 0.8, 1e-6);
  EXPECT_NEAR(p[3], 0.3 / 0.8, 1e-6);
  EXPECT_EQ(p[0] + p[2], 0.0f);
  // temperature 2: probs ** 0.5, renormalised (official: after cutoffs)
  sampling_probs(lg.data(), 4, 2.0f, 1.0f, 0, p);
  double s = std::sqrt(0.05) + std::sqrt(0.5) + std::sqrt(0.15) + std::sqrt(0.3);
  EXPECT_NEAR(p[0], std::sqrt(0.05) / s, 1e-6);
  EXPECT_NEAR(p[1], std::sqrt(0.5) / s, 1e-6);
  // temperature 0.5: probs ** 2 over the top-p set
  sampling_probs(lg.data(), 4, 0.5f, 0.7f, 0, p);
  EXPECT_NEAR(p[1], 0.25 / (0.25 + 0.09), 1e-6);
  EXPECT_NEAR(p[3], 0.09 / (0.25 + 0.09), 1e-6);
  // temperature 0 = greedy
  sampling_probs(lg.data(), 4, 0.0f, 0.9f, 0, p);
  EXPECT_EQ(p[1], 1.0f);
  // a tiny temperature that underflows every probability falls back to greedy
  sampling_probs(lg.data(), 4, 1e-4f, 1.0f, 0, p);
  EXPECT_EQ(p[1], 1.0f);
}

TEST(Sampler, ChoiceMatchesNumpyChoice) {
  // np.random.seed(42): u = 0.3745.., 0.9507.. ; cdf (0.5, 0.8, 1.0) -> 0 then 2
  auto lg = log_probs({0.5f, 0.3f, 0.2f});
  Rng r(42);
  EXPECT_EQ(sample_logits(lg.data(), 3, 1.0f, 1.0f, 0, r), 0);
  EXPECT_EQ(sample_logits(lg.data(), 3, 1.0f, 1.0f, 0, r), 2);
}

TEST(Sampler, FrequenciesFollowProbabilities) {
  auto lg = log_probs({0.1f, 0.6f, 0.3f});
  Rng r(7);
  int n[3] = {0, 0, 0};
  const int N = 20000;
  for (int i = 0; i < N; i++) n[sample_logits(lg.data(), 3, 1.0f, 1.0f, 0, r)]++;
  EXPECT_NEAR(n[0] / double(N), 0.1, 0.01);
  EXPECT_NEAR(n[1] / double(N), 0.6, 0.015);
  EXPECT_NEAR(n[2] / double(N), 0.3, 0.015);
  // top_p 0.85 removes the 0.1 token entirely
  for (int i = 0; i < 2000; i++) EXPECT_NE(sample_logits(lg.data(), 3, 1.0f, 0.85f, 0, r), 0);
}

TEST(Sampler, BannedTokensAreNeverSampled) {
  std::vector<float> lg(50, 0.0f);
  lg[3] = -INFINITY;
  lg[10] = -INFINITY;
  Rng r(1);
  for (int i = 0; i < 5000; i++) {
    int t = sample_logits(lg.data(), 50, 1.0f, 1.0f, 0, r);
    ASSERT_NE(t, 3);
    ASSERT_NE(t, 10);
  }
  std::vector<float> all(4, -INFINITY);
  EXPECT_THROW(sample_logits(all.data(), 4, 1.0f, 1.0f, 0, r), Error);
}

TEST(Sampler, OccurrencePenaltiesWithDecay) {
  Occurrence o;
  o.add(5, 1.0, 0.5);  // {5: 1}
  o.add(7, 1.0, 0.5);  // {5: 0.5, 7: 1}
  o.add(5, 1.0, 0.5);  // {5: 1.25, 7: 0.5}
  EXPECT_DOUBLE_EQ(o.counts().at(5), 1.25);
  EXPECT_DOUBLE_EQ(o.counts().at(7), 0.5);
  std::vector<float> lg(10, 1.0f);
  o.penalise(lg.data(), 0.2, 0.3);
  EXPECT_FLOAT_EQ(lg[5], 1.0f - float(0.2 + 1.25 * 0.3));
  EXPECT_FLOAT_EQ(lg[7], 1.0f - float(0.2 + 0.5 * 0.3));
  EXPECT_FLOAT_EQ(lg[0], 1.0f);
  // the official weight: 0 when the token's text is a substring of " \t0123456789"
  EXPECT_EQ(occurrence_weight(" "), 0.0);
  EXPECT_EQ(occurrence_weight("7"), 0.0);
  EXPECT_EQ(occurrence_weight("12"), 0.0);
  EXPECT_EQ(occurrence_weight(""), 0.0);
  EXPECT_EQ(occurrence_weight(" 1"), 1.0);
  EXPECT_EQ(occurrence_weight("a"), 1.0);
}

TEST(Sampler, InvalidArgumentsAreRejected) {
  auto bad = [](auto mod) {
    SamplerArgs a;
    mod(a);
    EXPECT_THROW(a.validate(100), Error);
  };
  bad([](SamplerArgs& a) { a.temperature = -1; });
  bad([](SamplerArgs& a) { a.temperature = NAN; });
  bad([](SamplerArgs& a) { a.top_p = 1.5f; });
  bad([](SamplerArgs& a) { a.top_p = -0.1f; });
  bad([](SamplerArgs& a) { a.top_k = -1; });
  bad([](SamplerArgs& a) { a.alpha_decay = 1.5; });
  bad([](SamplerArgs& a) { a.alpha_presence = INFINITY; });
  bad([](SamplerArgs& a) { a.chunk_len = 0; });
  bad([](SamplerArgs& a) { a.token_ban = {100}; });
  bad([](SamplerArgs& a) { a.token_stop = {-1}; });
  SamplerArgs ok;
  EXPECT_NO_THROW(ok.validate(100));
  try {
    SamplerArgs a;
    a.top_p = 2;
    a.validate(100);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[sampler] top_p"), std::string::npos) << e.what();
  }
}

TEST(TextStream, Utf8EmitsOnlyCompleteCharacters) {
  Utf8Stream u;
  EXPECT_EQ(u.push("a\xC3"), "a");           // é split across tokens
  EXPECT_EQ(u.push("\xA9"), "\xC3\xA9");
  EXPECT_EQ(u.push("\xF0\x9F"), "");        // 4-byte emoji in pieces
  EXPECT_EQ(u.push("\x98"), "");
  EXPECT_EQ(u.push("\x80!"), "\xF0\x9F\x98\x80!");
  EXPECT_EQ(u.push("\xFF"), "\xFF");        // never valid: not held
  EXPECT_EQ(u.push("\xE4\xB8"), "");
  EXPECT_EQ(u.flush(), "\xE4\xB8");
  EXPECT_EQ(utf8_complete_prefix("x\xE0\x80"), 3u);  // invalid second byte: nothing to wait for
}

TEST(TextStream, StopStringsCutAndHoldBack) {
  StopMatcher m({"\n\n", "END"});
  EXPECT_EQ(m.push("hello\n"), "hello");  // "\n" may start "\n\n"
  EXPECT_EQ(m.push("world E"), "\nworld ");
  EXPECT_EQ(m.push("N"), "");
  EXPECT_EQ(m.push("Dafter"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "END");
  EXPECT_EQ(m.push("more"), "");
  StopMatcher n({"\n\n"});
  EXPECT_EQ(n.push("a\n"), "a");
  EXPECT_EQ(n.flush(), "\n");
  StopMatcher none({});
  EXPECT_EQ(none.push("abc"), "abc");
}
