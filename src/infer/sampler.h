// sampler.h — next-token sampling as the official `rwkv` pip package's PIPELINE does it:
// softmax, top-p cutoff, top-k, temperature, occurrence penalties (frequency / presence with
// decay), token bans; and a seeded RNG compatible with numpy's legacy np.random (MT19937),
// so a seed always gives the same tokens.
#pragma once
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace rwkv {

// PIPELINE_ARGS, with the same defaults.
struct SamplerArgs {
  float temperature = 1.0f;      // 0: greedy (as the official: temperature 1, top_p 0)
  float top_p = 0.85f;           // keep the smallest top set whose probability reaches top_p
  int top_k = 0;                 // 0: off
  double alpha_frequency = 0.2;  // penalty per (decayed) occurrence
  double alpha_presence = 0.2;   // penalty once a token has occurred
  double alpha_decay = 0.996;    // occurrences decay by this factor per generated token
  std::vector<int32_t> token_ban;   // never sampled
  std::vector<int32_t> token_stop;  // generation stops when one is sampled (not emitted)
  int chunk_len = 256;           // prompt fed in chunks of this many tokens

  // Throws "[sampler] ..." for values outside their domain: temperature < 0 or not finite,
  // top_p outside [0, 1], top_k < 0, alpha_decay outside [0, 1], non-finite alphas,
  // chunk_len < 1, ban/stop ids outside [0, vocab).
  void validate(int vocab) const;
};

// numpy legacy RandomState: np.random.seed(seed) then random_sample() gives the same doubles.
class Rng {
 public:
  explicit Rng(uint32_t seed) : mt_(seed) {}
  double uniform();  // [0, 1), 53 random bits as numpy's random_sample
 private:
  std::mt19937 mt_;
};

// PIPELINE.sample_logits on V logits. Deterministic given the RNG state. One documented
// difference: when rounding keeps the cumulative probability below top_p (e.g. top_p = 1),
// the official picks the top token; here every token is kept. "[sampler] ..." when every logit is
// -inf, or one is NaN or +inf. Cheap next to a forward even at V = 65,536 (bench/bench_sampling):
// no sort of the vocabulary, vectorised passes, greedy without exponentials.
int32_t sample_logits(const float* logits, int V, float temperature, float top_p, int top_k, Rng& rng);

// The probabilities sample_logits draws from (after top-p, top-k, temperature, normalised):
// exposed for tests. probs: (V).
void sampling_probs(const float* logits, int V, float temperature, float top_p, int top_k,
                    std::vector<float>& probs);

// Occurrence counts of PIPELINE.generate: penalise(logits) subtracts
// alpha_presence + count * alpha_frequency from every token seen; add(token, weight) first decays
// all counts by alpha_decay, then adds `weight` to the token. Only tokens seen are kept, in flat
// arrays (the decay is one pass over contiguous doubles; the same multiplications as a dict).
class Occurrence {
 public:
  void penalise(float* logits, double alpha_presence, double alpha_frequency) const;
  void add(int32_t token, double weight, double alpha_decay);
  void clear();
  const std::map<int32_t, double>& counts() const;  // token -> count (a copy made on the call)
 private:
  std::vector<int32_t> tokens_;
  std::vector<double> counts_;                 // counts_[i] belongs to tokens_[i]
  std::unordered_map<int32_t, uint32_t> at_;  // token -> i
  mutable std::map<int32_t, double> view_;
};

// The official generate() weighs a new token 0 when its text is a substring of " \t0123456789"
// (spaces, tabs, digits; also the empty string), else 1.
double occurrence_weight(const std::string& token_text);

}  // namespace rwkv
