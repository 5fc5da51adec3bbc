// sampler_reference.h — the sampler as the straightforward loops (what src/infer/sampler.cpp did
// before its passes were made fast): std::exp softmax, a full sort of the ids for top-p and
// top-k, std::pow temperature, and the draw dividing every cdf entry. The optimised sampler must
// give the same floats and the same tokens (test_sampler_exact.cpp).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "infer/sampler.h"

namespace rwkv::ref {

// fp64 sum over 8 interleaved partials, the tail, then the partials in order.
inline double sum_f64(const float* p, int n) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) part[j] += p[i + j];
  double s = 0;
  for (; i < n; i++) s += p[i];
  for (double v : part) s += v;
  return s;
}

inline void sampling_probs(const float* logits, int V, float temperature, float top_p, int top_k,
                           std::vector<float>& probs) {
  if (temperature == 0) {
    temperature = 1.0f;
    top_p = 0;
  }
  probs.resize(V);
  float mx = -INFINITY;
  for (int i = 0; i < V; i++) mx = std::max(mx, logits[i]);
  if (!(mx > -INFINITY)) throw std::runtime_error("every token is banned");
  for (int i = 0; i < V; i++) probs[i] = std::exp(logits[i] - mx);
  const float inv = float(1.0 / sum_f64(probs.data(), V));
  for (int i = 0; i < V; i++) probs[i] *= inv;
  // descending probability; ties: the higher id first (numpy's ascending argsort, flipped)
  std::vector<int32_t> ids(V);
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return probs[a] > probs[b] || (probs[a] == probs[b] && a > b);
  });
  float cum = 0, cutoff = probs[ids[V - 1]];  // never reached (rounding): keep all
  for (int32_t id : ids)
    if ((cum += probs[id]) >= top_p) {
      cutoff = probs[id];
      break;
    }
  if (top_k > 0 && top_k < V)
    for (int r = top_k; r < V; r++) probs[ids[r]] = 0;
  for (int i = 0; i < V; i++)
    if (probs[i] < cutoff) probs[i] = 0;
  std::vector<float> kept = probs;
  if (temperature != 1.0f)
    for (int i = 0; i < V; i++) probs[i] = std::pow(probs[i], 1.0f / temperature);
  const double s = sum_f64(probs.data(), V);
  if (!(s > 0) || !std::isfinite(s)) {
    const int best = int(std::max_element(kept.begin(), kept.end()) - kept.begin());
    std::fill(probs.begin(), probs.end(), 0.0f);
    probs[best] = 1;
    return;
  }
  for (int i = 0; i < V; i++) probs[i] /= float(s);
}

// np.random.choice(V, p=probs): the first i with cdf[i] / cdf[-1] > u (fp64 cdf).
inline int32_t draw(const std::vector<float>& probs, Rng& rng) {
  const int V = int(probs.size());
  const double last = sum_f64(probs.data(), V), u = rng.uniform();
  double c = 0;
  for (int i = 0; i < V; i++)
    if ((c += probs[i]) / last > u) return i;
  return V - 1;
}

inline int32_t sample_logits(const float* logits, int V, float temperature, float top_p, int top_k, Rng& rng) {
  std::vector<float> probs;
  sampling_probs(logits, V, temperature, top_p, top_k, probs);
  return draw(probs, rng);
}

}  // namespace rwkv::ref
