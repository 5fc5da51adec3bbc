// wkv2.cpp — CPU WKV-2 (see ops/wkv2.h): channels are independent; each runs its T steps in order.
#include "ops/wkv2.h"

namespace rwkv {

void wkv2_forward(float* y, const float* sr, const float* k, const float* v, const float* w, const float* u,
                  float* aa, float* bb, float k_eps, int T, int C) {
#pragma omp simd
  for (int c = 0; c < C; c++) {
    float a = aa[c], b = bb[c];
    const float wc = w[c], uc = u[c];
    for (int t = 0; t < T; t++) {
      const int64_t i = int64_t(t) * C + c;
      const float kv = k[i] * v[i];
      y[i] = sr[i] * (a + uc * kv) / (b + uc * k[i] + k_eps);
      a = wc * a + kv;
      b = wc * b + k[i];
    }
    aa[c] = a;
    bb[c] = b;
  }
}

}  // namespace rwkv
