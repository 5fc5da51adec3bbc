// l2wrap_ce.cpp — CPU cross-entropy with the L2Wrap gradient term (see ops/l2wrap_ce.h); the row
// statistics (max, argmax, log-sum-exp) are ops/logprob.h's.
#include "ops/l2wrap_ce.h"

#include <cmath>

#include "ops/logprob.h"

namespace rwkv {

double l2wrap_ce_forward(float* losses, const float* logits, const int32_t* targets, int64_t M,
                         int V) {
  double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (M * V > 16384)
  for (int64_t m = 0; m < M; m++) {
    const float* l = logits + m * V;
    const double loss = targets[m] < 0 ? 0.0 : row_stats(l, V).lse() - l[targets[m]];
    if (losses) losses[m] = float(loss);
    total += loss;
  }
  return total;
}

void l2wrap_ce_backward(float* dlogits, const float* logits, const int32_t* targets, int64_t M,
                        int V, float scale, float factor) {
#pragma omp parallel for schedule(static) if (M * V > 16384)
  for (int64_t m = 0; m < M; m++) {
    const float* l = logits + m * V;
    float* d = dlogits + m * V;
    if (targets[m] < 0) {  // padding row
      for (int i = 0; i < V; i++) d[i] = 0.f;
      continue;
    }
    const RowStats r = row_stats(l, V);
    const double lse = r.lse();
    for (int i = 0; i < V; i++) d[i] = scale * float(std::exp(double(l[i]) - lse));
    d[targets[m]] -= scale;
    if (r.argmax < V) d[r.argmax] += factor * r.max;
  }
}

}  // namespace rwkv
