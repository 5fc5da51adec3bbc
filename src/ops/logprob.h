// logprob.h — the log-probability of one token under a row of logits, and whether the token is
// the row's argmax, and the row statistics (max, argmax, log-sum-exp) both rest on (the first largest logit, as torch.argmax): what evaluation scores per target.
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

// A row's max, the first index holding it (torch.argmax), and log Σ exp(logits) in double
// (the cross-entropy of training uses it too: ops/l2wrap_ce.h).
struct RowStats {
  float max;
  int argmax;       // V when every logit is NaN
  double log_sum;   // log Σ exp(logits - max)
  double lse() const { return double(max) + log_sum; }
};
RowStats row_stats(const float* logits, int V);

}  // namespace rwkv
