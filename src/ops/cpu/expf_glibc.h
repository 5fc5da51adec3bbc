// expf_glibc.h — glibc's expf as its x86_64 FMA build computes it (__expf_fma, glibc >= 2.28),
// scalar and 8 lanes at a time, bit for bit: a double-precision 2^(k/32) table and a cubic, the
// constants and the order of operations read off the disassembly (kd = fma(InvLn2N, x, Shift),
// r = fma(InvLn2N, x, -kd), z = fma(C0, r, C1), y = fma(C2, r, 1), y = fma(z, r*r, y), y * s,
// rounded to float). On an x86 CPU with FMA and AVX2 std::exp(float) is that function, so loops
// that call expf8 give exactly std::exp's floats (tests: SamplerExact.ExpMatchesStdExp,
// Activation.ExactAsStdExp). RWKV_EXP_FMA: the SIMD forms are built (AVX2 + FMA + glibc).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__) && defined(__GLIBC__)
#define RWKV_EXP_FMA 1
#include <immintrin.h>
#endif

namespace rwkv::expf_glibc {

// 2^(i/32) (i < 32) as doubles' bits, with i << 47 taken out of the exponent (__exp2f_data.tab).
alignas(64) inline constexpr uint64_t kTab[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540};
inline constexpr double kInvLn2N = 0x1.71547652b82fep+5;  // 32 / ln 2
inline constexpr double kShift = 0x1.8p+52;               // rounds to an integer when added
inline constexpr double kC0 = 0x1.c6af84b912394p-20, kC1 = 0x1.ebfce50fac4f3p-13, kC2 = 0x1.62e42ff0c52d6p-6;
inline constexpr float kOverflow = 0x1.62e42ep6f;       // above: inf
inline constexpr float kUnderflow = -0x1.9fe368p6f;     // below: 0 (also -inf)
inline constexpr float kMayUnderflow = -0x1.9d1d9ep6f;  // below: the smallest subnormal

// The scalar function, every case.
inline float expf_fma(float x) {
  if (std::isnan(x)) return x + x;
  if (x < kUnderflow) return 0.0f;
  if (x < kMayUnderflow) return 0x1p-149f;
  if (x > kOverflow) return INFINITY;
  const double xd = x;
  double kd = std::fma(kInvLn2N, xd, kShift);
  uint64_t ki;
  std::memcpy(&ki, &kd, 8);
  kd -= kShift;
  const double r = std::fma(kInvLn2N, xd, -kd);
  const uint64_t t = kTab[ki % 32] + (ki << 47);
  double s;
  std::memcpy(&s, &t, 8);
  const double z = std::fma(kC0, r, kC1), r2 = r * r;
  double y = std::fma(kC2, r, 1.0);
  y = std::fma(z, r2, y);
  return float(y * s);
}

#ifdef RWKV_EXP_FMA
#ifdef __AVX512F__
// The table as 4 registers (exp8's permutes pick from them instead of a gather).
struct Tab {
  __m512i r[4];
  Tab() {
    for (int k = 0; k < 4; k++) r[k] = _mm512_load_si512(kTab + 8 * k);
  }
};
// 8 lanes of the main path (no special cases).
inline __m256 exp8_main(__m256 x, const Tab& tab) {
  const __m512d xd = _mm512_cvtps_pd(x), inv = _mm512_set1_pd(kInvLn2N), shift = _mm512_set1_pd(kShift);
  __m512d kd = _mm512_fmadd_pd(inv, xd, shift);
  const __m512i ki = _mm512_castpd_si512(kd);
  kd = _mm512_sub_pd(kd, shift);
  const __m512d r = _mm512_fmsub_pd(inv, xd, kd);
  const __m512i t0 = _mm512_permutex2var_epi64(tab.r[0], ki, tab.r[1]);  // ki & 15 of entries 0..15
  const __m512i t1 = _mm512_permutex2var_epi64(tab.r[2], ki, tab.r[3]);  // ... of entries 16..31
  __m512i t = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(ki, _mm512_set1_epi64(16)), t0, t1);
  t = _mm512_add_epi64(t, _mm512_slli_epi64(ki, 47));
  const __m512d z = _mm512_fmadd_pd(_mm512_set1_pd(kC0), r, _mm512_set1_pd(kC1));
  const __m512d r2 = _mm512_mul_pd(r, r);
  __m512d y = _mm512_fmadd_pd(_mm512_set1_pd(kC2), r, _mm512_set1_pd(1.0));
  y = _mm512_fmadd_pd(z, r2, y);
  return _mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_castsi512_pd(t)));
}
#else
struct Tab {};
// 4 lanes of the main path (no special cases).
inline __m128 exp4_main(__m128 x) {
  const __m256d xd = _mm256_cvtps_pd(x), inv = _mm256_set1_pd(kInvLn2N), shift = _mm256_set1_pd(kShift);
  __m256d kd = _mm256_fmadd_pd(inv, xd, shift);
  const __m256i ki = _mm256_castpd_si256(kd);
  kd = _mm256_sub_pd(kd, shift);
  const __m256d r = _mm256_fmsub_pd(inv, xd, kd);
  const __m256i idx = _mm256_and_si256(ki, _mm256_set1_epi64x(31));
  __m256i t = _mm256_i64gather_epi64(reinterpret_cast<const long long*>(kTab), idx, 8);
  t = _mm256_add_epi64(t, _mm256_slli_epi64(ki, 47));
  const __m256d z = _mm256_fmadd_pd(_mm256_set1_pd(kC0), r, _mm256_set1_pd(kC1));
  const __m256d r2 = _mm256_mul_pd(r, r);
  __m256d y = _mm256_fmadd_pd(_mm256_set1_pd(kC2), r, _mm256_set1_pd(1.0));
  y = _mm256_fmadd_pd(z, r2, y);
  return _mm256_cvtpd_ps(_mm256_mul_pd(y, _mm256_castsi256_pd(t)));
}
inline __m256 exp8_main(__m256 x, const Tab&) {
  return _mm256_set_m128(exp4_main(_mm256_extractf128_ps(x, 1)), exp4_main(_mm256_castps256_ps128(x)));
}
#endif

// 8 lanes of expf_fma, every case: below the underflow bounds 0 / the smallest subnormal,
// above the overflow bound inf, NaN x + x.
inline __m256 exp8(__m256 x, const Tab& tab) {
  __m256 e = exp8_main(x, tab);
  e = _mm256_blendv_ps(e, _mm256_set1_ps(0x1p-149f), _mm256_cmp_ps(x, _mm256_set1_ps(kMayUnderflow), _CMP_LT_OQ));
  e = _mm256_and_ps(e, _mm256_cmp_ps(x, _mm256_set1_ps(kUnderflow), _CMP_NLT_UQ));  // below (or -inf): 0
  e = _mm256_blendv_ps(e, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, _mm256_set1_ps(kOverflow), _CMP_GT_OQ));
  return _mm256_blendv_ps(e, _mm256_add_ps(x, x), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}
#endif

}  // namespace rwkv::expf_glibc
