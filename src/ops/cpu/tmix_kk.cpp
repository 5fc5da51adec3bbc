// tmix_kk.cpp — CPU key preparation of RWKV-7 (see ops/tmix_kk.h). The backward runs one head
// per OpenMP task over all rows, so the per-channel sums k_k / k_a have a fixed order.
#include "ops/tmix_kk.h"

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

namespace {
constexpr float kNormEps = 1e-12f;
}

void tmix_kk_forward(float* k2, float* na, float* kka, float* kk, float* nrm, const float* k,
                     const float* k_k, const float* a, const float* k_a, int64_t M, int H, int N) {
  const int C = H * N;
  parallel_for(M, M * C > 8192, [&](int64_t m) {
    for (int h = 0; h < H; h++) {
      const int64_t o = m * C + int64_t(h) * N;
      const float* kh = k + o;
      const float* kkh = k_k + int64_t(h) * N;
      float ss = 0;
#if defined(__AVX512F__)
      if (N % 16 == 0) {  // x = k k_k in fp32; sum x^2 in 16 fp64 lanes, then one reduction
        __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
        for (int n = 0; n < N; n += 16) {
          const __m512 x = _mm512_mul_ps(_mm512_loadu_ps(kh + n), _mm512_loadu_ps(kkh + n));
          const __m512d x0 = simd::lo_pd(x), x1 = simd::hi_pd(x);
          a0 = _mm512_fmadd_pd(x0, x0, a0);
          a1 = _mm512_fmadd_pd(x1, x1, a1);
        }
        ss = float(_mm512_reduce_add_pd(_mm512_add_pd(a0, a1)));
      } else
#endif
      for (int n = 0; n < N; n++) {
        float x = kh[n] * kkh[n];
        ss += x * x;
      }
      float nr = std::sqrt(ss);
      float inv = 1.f / (nr > kNormEps ? nr : kNormEps);
      if (nrm) nrm[m * H + h] = nr;
      for (int n = 0; n < N; n++) {
        const int c = h * N + n;
        float q = kh[n] * kkh[n] * inv;
        float av = a[o + n];
        if (kk) kk[o + n] = q;
        na[o + n] = -q;
        kka[o + n] = q * av;
        k2[o + n] = kh[n] * (1.f + (av - 1.f) * k_a[c]);
      }
    }
  });
}

void tmix_kk_backward(float* dk, float* da, float* dk_k, float* dk_a, const float* dk2,
                      const float* dna, const float* dkka, const float* k, const float* k_k,
                      const float* a, const float* k_a, const float* kk, const float* nrm,
                      int64_t M, int H, int N) {
  const int C = H * N;
#pragma omp parallel if (M * C > 8192)
  {
    std::vector<float> dq(N), gkk(N), gka(N);
#pragma omp for schedule(static)
    for (int h = 0; h < H; h++) {
      for (int n = 0; n < N; n++) gkk[n] = gka[n] = 0;
      for (int64_t m = 0; m < M; m++) {
        const int64_t o = m * C + int64_t(h) * N;
        float dot = 0;
        for (int n = 0; n < N; n++) {
          const int64_t e = o + n;
          dq[n] = -dna[e] + dkka[e] * a[e];  // dL/dkk
          dot += dq[n] * kk[e];
        }
        const float nr = nrm[m * H + h];
        const bool clamped = !(nr > kNormEps);
        const float inv = 1.f / (clamped ? kNormEps : nr);
        for (int n = 0; n < N; n++) {
          const int64_t e = o + n;
          const int c = h * N + n;
          float d0 = clamped ? dq[n] * inv : (dq[n] - kk[e] * dot) * inv;  // dL/d(k*k_k)
          float kv = k[e], av = a[e];
          dk[e] += d0 * k_k[c] + dk2[e] * (1.f + (av - 1.f) * k_a[c]);
          da[e] += dkka[e] * kk[e] + dk2[e] * kv * k_a[c];
          gkk[n] += d0 * kv;
          gka[n] += dk2[e] * kv * (av - 1.f);
        }
      }
      for (int n = 0; n < N; n++) {
        if (dk_k) dk_k[h * N + n] += gkk[n];
        if (dk_a) dk_a[h * N + n] += gka[n];
      }
    }
  }
}

}  // namespace rwkv
