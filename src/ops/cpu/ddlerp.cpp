// ddlerp.cpp — CPU RWKV-6 data-dependent token-shift mix (see ops/ddlerp.h).
#include "ops/ddlerp.h"

namespace rwkv {

void ddlerp_forward(float* out, const float* x, const float* xx, const float* mu, const float* m,
                    int64_t M, int C) {
#pragma omp parallel for schedule(static) if (M * C > 8192)
  for (int64_t r = 0; r < M; r++)
    for (int c = 0; c < C; c++) {
      const int64_t o = r * C + c;
      out[o] = x[o] + xx[o] * (mu[c] + m[o]);
    }
}

}  // namespace rwkv
