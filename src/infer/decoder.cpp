// decoder.cpp — see decoder.h.
#include "infer/decoder.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ops/logprob.h"

namespace rwkv {

Decoder::Decoder(const GenerateConfig& cfg, const Tokenizer& tok, int V, Rng& rng)
    : cfg_(cfg), tok_(tok), V_(V), tok_v_(std::min(V, int(tok.vocab_size()))), rng_(rng), stop_(cfg.stop),
      lg_(size_t(V)) {
  cfg_.args.validate(V);
  const int32_t zero = 0;
  try {
    (void)tok.decode(&zero, 1);
  } catch (const Error&) {
    zero_ends_text_ = true;
  }
}

int32_t Decoder::sample(const float* logits, double* logprob) {
  const SamplerArgs& a = cfg_.args;
  std::copy(logits, logits + V_, lg_.begin());
  for (int n = tok_v_; n < V_; n++) lg_[n] = -INFINITY;  // the tokenizer cannot decode these
  for (const auto& [n, bias] : cfg_.logit_bias) lg_[n] += bias;
  for (int32_t n : a.token_ban) lg_[n] -= cfg_.ban_penalty;
  occ_.penalise(lg_.data(), a.alpha_presence, a.alpha_frequency);
  const int32_t token = sample_logits(lg_.data(), V_, a.temperature, a.top_p, a.top_k, rng_);
  if (logprob) *logprob = token_logprob(logits, V_, token).logprob;
  return token;
}

bool Decoder::is_stop_token(int32_t token) const {
  const auto& s = cfg_.args.token_stop;
  return (token == 0 && zero_ends_text_) || std::find(s.begin(), s.end(), token) != s.end();
}

std::string Decoder::accept(int32_t token) {
  generated_++;
  const std::string bytes = tok_.decode(&token, 1);
  occ_.add(token, cfg_.light_weights ? occurrence_weight(bytes) : 1.0, cfg_.args.alpha_decay);
  return stop_.push(utf8_.push(bytes));
}

std::string Decoder::finish() { return stop_.push(utf8_.flush()) + stop_.flush(); }

}  // namespace rwkv
