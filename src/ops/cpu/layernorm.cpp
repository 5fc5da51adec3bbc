// layernorm.cpp — CPU LayerNorm / GroupNorm forward and backward (see ops/layernorm.h).
// Rows are independent (OpenMP over rows); parameter gradients are reduced over rows per channel
// block, so the result does not depend on the thread count.
#include "ops/layernorm.h"

#include "core/parallel_for.h"
#include "ops/cpu/simd_reduce.h"

#include <cmath>

namespace rwkv {

namespace {

// Normalises n values of `in` (mean/var in double), writes xhat*w + b.
inline void norm_group(float* out, float* mean_out, float* rstd_out, const float* in,
                       const float* w, const float* b, int n, float eps) {
  double mu, v;
  simd::mean_sqdev_f64(in, n, mu, v);
  float rs = float(1.0 / std::sqrt(v / n + eps));
  float m = float(mu);
  for (int i = 0; i < n; i++) out[i] = (in[i] - m) * rs * w[i] + b[i];
  if (mean_out) *mean_out = m;
  if (rstd_out) *rstd_out = rs;
}

// dinp of one group given dout, xhat from (in, m, rs), w.
inline void norm_group_backward(float* dinp, const float* dout, const float* in, const float* w,
                                float m, float rs, int n) {
  float s1 = 0, s2 = 0;  // mean(dxhat), mean(dxhat * xhat)
  for (int i = 0; i < n; i++) {
    float dxh = dout[i] * w[i];
    s1 += dxh;
    s2 += dxh * (in[i] - m) * rs;
  }
  s1 /= n;
  s2 /= n;
  for (int i = 0; i < n; i++) {
    float xh = (in[i] - m) * rs;
    dinp[i] += (dout[i] * w[i] - s1 - xh * s2) * rs;
  }
}

// dw[c] += sum_m dout*xhat, db[c] += sum_m dout; G groups per row.
void affine_grads(float* dw, float* db, const float* dout, const float* inp, const float* mean,
                  const float* rstd, int64_t M, int C, int G) {
  if (!dw && !db) return;
  const int gs = C / G;
  constexpr int CB = 32;
  const int nb = (C + CB - 1) / CB;
  parallel_for(nb, M * C > 8192, [&](int64_t blk) {
    int c0 = int(blk) * CB, c1 = c0 + CB < C ? c0 + CB : C;
    float aw[CB] = {0}, ab[CB] = {0};
    for (int64_t m = 0; m < M; m++) {
      const float* d = dout + m * C;
      const float* x = inp + m * C;
      for (int c = c0; c < c1; c++) {
        int g = c / gs;
        float xh = (x[c] - mean[m * G + g]) * rstd[m * G + g];
        aw[c - c0] += d[c] * xh;
        ab[c - c0] += d[c];
      }
    }
    for (int c = c0; c < c1; c++) {
      if (dw) dw[c] += aw[c - c0];
      if (db) db[c] += ab[c - c0];
    }
  });
}

}  // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* w,
                       const float* b, int64_t M, int C, float eps) {
  groupnorm_forward(out, mean, rstd, inp, w, b, M, C, 1, eps);
}

void layernorm_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp,
                        const float* w, const float* mean, const float* rstd, int64_t M, int C) {
  groupnorm_backward(dinp, dw, db, dout, inp, w, mean, rstd, M, C, 1);
}

void groupnorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* w,
                       const float* b, int64_t M, int C, int G, float eps) {
  const int gs = C / G;
  parallel_for(M, M * C > 4096, [&](int64_t m) {
    for (int g = 0; g < G; g++)
      norm_group(out + m * C + g * gs, mean ? mean + m * G + g : nullptr,
                 rstd ? rstd + m * G + g : nullptr, inp + m * C + g * gs, w + g * gs, b + g * gs,
                 gs, eps);
  });
}

void groupnorm_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp,
                        const float* w, const float* mean, const float* rstd, int64_t M, int C,
                        int G) {
  const int gs = C / G;
  if (dinp) {
    parallel_for(M, M * C > 4096, [&](int64_t m) {
      for (int g = 0; g < G; g++)
        norm_group_backward(dinp + m * C + g * gs, dout + m * C + g * gs, inp + m * C + g * gs,
                            w + g * gs, mean[m * G + g], rstd[m * G + g], gs);
    });
  }
  affine_grads(dw, db, dout, inp, mean, rstd, M, C, G);
}

}  // namespace rwkv
