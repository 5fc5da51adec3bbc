// softmax_exp.cpp — see softmax_exp.h. The constants and the order of operations are those of
// glibc's sysdeps/ieee754/flt-32/e_expf.c as its x86_64 FMA build compiles them (read off the
// disassembly of __expf_fma: kd = fma(InvLn2N, x, Shift), r = fma(InvLn2N, x, -kd),
// z = fma(C0, r, C1), y = fma(C2, r, 1), y = fma(z, r*r, y), y * s, rounded to float).
#include "infer/softmax_exp.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__) && defined(__GLIBC__)
#define RWKV_EXP_FMA 1
#include <immintrin.h>
#endif

namespace rwkv {

namespace {
// 2^(i/32) (i < 32) as doubles' bits, with i << 47 taken out of the exponent (__exp2f_data.tab).
alignas(64) const uint64_t kTab[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540};
constexpr double kInvLn2N = 0x1.71547652b82fep+5;  // 32 / ln 2
constexpr double kShift = 0x1.8p+52;               // rounds to an integer when added
constexpr double kC0 = 0x1.c6af84b912394p-20, kC1 = 0x1.ebfce50fac4f3p-13, kC2 = 0x1.62e42ff0c52d6p-6;
constexpr float kOverflow = 0x1.62e42ep6f;     // above: inf
constexpr float kUnderflow = -0x1.9fe368p6f;   // below: 0 (also -inf)
constexpr float kMayUnderflow = -0x1.9d1d9ep6f;  // below: the smallest subnormal
}  // namespace

float expf_glibc_fma(float x) {
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

double sum_f64(const float* p, int n) {
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) part[j] += p[i + j];
  double s = 0;
  for (; i < n; i++) s += p[i];
  for (double v : part) s += v;
  return s;
}

#ifdef RWKV_EXP_FMA
namespace {

// out[i] = f(in[i]) over 8 lanes (vf, given &in[i]) or one (sf), returning sum_f64 of the new
// values; out may be in.
template <class VF, class SF>
double map_sum(const float* in, float* out, int n, VF vf, SF sf) {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();  // partials 0-3 and 4-7
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = vf(in + i);
    _mm256_storeu_ps(out + i, v);
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  alignas(32) double part[8];
  _mm256_store_pd(part, lo);
  _mm256_store_pd(part + 4, hi);
  double s = 0;
  for (; i < n; i++) s += out[i] = sf(in[i]);
  for (double v : part) s += v;
  return s;
}

#ifndef __AVX512F__
// 4 lanes of expf's main path (no special cases).
inline __m128 exp4(__m128 x) {
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
#endif

#ifdef __AVX512F__
// 8 lanes of expf's main path; the table is 4 registers picked by permutes, not a gather.
inline __m256 exp8(__m256 x, const __m512i* tab) {
  const __m512d xd = _mm512_cvtps_pd(x), inv = _mm512_set1_pd(kInvLn2N), shift = _mm512_set1_pd(kShift);
  __m512d kd = _mm512_fmadd_pd(inv, xd, shift);
  const __m512i ki = _mm512_castpd_si512(kd);
  kd = _mm512_sub_pd(kd, shift);
  const __m512d r = _mm512_fmsub_pd(inv, xd, kd);
  const __m512i t0 = _mm512_permutex2var_epi64(tab[0], ki, tab[1]);  // ki & 15 of entries 0..15
  const __m512i t1 = _mm512_permutex2var_epi64(tab[2], ki, tab[3]);  // ... of entries 16..31
  __m512i t = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(ki, _mm512_set1_epi64(16)), t0, t1);
  t = _mm512_add_epi64(t, _mm512_slli_epi64(ki, 47));
  const __m512d z = _mm512_fmadd_pd(_mm512_set1_pd(kC0), r, _mm512_set1_pd(kC1));
  const __m512d r2 = _mm512_mul_pd(r, r);
  __m512d y = _mm512_fmadd_pd(_mm512_set1_pd(kC2), r, _mm512_set1_pd(1.0));
  y = _mm512_fmadd_pd(z, r2, y);
  return _mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_castsi512_pd(t)));
}
#endif

// exp(in - mx) for 8 floats with expf's special cases below -87 (0 under the underflow bound,
// the smallest subnormal just above it); NaN stays NaN.
inline __m256 exp_block(const float* in, __m256 vmx, [[maybe_unused]] const void* tab) {
  const __m256 x = _mm256_sub_ps(_mm256_loadu_ps(in), vmx);
#ifdef __AVX512F__
  __m256 e = exp8(x, static_cast<const __m512i*>(tab));
#else
  __m256 e = _mm256_set_m128(exp4(_mm256_extractf128_ps(x, 1)), exp4(_mm256_castps256_ps128(x)));
#endif
  e = _mm256_blendv_ps(e, _mm256_set1_ps(0x1p-149f), _mm256_cmp_ps(x, _mm256_set1_ps(kMayUnderflow), _CMP_LT_OQ));
  return _mm256_and_ps(e, _mm256_cmp_ps(x, _mm256_set1_ps(kUnderflow), _CMP_NLT_UQ));  // below (or -inf): 0
}

}  // namespace

float max_of(const float* p, int n, bool* has_nan) {
  __m256 m = _mm256_set1_ps(-INFINITY), nan = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(p + i);
    m = _mm256_max_ps(x, m);  // a NaN x gives m
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  float mx = -INFINITY;
  for (float v : lanes) mx = std::max(mx, v);
  bool any = _mm256_movemask_ps(nan) != 0;
  for (; i < n; i++) {
    mx = std::max(mx, p[i]);
    any |= std::isnan(p[i]);
  }
  *has_nan = any;
  return mx;
}

double exp_minus_max(const float* in, float mx, float* out, int n) {
  const __m256 vmx = _mm256_set1_ps(mx);
#ifdef __AVX512F__
  __m512i tab[4];
  for (int k = 0; k < 4; k++) tab[k] = _mm512_load_si512(kTab + 8 * k);
  const void* tp = tab;
#else
  const void* tp = nullptr;
#endif
  return map_sum(
      in, out, n, [vmx, tp](const float* q) { return exp_block(q, vmx, tp); },
      [mx](float x) { return expf_glibc_fma(x - mx); });
}

double cut_below(float* p, int n, float c) {
  const __m256 vc = _mm256_set1_ps(c);
  return map_sum(
      p, p, n,
      [vc](const float* q) {
        const __m256 x = _mm256_loadu_ps(q);
        return _mm256_and_ps(x, _mm256_cmp_ps(x, vc, _CMP_GE_OQ));
      },
      [c](float x) { return x >= c ? x : 0.0f; });
}

double divide_by(float* p, int n, float d) {
  const __m256 vd = _mm256_set1_ps(d);
  return map_sum(
      p, p, n, [vd](const float* q) { return _mm256_div_ps(_mm256_loadu_ps(q), vd); }, [d](float x) { return x / d; });
}

#else  // no AVX2/FMA: the plain loops

double cut_below(float* p, int n, float c) {
  for (int i = 0; i < n; i++) p[i] = p[i] >= c ? p[i] : 0.0f;
  return sum_f64(p, n);
}

double divide_by(float* p, int n, float d) {
  for (int i = 0; i < n; i++) p[i] /= d;
  return sum_f64(p, n);
}

float max_of(const float* p, int n, bool* has_nan) {
  float mx = -INFINITY;
  bool any = false;
  for (int i = 0; i < n; i++) {
    mx = std::max(mx, p[i]);
    any |= std::isnan(p[i]);
  }
  *has_nan = any;
  return mx;
}

double exp_minus_max(const float* in, float mx, float* out, int n) {
  for (int i = 0; i < n; i++) out[i] = std::exp(in[i] - mx);
  return sum_f64(out, n);
}

#endif

}  // namespace rwkv
