// simd_reduce.h — sums shared by the CPU kernels: hsum4 for the row kernels (mm8.cpp, q4.cpp,
// wkv7.cpp): four AVX-512 accumulators reduced together (about 15 instructions instead of 4 x 8),
// each output lane summing only its own input in a fixed order, so a row's sum never depends on
// its neighbours; mean_sqdev_f64 for the norms.
#pragma once
#include <immintrin.h>

// GCC 12 warns inside its own _mm512_reduce_add_* (an _mm512_undefined helper); a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace rwkv::simd {

#if defined(__AVX512F__)
// lanes 0-7 / 8-15 of v widened to fp64
inline __m512d lo_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
inline __m512d hi_pd(__m512 v) { return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))); }

// {sum(a), sum(b), sum(c), sum(d)}
inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  auto half = [](__m512 v) {  // 16 -> 8 lanes
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  };
  const __m256 ab = _mm256_hadd_ps(half(a), half(b)), cd = _mm256_hadd_ps(half(c), half(d));
  const __m256 abcd = _mm256_hadd_ps(ab, cd);  // per 128-bit lane: partial sums of a, b, c, d
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}
#endif

// mean and sum of squared deviations of x[0, n) in fp64 (the norms' statistics: layernorm.cpp,
// tmix_out.cpp). With AVX-512 and n % 16 == 0, in 16 fp64 lanes and one reduction each: a scalar
// fp64 chain of n adds is bound by the add's latency (~1.7 us for n = 768, per pass).
inline void mean_sqdev_f64(const float* x, int n, double& mean, double& sqdev) {
#if defined(__AVX512F__)
  if (n % 16 == 0) {
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (int i = 0; i < n; i += 16) {
      const __m512 v = _mm512_loadu_ps(x + i);
      s0 = _mm512_add_pd(s0, lo_pd(v));
      s1 = _mm512_add_pd(s1, hi_pd(v));
    }
    mean = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)) / n;
    const __m512d m = _mm512_set1_pd(mean);
    __m512d v0 = _mm512_setzero_pd(), v1 = _mm512_setzero_pd();
    for (int i = 0; i < n; i += 16) {
      const __m512 v = _mm512_loadu_ps(x + i);
      const __m512d d0 = _mm512_sub_pd(lo_pd(v), m), d1 = _mm512_sub_pd(hi_pd(v), m);
      v0 = _mm512_fmadd_pd(d0, d0, v0);
      v1 = _mm512_fmadd_pd(d1, d1, v1);
    }
    sqdev = _mm512_reduce_add_pd(_mm512_add_pd(v0, v1));
    return;
  }
#endif
  double s = 0;
  for (int i = 0; i < n; i++) s += x[i];
  mean = s / n;
  double v = 0;
  for (int i = 0; i < n; i++) {
    const double d = x[i] - mean;
    v += d * d;
  }
  sqdev = v;
}

}  // namespace rwkv::simd

#pragma GCC diagnostic pop
