// simd_widen.h — weights of any stored dtype (fp32 / bf16 / fp16) loaded as fp32 vectors, for
// the CPU kernels that read weights in place (gemv.cpp, gemm_rows.cpp): bf16 is zero-extended
// and shifted into the high half, fp16 converted with F16C. load16: AVX-512, load8: AVX2.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "core/dtype.h"

namespace rwkv::simd {

#if defined(__AVX512F__)
inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load16(const uint16_t* p, DType dt) {  // dt: BF16 or F16
  __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  if (dt == DType::BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  return _mm512_cvtph_ps(h);
}
#endif
#if defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p, DType dt) {  // dt: BF16 or F16
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if (dt == DType::BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  return _mm256_cvtph_ps(h);
}
#endif

}  // namespace rwkv::simd
