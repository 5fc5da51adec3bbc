// decoder.h — one generation's sampling, a token at a time: the loop body of the official
// PIPELINE.generate (bans, occurrence penalties, sample_logits, token_stop), and the text it
// yields as complete UTF-8 cut before stop strings. generate() loops over it on a Session; the
// server's scheduler drives one per sequence between engine steps.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "infer/generate.h"
#include "infer/sampler.h"
#include "infer/text_stream.h"
#include "tokenizer/tokenizer.h"

namespace rwkv {

class Decoder {
 public:
  // cfg.args is validated against V ("[sampler] ..."). The tokenizer and the RNG (the caller's:
  // a chat keeps one across turns) must outlive the decoder.
  Decoder(const GenerateConfig& cfg, const Tokenizer& tok, int V, Rng& rng);

  // The next token from the logits of the last fed token (V floats; not modified): ids the
  // tokenizer cannot decode are never picked. `logprob` (optional) gets its log-probability
  // under the plain softmax of `logits`.
  int32_t sample(const float* logits, double* logprob = nullptr);
  // A token_stop token, or token 0 when the tokenizer has no text for it (the World vocabulary:
  // 0 is the end-of-text token make-data puts after every document, so sampling it ends the text
  // — as RWKV's own chat and API scripts stop on it).
  bool is_stop_token(int32_t token) const;
  // A sampled token that is emitted: counts it, returns the text that became safe to show.
  std::string accept(int32_t token);
  // The held-back text at the end (an incomplete UTF-8 tail, a partial stop-string match).
  std::string finish();
  bool stopped() const { return stop_.stopped(); }  // a stop string was seen
  int generated() const { return generated_; }

 private:
  GenerateConfig cfg_;
  const Tokenizer& tok_;
  int V_, tok_v_;
  bool zero_ends_text_ = false;
  Rng& rng_;
  Occurrence occ_;
  Utf8Stream utf8_;
  StopMatcher stop_;
  std::vector<float> lg_;
  int generated_ = 0;
};

}  // namespace rwkv
