// linear_f64acc.cpp — CPU fp32 product with double accumulation (see ops/linear_f64acc.h).
#include "ops/linear_f64acc.h"

#include <omp.h>

namespace rwkv {

void linear_f64acc_forward(float* out, const float* x, const float* W, int64_t M, int64_t K, int64_t N) {
#pragma omp parallel for schedule(static) if (N * K * M > (1 << 15) && !omp_in_parallel())
  for (int64_t n = 0; n < N; n++) {
    const float* w = W + n * K;
    for (int64_t m = 0; m < M; m++) {
      const float* xr = x + m * K;
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t k = 0; k < K; k++) s += double(w[k]) * double(xr[k]);
      out[m * N + n] = float(s);
    }
  }
}

}  // namespace rwkv
