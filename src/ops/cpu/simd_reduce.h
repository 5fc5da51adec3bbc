// simd_reduce.h — horizontal sums shared by the CPU row kernels (mm8.cpp, q4.cpp): four AVX-512
// accumulators reduced together (about 15 instructions instead of 4 x 8), each output lane
// summing only its own input in a fixed order, so a row's sum never depends on its neighbours.
#pragma once
#include <immintrin.h>

namespace rwkv::simd {

#if defined(__AVX512F__)
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

}  // namespace rwkv::simd
