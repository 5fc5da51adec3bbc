// ddlerp.cpp — CPU RWKV-6 data-dependent token-shift mix (see ops/ddlerp.h).
#include "ops/ddlerp.h"

#include "core/parallel_for.h"

namespace rwkv {

void ddlerp_forward(float* out, const float* x, const float* xx, const float* mu, const float* m,
                    int64_t M, int C) {
  parallel_for(M, M * C > 8192, [&](int64_t r) {
    for (int c = 0; c < C; c++) {
      const int64_t o = r * C + c;
      out[o] = x[o] + xx[o] * (mu[c] + m[o]);
    }
  });
}

void ddlerp_backward(float* dx, float* dxx, float* dmu, float* dm, const float* dout,
                     const float* xx, const float* mu, const float* m, int64_t M, int C) {
  parallel_for(M, M * C > 8192, [&](int64_t r) {
    for (int c = 0; c < C; c++) {
      const int64_t o = r * C + c;
      const float d = dout[o];
      if (dx) dx[o] += d;
      if (dxx) dxx[o] += d * (mu[c] + m[o]);
      if (dm) dm[o] += d * xx[o];
    }
  });
  if (dmu)  // per column in row order (a fixed sum order)
    parallel_for(C, M * C > 8192, [&](int64_t c) {
      float acc = 0;
      for (int64_t r = 0; r < M; r++) acc += dout[r * C + c] * xx[r * C + c];
      dmu[c] += acc;
    });
}

}  // namespace rwkv
