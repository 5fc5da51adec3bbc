// wkv56.h — the one CPU kernel behind wkv5_forward and wkv6_forward (ops/wkv5.h, ops/wkv6.h):
// they differ only in the stride between the tokens' decay rows (0: one w for all tokens).
// Internal to ops/cpu. One head per OpenMP iteration; its N x N state stays in cache. The sums
// run in the order the RWKV-5/6 models had before they moved onto ops (bit-identical results).
#pragma once

#include <cstdint>

#include "core/parallel_for.h"

namespace rwkv::cpu {

// One token of one head: y[i] = sum_j r[j] S[i][j] + v[i] sum_j r[j] u[j] k[j], then
// S[i][j] = S[i][j] w[j] + v[i] k[j]. r, k, v, w, u, y: (N); S: (N, N) [value i, key j].
// Shared by the inference kernel below and the training forward (wkv6.cpp).
inline void wkv56_token(float* y, float* S, const float* rt, const float* kt, const float* vt, const float* wt,
                        const float* uh, int N) {
  float ruk = 0;  // sum_j r[j] u[j] k[j]: the bonus term's weight
  for (int j = 0; j < N; j++) ruk += rt[j] * uh[j] * kt[j];
  for (int i = 0; i < N; i++) {
    float* si = S + int64_t(i) * N;
    const float vi = vt[i];
    float acc = 0;
    for (int j = 0; j < N; j++) {
      acc += rt[j] * si[j];
      si[j] = si[j] * wt[j] + vi * kt[j];
    }
    y[i] = acc + vi * ruk;
  }
}

// y, r, k, v: (T, H*N); w: row t at w + t * w_stride, (H*N) each; u: (H*N); S: (H, N, N).
inline void wkv56_forward(float* y, float* S, const float* r, const float* k, const float* v,
                          const float* w, int64_t w_stride, const float* u, int T, int H, int N) {
  const int64_t HN = int64_t(H) * N;
  parallel_for(H, H > 1 && int64_t(T) * N >= 256, [&](int64_t h) {
    float* s = S + h * N * N;
    const float* uh = u + int64_t(h) * N;
    for (int t = 0; t < T; t++) {
      const int64_t o = t * HN + int64_t(h) * N;
      wkv56_token(y + o, s, r + o, k + o, v + o, w + t * w_stride + int64_t(h) * N, uh, N);
    }
  });
}

}  // namespace rwkv::cpu
