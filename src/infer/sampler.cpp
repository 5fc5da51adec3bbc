// sampler.cpp — PIPELINE.sample_logits / generate penalties (see sampler.h). Each step gives the
// floats the plain loops give (tests/sampler_reference.h is those loops; the test compares
// choices bit for bit): the softmax's passes are vectorised (softmax_exp.h), the top-p cutoff sorts
// only the values that can hold it (top_p.h), greedy skips the exponentials when no logit ties
// the largest, and the draw skips runs of dropped tokens.
#include "infer/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "infer/softmax_exp.h"
#include "infer/top_p.h"

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

// Greedy without the exponentials: when no other logit is within 2^-20 of the largest, the
// largest alone has the top probability (exp(-2^-20) < 1 - 8 ulp of 1, and x -> x * inv keeps that
// gap), so top_p 0 keeps only it. -1 when another is that close (ties decide as usual).
int lone_argmax(const float* logits, int V, float mx) {
  int n = 0;
  for (int i = 0; i < V; i++) n += logits[i] - mx > -0x1p-20f;
  if (n != 1) return -1;
  return int(std::find_if(logits, logits + V, [&](float l) { return l - mx > -0x1p-20f; }) - logits);
}

// Whether p[0..16) holds a nonzero (a dropped block when not).
inline bool any16(const float* p) {
  bool any = false;
  for (int j = 0; j < 16; j++) any |= p[j] != 0;
  return any;
}

// Top-k on probabilities already cut at top-p: keep the top_k largest, ties at kth (the top_k-th
// largest) highest id first, as a descending argsort orders them.
void keep_top_k(float* p, int V, int top_k, float kth) {
  int above = 0, at = 0;
  for (int i = 0; i < V; i++) above += p[i] > kth;
  for (int i = 0; i < V; i++) at += p[i] == kth;
  int ties = top_k - above;
  if (ties >= at) {  // every tie fits
    for (int i = 0; i < V; i++) p[i] = p[i] >= kth ? p[i] : 0.0f;
    return;
  }
  for (int i = V - 1; i >= 0; i--) {
    if (p[i] < kth) p[i] = 0;
    else if (p[i] == kth && ties-- <= 0) p[i] = 0;
  }
}

// The first index holding the largest value (std::max_element).
int first_max(const float* p, int V) {
  bool nan;
  const float m = max_of(p, V, &nan);
  return int(std::find(p, p + V, m) - p);
}

// Σ p[0..64) in fp64, any order (the callers know it is exact).
double block_sum(const float* p) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 64; i += 8)
    for (int j = 0; j < 8; j++) part[j] += p[i + j];
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

struct ProbsInfo {
  bool exact = true;  // every probability is 0 or >= 2^-29: then each is a multiple of 2^-52, and
                      // so is every partial sum of them (< 2), which fp64 holds exactly, in any order
  int lone = -1;      // >= 0: the probabilities are 1 there and 0 elsewhere
  double total = 1;   // sum_f64 of the probabilities
};

// sampling_probs; when the result is one token (greedy), probs is only written if fill_lone.
ProbsInfo probs_of(const float* logits, int V, float temperature, float top_p, int top_k, std::vector<float>& probs,
                   bool fill_lone) {
  ProbsInfo info;
  RWKV_CHECK(V > 0, "empty logits");
  if (temperature == 0) {
    temperature = 1.0f;
    top_p = 0;
  }
  probs.resize(V);
  float* p = probs.data();
  bool nan = false;
  const float mx = max_of(logits, V, &nan);
  if (nan || mx == INFINITY) fail("sampler", "the logits hold NaN or +inf (the model overflowed?)");
  if (!(mx > -INFINITY)) fail("sampler", "every token is banned or has logit -inf");
  if (top_p == 0) {
    if ((info.lone = lone_argmax(logits, V, mx)) >= 0) {
      if (fill_lone) {
        std::fill(probs.begin(), probs.end(), 0.0f);
        p[info.lone] = 1;
      }
      return info;
    }
  }

  // softmax (fp32, as F.softmax(logits.float())); exp(0) = 1 is the largest exponential, so the
  // largest probability is inv
  const float inv = float(1.0 / exp_minus_max(logits, mx, p, V));
  for (int i = 0; i < V; i++) p[i] *= inv;
  const float pmax = inv;

  // top-p, then top-k: both keep a prefix of the descending order, so the shorter one
  const bool use_k = top_k > 0 && top_k < V;
  const TopP cut = top_p_cutoff(p, V, pmax, top_p, use_k ? top_k : 0);
  const float c = cut.cutoff;
  double s = cut_below(p, V, c);
  bool changed = false;  // s is stale
  if (use_k) {
    int kept = 0;
    for (int i = 0; i < V; i++) kept += p[i] != 0 || c == 0;
    if (kept > top_k) keep_top_k(p, V, top_k, cut.kth), changed = true;
  }

  // temperature: p ** (1 / temperature) over the kept ones (0 ** e = 0 for e > 0)
  int best = -1;  // the greedy fallback below: the first largest before the power
  if (temperature != 1.0f) {
    changed = true;
    best = first_max(p, V);
    const float e = 1.0f / temperature;
    for (int i = 0; i < V; i += 16) {  // blocks of dropped ones skipped: 0 ** e = 0 (e > 0)
      const int n = std::min(16, V - i);
      if (n < 16 || !(e > 0) || any16(p + i))
        for (int j = i; j < i + n; j++)
          if (p[j] != 0 || !(e > 0)) p[j] = std::pow(p[j], e);
    }
  }
  if (changed) s = sum_f64(p, V);
  if (!(s > 0) || !std::isfinite(s)) {
    // a tiny temperature underflowed (or overflowed) every probability: the limit is greedy.
    if (best < 0) best = first_max(p, V);
    std::fill(probs.begin(), probs.end(), 0.0f);
    p[best] = 1;
    return info;
  }
  const float sf = float(s);
  info.total = divide_by(p, V, sf);
  int tiny = 0;
  for (int i = 0; i < V; i++) tiny += (p[i] > 0) & (p[i] < 0x1p-29f);
  info.exact = tiny == 0;
  return info;
}

}  // namespace

void sampling_probs(const float* logits, int V, float temperature, float top_p, int top_k,
                    std::vector<float>& probs) {
  probs_of(logits, V, temperature, top_p, top_k, probs, true);
}

int32_t sample_logits(const float* logits, int V, float temperature, float top_p, int top_k, Rng& rng) {
  thread_local std::vector<float> probs;
  const ProbsInfo info = probs_of(logits, V, temperature, top_p, top_k, probs, false);
  // np.random.choice(a=V, p=probs): cdf in fp64, normalised by its total, searchsorted right —
  // the first i with cdf[i] / total > u, found in a second pass without storing cdf. The division
  // is only done once the cdf is within rounding of u * total (below u * total * (1 - 2^-50) the
  // quotient is surely <= u). When the cdf is exact (see probs_of) whole blocks are added at
  // once while it stays below that; zeros leave it as it is, so blocks of them are skipped.
  if (info.lone >= 0) {  // a one-hot cdf: any u picks it
    rng.uniform();
    return info.lone;
  }
  const float* p = probs.data();
  const double last = info.total;
  const double u = rng.uniform(), near = u * last * (1 - 0x1p-50);
  double c = 0;
  int start = 0;
  if (info.exact)
    for (double b; start + 64 <= V && c + (b = block_sum(p + start)) < near; start += 64) c += b;
  for (int i = start; i < V; i += 16) {
    const int n = std::min(16, V - i);
    if (n == 16 && !any16(p + i)) continue;
    for (int j = 0; j < n; j++)
      if ((c += p[i + j]) >= near && c / last > u) return i + j;
  }
  return V - 1;
}

void Occurrence::penalise(float* logits, double alpha_presence, double alpha_frequency) const {
  for (size_t i = 0; i < tokens_.size(); i++) logits[tokens_[i]] -= float(alpha_presence + counts_[i] * alpha_frequency);
}

void Occurrence::add(int32_t token, double weight, double alpha_decay) {
  for (double& n : counts_) n *= alpha_decay;
  const auto [it, fresh] = at_.try_emplace(token, uint32_t(tokens_.size()));
  if (fresh) {
    tokens_.push_back(token);
    counts_.push_back(0.0);
  }
  counts_[it->second] += weight;
}

void Occurrence::clear() {
  tokens_.clear();
  counts_.clear();
  at_.clear();
}

const std::map<int32_t, double>& Occurrence::counts() const {
  view_.clear();
  for (size_t i = 0; i < tokens_.size(); i++) view_[tokens_[i]] = counts_[i];
  return view_;
}

double occurrence_weight(const std::string& token_text) {
  static const std::string light = " \t0123456789";
  return light.find(token_text) != std::string::npos ? 0.0 : 1.0;
}

}  // namespace rwkv
