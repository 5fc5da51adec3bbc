// l2wrap_ce.cpp — CPU cross-entropy with the L2Wrap gradient term (see ops/l2wrap_ce.h).
#include "ops/l2wrap_ce.h"

#include <cmath>

namespace rwkv {

namespace {
// Row max, its first index, and log-sum-exp (double accumulation).
inline void row_stats(const float* l, int V, float* mx, int* am, double* lse) {
  float m = l[0];
  int idx = 0;
  for (int i = 1; i < V; i++)
    if (l[i] > m) m = l[i], idx = i;
  double s = 0;
  for (int i = 0; i < V; i++) s += std::exp(double(l[i] - m));
  *mx = m;
  *am = idx;
  *lse = m + std::log(s);
}
}  // namespace

double l2wrap_ce_forward(float* losses, const float* logits, const int32_t* targets, int64_t M,
                         int V) {
  double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (M * V > 16384)
  for (int64_t m = 0; m < M; m++) {
    const float* l = logits + m * V;
    float mx;
    int am;
    double lse;
    row_stats(l, V, &mx, &am, &lse);
    double loss = lse - l[targets[m]];
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
    float mx;
    int am;
    double lse;
    row_stats(l, V, &mx, &am, &lse);
    for (int i = 0; i < V; i++) d[i] = scale * float(std::exp(double(l[i]) - lse));
    d[targets[m]] -= scale;
    d[am] += factor * mx;
  }
}

}  // namespace rwkv
