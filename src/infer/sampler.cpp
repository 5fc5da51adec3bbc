// sampler.cpp — PIPELINE.sample_logits / generate penalties (see sampler.h). The top-p cutoff
// sorts only as many of the largest probabilities as it needs (grown geometrically), which gives
// the same cutoff as a full sort.
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

// Descending probability; ties put the higher id first (numpy's ascending argsort, flipped).
namespace {
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
  double sum = 0;
  for (int i = 0; i < V; i++) {
    probs[i] = std::exp(logits[i] - mx);
    sum += probs[i];
  }
  float inv = float(1.0 / sum);
  for (int i = 0; i < V; i++) probs[i] *= inv;

  // top-p: cutoff = sorted_probs[first index where cumsum >= top_p] (fp32 cumsum, descending).
  // per-token buffers are reused: a fresh 256 KiB vector per token is an mmap + page faults
  thread_local std::vector<int32_t> ids;
  ids.resize(V);
  std::iota(ids.begin(), ids.end(), 0);
  Desc desc{probs.data()};
  float cutoff = 0;
  int m = std::min(V, 64);
  for (;;) {
    std::nth_element(ids.begin(), ids.begin() + (m - 1), ids.end(), desc);
    std::sort(ids.begin(), ids.begin() + m, desc);
    float cum = 0;
    int found = -1;
    for (int i = 0; i < m; i++) {
      cum += probs[ids[i]];
      if (cum >= top_p) { found = i; break; }
    }
    if (found >= 0) { cutoff = probs[ids[found]]; break; }
    if (m == V) { cutoff = probs[ids[V - 1]]; break; }  // never reached: keep all (see header)
    m = int(std::min<int64_t>(V, int64_t(m) * 8));
  }
  // top-k: keep the top_k largest (descending order), zero the rest
  if (top_k > 0 && top_k < V) {
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
  double s = 0;
  for (int i = 0; i < V; i++) s += probs[i];
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
  // np.random.choice(a=V, p=probs): cdf in fp64, normalised by its last value, searchsorted right.
  thread_local std::vector<double> cdf;
  cdf.resize(V);
  double c = 0;
  for (int i = 0; i < V; i++) cdf[i] = (c += probs[i]);
  double last = cdf[V - 1];
  for (int i = 0; i < V; i++) cdf[i] /= last;
  double u = rng.uniform();
  int32_t idx = int32_t(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
  return std::min(idx, V - 1);
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
