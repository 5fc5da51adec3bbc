// sampler.cpp — PIPELINE.sample_logits / generate penalties (see sampler.h). The top-p cutoff
// sorts only the probabilities above a threshold that provably contains it, which gives the
// same cutoff as a full sort.
#include "infer/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace rwkv {

void SamplerArgs::validate(int vocab) const {
  if (!std::isfinite(temperature) || temperature < 0)
    fail("sampler", "temperature must be a finite number >= 0 (0 = greedy), got {}", temperature);
  if (!(top_p >= 0 && top_p <= 1)) fail("sampler", "top_p must be in [0, 1], got {}", top_p);
  if (top_k < 0) fail("sampler", "top_k must be >= 0 (0 = off), got {}", top_k);
  if (!(alpha_decay >= 0 && alpha_decay <= 1))
    fail("sampler", "alpha_decay must be in [0, 1], got {}", alpha_decay);
  if (!std::isfinite(alpha_frequency)) fail("sampler", "alpha_frequency must be finite, got {}", alpha_frequency);
  if (!std::isfinite(alpha_presence)) fail("sampler", "alpha_presence must be finite, got {}", alpha_presence);
  if (chunk_len < 1) fail("sampler", "chunk_len must be >= 1, got {}", chunk_len);
  for (int32_t t : token_ban)
    if (t < 0 || t >= vocab) fail("sampler", "token_ban id {} is outside the vocabulary [0, {})", t, vocab);
  for (int32_t t : token_stop)
    if (t < 0 || t >= vocab) fail("sampler", "token_stop id {} is outside the vocabulary [0, {})", t, vocab);
}

double Rng::uniform() {
  uint32_t a = mt_() >> 5, b = mt_() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

namespace {
// Sum in fp64 over 8 interleaved partial sums: one long chain of dependent adds cost more than
// the rest of sampling (three of them over the vocabulary per token).
double sum_f64(const float* p, int n) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) part[j] += p[i + j];
  double s = 0;
  for (; i < n; i++) s += p[i];
  for (double v : part) s += v;
  return s;
}

// Descending probability; ties put the higher id first (numpy's ascending argsort, flipped).
struct Desc {
  const float* p;
  bool operator()(int32_t a, int32_t b) const { return p[a] > p[b] || (p[a] == p[b] && a > b); }
};
}  // namespace

void sampling_probs(const float* logits, int V, float temperature, float top_p, int top_k,
                    std::vector<float>& probs) {
  RWKV_CHECK(V > 0, "empty logits");
  if (temperature == 0) {
    temperature = 1.0f;
    top_p = 0;
  }
  // softmax (fp32, as F.softmax(logits.float()))
  probs.resize(V);
  float mx = -INFINITY;
  for (int i = 0; i < V; i++) mx = std::max(mx, logits[i]);
  if (!(mx > -INFINITY)) fail("sampler", "every token is banned or has logit -inf");
  for (int i = 0; i < V; i++) probs[i] = std::exp(logits[i] - mx);
  float inv = float(1.0 / sum_f64(probs.data(), V));
  for (int i = 0; i < V; i++) probs[i] *= inv;

  // top-p: cutoff = sorted_probs[first index where cumsum >= top_p] (fp32 cumsum, descending).
  // The probabilities >= tau come first in that order, so when their cumsum reaches top_p the
  // cutoff lies among them: sort only those (a few for a trained model), lowering tau until it
  // does; a full sort is the last resort.
  float pmax = 0;
  for (int i = 0; i < V; i++) pmax = std::max(pmax, probs[i]);
  thread_local std::vector<int32_t> ids;
  Desc desc{probs.data()};
  // sorts ids descending; the probability where their fp32 cumsum reaches top_p, or -1
  auto cutoff_in = [&]() {
    std::sort(ids.begin(), ids.end(), desc);
    float cum = 0;
    for (int32_t id : ids)
      if ((cum += probs[id]) >= top_p) return probs[id];
    return -1.f;
  };
  float cutoff = top_p <= pmax ? pmax : -1;  // the largest alone reaches top_p (top_p = 0: greedy)
  for (float tau = pmax / 64; cutoff < 0 && tau > 0 && tau >= pmax * 1e-9f; tau /= 1024) {
    ids.clear();
    for (int i = 0; i < V; i++)
      if (probs[i] >= tau) ids.push_back(i);
    if (ids.size() > size_t(V) / 4) break;  // as good as sorting everything
    cutoff = cutoff_in();
  }
  if (cutoff < 0) {
    ids.resize(V);
    std::iota(ids.begin(), ids.end(), 0);
    cutoff = cutoff_in();
    if (cutoff < 0) cutoff = probs[ids[V - 1]];  // the cumsum never reached top_p (rounding): keep all
  }
  // top-k: keep the top_k largest (descending order), zero the rest
  if (top_k > 0 && top_k < V) {
    ids.resize(V);
    std::iota(ids.begin(), ids.end(), 0);
    std::nth_element(ids.begin(), ids.begin() + (top_k - 1), ids.end(), desc);
    for (int i = top_k; i < V; i++) probs[ids[i]] = 0;
  }
  for (int i = 0; i < V; i++)
    if (probs[i] < cutoff) probs[i] = 0;
  thread_local std::vector<float> kept;
  kept.clear();
  if (temperature != 1.0f) {
    kept.assign(probs.begin(), probs.end());
    float e = 1.0f / temperature;
    for (int i = 0; i < V; i++) probs[i] = std::pow(probs[i], e);
  }
  const double s = sum_f64(probs.data(), V);
  if (!(s > 0) || !std::isfinite(s)) {
    // a tiny temperature underflowed (or overflowed) every probability: the limit is greedy.
    const std::vector<float>& src = kept.empty() ? probs : kept;
    int best = int(std::max_element(src.begin(), src.end()) - src.begin());
    std::fill(probs.begin(), probs.end(), 0.0f);
    probs[best] = 1;
    return;
  }
  float sf = float(s);
  for (int i = 0; i < V; i++) probs[i] /= sf;
}

int32_t sample_logits(const float* logits, int V, float temperature, float top_p, int top_k, Rng& rng) {
  thread_local std::vector<float> probs;
  sampling_probs(logits, V, temperature, top_p, top_k, probs);
  // np.random.choice(a=V, p=probs): cdf in fp64, normalised by its total, searchsorted right —
  // the first i with cdf[i] / total > u, found in a second pass without storing cdf.
  const double last = sum_f64(probs.data(), V);
  const double u = rng.uniform();
  double c = 0;
  for (int i = 0; i < V; i++)
    if ((c += probs[i]) / last > u) return i;
  return V - 1;
}

void Occurrence::penalise(float* logits, double alpha_presence, double alpha_frequency) const {
  for (auto& [tok, n] : counts_) logits[tok] -= float(alpha_presence + n * alpha_frequency);
}

void Occurrence::add(int32_t token, double weight, double alpha_decay) {
  for (auto& kv : counts_) kv.second *= alpha_decay;
  counts_[token] += weight;
}

double occurrence_weight(const std::string& token_text) {
  static const std::string light = " \t0123456789";
  return light.find(token_text) != std::string::npos ? 0.0 : 1.0;
}

}  // namespace rwkv
