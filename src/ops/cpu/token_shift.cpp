// token_shift.cpp — CPU time shift and channel mixes (see ops/token_shift.h).
#include "ops/token_shift.h"

#include "core/parallel_for.h"

namespace rwkv {

void token_shift_forward(float* xx, const float* x, const float* prev, int B, int T, int C) {
  parallel_for(int64_t(B) * T, int64_t(B) * T * C > 8192, [&](int64_t bt) {
      const int64_t b = bt / T, t = bt % T;
      const float* cur = x + (int64_t(b) * T + t) * C;
      const float* pv = t > 0 ? cur - C : (prev ? prev + int64_t(b) * C : nullptr);
      float* o = xx + (int64_t(b) * T + t) * C;
      if (pv)
        for (int c = 0; c < C; c++) o[c] = pv[c] - cur[c];
      else
        for (int c = 0; c < C; c++) o[c] = -cur[c];
  });
}

void token_shift_backward(float* dx, float* dprev, const float* dxx, int B, int T, int C) {
  parallel_for(int64_t(B) * T, int64_t(B) * T * C > 8192, [&](int64_t bt) {
      const int64_t b = bt / T, t = bt % T;
      // dx[t] gets -dxx[t] and +dxx[t+1] (x[t] is the previous token of t+1).
      float* o = dx + (int64_t(b) * T + t) * C;
      const float* d = dxx + (int64_t(b) * T + t) * C;
      if (t + 1 < T)
        for (int c = 0; c < C; c++) o[c] += d[C + c] - d[c];
      else
        for (int c = 0; c < C; c++) o[c] -= d[c];
  });
  if (dprev)
    for (int b = 0; b < B; b++)
      for (int c = 0; c < C; c++) dprev[int64_t(b) * C + c] += dxx[int64_t(b) * T * C + c];
}

void mix_forward(float* out, const float* x, const float* xx, const float* mu, int64_t M, int C) {
  parallel_for(M, M * C > 8192, [&](int64_t m) {
    for (int c = 0; c < C; c++) out[m * C + c] = x[m * C + c] + xx[m * C + c] * mu[c];
  });
}

void mix_backward(float* dx, float* dxx, float* dmu, const float* dout, const float* xx,
                  const float* mu, int64_t M, int C) {
  parallel_for(M, M * C > 8192, [&](int64_t m) {
    for (int c = 0; c < C; c++) {
      float d = dout[m * C + c];
      if (dx) dx[m * C + c] += d;
      if (dxx) dxx[m * C + c] += d * mu[c];
    }
  });
  if (dmu) {
    constexpr int CB = 64;
    const int nb = (C + CB - 1) / CB;
    parallel_for(nb, M * C > 8192, [&](int64_t blk) {
      int c0 = int(blk) * CB, c1 = c0 + CB < C ? c0 + CB : C;
      float acc[CB] = {0};
      for (int64_t m = 0; m < M; m++)
        for (int c = c0; c < c1; c++) acc[c - c0] += dout[m * C + c] * xx[m * C + c];
      for (int c = c0; c < c1; c++) dmu[c] += acc[c - c0];
    });
  }
}

}  // namespace rwkv
