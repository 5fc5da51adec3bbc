// tmix_out.cpp — CPU RWKV-7 attention epilogue (ln_x GroupNorm, r_k bonus, gate) and the value
// residual gate (see ops/tmix_out.h).
#include "ops/tmix_out.h"

#include "core/parallel_for.h"
#include "ops/cpu/simd_reduce.h"

#include <cmath>
#if defined(__AVX512F__)
#include <immintrin.h>
// GCC 12 warns inside its own _mm512_reduce_add_* (an _mm512_undefined helper); a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <vector>

namespace rwkv {

void tmix_out_forward(float* out, float* z, float* gn_mean, float* gn_rstd, float* bonus,
                      const float* y, const float* r, const float* k, const float* v,
                      const float* r_k, const float* lnx_w, const float* lnx_b, const float* g,
                      int64_t M, int H, int N) {
  const int C = H * N;
  parallel_for(M, M * C > 8192, [&](int64_t m) {
    for (int h = 0; h < H; h++) {
      const int64_t o = m * C + int64_t(h) * N;
      double mu, var;
      simd::mean_sqdev_f64(y + o, N, mu, var);
      float bs = 0;
#if defined(__AVX512F__)
      if (N % 16 == 0) {  // 16 lanes, then one reduction (a scalar chain of N adds is latency-bound)
        __m512 b = _mm512_setzero_ps();
        for (int n = 0; n < N; n += 16)
          b = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(r + o + n), _mm512_loadu_ps(k + o + n)),
                              _mm512_loadu_ps(r_k + h * N + n), b);
        bs = _mm512_reduce_add_ps(b);
      } else
#endif
      for (int n = 0; n < N; n++) bs += r[o + n] * k[o + n] * r_k[h * N + n];
      const float rs = float(1.0 / std::sqrt(var / N + LN_X_EPS)), mf = float(mu);
      for (int n = 0; n < N; n++) {
        const int c = h * N + n;
        float zz = (y[o + n] - mf) * rs * lnx_w[c] + lnx_b[c] + bs * v[o + n];
        if (z) z[o + n] = zz;
        out[o + n] = zz * g[o + n];
      }
      if (gn_mean) gn_mean[m * H + h] = mf;
      if (gn_rstd) gn_rstd[m * H + h] = rs;
      if (bonus) bonus[m * H + h] = bs;
    }
  });
}

void tmix_out_backward(float* dy, float* dr, float* dk, float* dv, float* dg, float* dr_k,
                       float* dlnx_w, float* dlnx_b, const float* dout, const float* y,
                       const float* r, const float* k, const float* v, const float* r_k,
                       const float* lnx_w, const float* g, const float* z, const float* gn_mean,
                       const float* gn_rstd, const float* bonus, int64_t M, int H, int N) {
  const int C = H * N;
#pragma omp parallel if (M * C > 8192)
  {
    std::vector<float> dz(N), grk(N), gw(N), gb(N);
#pragma omp for schedule(static)
    for (int h = 0; h < H; h++) {
      for (int n = 0; n < N; n++) grk[n] = gw[n] = gb[n] = 0;
      for (int64_t m = 0; m < M; m++) {
        const int64_t o = m * C + int64_t(h) * N;
        const float mu = gn_mean[m * H + h], rs = gn_rstd[m * H + h], bs = bonus[m * H + h];
        float dbs = 0, s1 = 0, s2 = 0;
        for (int n = 0; n < N; n++) {
          const int64_t e = o + n;
          const int c = h * N + n;
          float d = dout[e] * g[e];
          dz[n] = d;
          dg[e] += dout[e] * z[e];
          dv[e] += d * bs;
          dbs += d * v[e];
          float xh = (y[e] - mu) * rs;
          gw[n] += d * xh;
          gb[n] += d;
          float dxh = d * lnx_w[c];
          s1 += dxh;
          s2 += dxh * xh;
        }
        s1 /= N;
        s2 /= N;
        for (int n = 0; n < N; n++) {
          const int64_t e = o + n;
          const int c = h * N + n;
          float xh = (y[e] - mu) * rs;
          dy[e] += (dz[n] * lnx_w[c] - s1 - xh * s2) * rs;
          dr[e] += dbs * k[e] * r_k[c];
          dk[e] += dbs * r[e] * r_k[c];
          grk[n] += dbs * r[e] * k[e];
        }
      }
      for (int n = 0; n < N; n++) {
        if (dr_k) dr_k[h * N + n] += grk[n];
        if (dlnx_w) dlnx_w[h * N + n] += gw[n];
        if (dlnx_b) dlnx_b[h * N + n] += gb[n];
      }
    }
  }
}

void vres_forward(float* out, const float* v, const float* v_first, const float* s, int64_t M,
                  int C) {
  parallel_elems(M * C, M * C > 16384, [=](int64_t e) { out[e] = v[e] + (v_first[e] - v[e]) * s[e]; });
}

void vres_backward(float* dv, float* dv_first, float* ds, const float* dout, const float* v,
                   const float* v_first, const float* s, int64_t M, int C) {
  parallel_elems(M * C, M * C > 16384, [=](int64_t e) {
    float d = dout[e];
    dv[e] += d * (1.f - s[e]);
    dv_first[e] += d * s[e];
    ds[e] += d * (v_first[e] - v[e]);
  });
}

}  // namespace rwkv
