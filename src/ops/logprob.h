// logprob.h — the log-probability of one token under a row of logits, and whether the token is
// the row's argmax (the first largest logit, as torch.argmax): what evaluation scores per target.
// log softmax(l)[t] = l[t] - max(l) - log Σ_i exp(l_i - max(l)); the sum is kept in double.
#pragma once
#include <cstdint>

namespace rwkv {

struct TokenLogProb {
  double logprob;  // natural log
  bool is_argmax;
};

// logits (V) fp32; token in [0, V).
TokenLogProb token_logprob(const float* logits, int V, int32_t token);

}  // namespace rwkv
