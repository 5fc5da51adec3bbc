// logprob.cpp — CPU log-softmax of one picked token (see ops/logprob.h). exp(l - max) runs in
// double as a vectorisable polynomial (every argument is <= 0; relative error < 1e-12), summed in
// double: an fp32 exp (~1 ulp, slightly biased) moved a 1,500-token document's summed
// log-likelihood by 4e-4, the double sum keeps it at the forward's own rounding.
#include "ops/logprob.h"

#include <algorithm>
#include <bit>
#include <cmath>

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12, inside the intrinsics' headers (false positives)
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace rwkv {

namespace {
inline double exp_nonpos(double x) {
  x = std::max(x, -700.0);  // exp(-700) ~ 1e-304: nothing next to the max's 1
  const double n = std::floor(x * 1.4426950408889634 + 0.5);
  const double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;  // |r| <= ln2/2
  // Taylor to r^12/12!: the remainder is < 1e-13 relative on |r| <= 0.347
  double p = 1.0 / 479001600;
  p = p * r + 1.0 / 39916800;
  p = p * r + 1.0 / 3628800;
  p = p * r + 1.0 / 362880;
  p = p * r + 1.0 / 40320;
  p = p * r + 1.0 / 5040;
  p = p * r + 1.0 / 720;
  p = p * r + 1.0 / 120;
  p = p * r + 1.0 / 24;
  p = p * r + 1.0 / 6;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return p * std::bit_cast<double>((int64_t(n) + 1023) << 52);
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
// The same polynomial, 8 lanes of double.
inline __m512d exp_nonpos8(__m512d x) {
  x = _mm512_max_pd(x, _mm512_set1_pd(-700.0));
  const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(6.93147180369123816490e-01), x);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(1.90821492927058770002e-10), r);
  static constexpr double c[] = {1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320,
                                 1.0 / 5040,      1.0 / 720,      1.0 / 120,     1.0 / 24,     1.0 / 6,
                                 0.5,             1.0,            1.0};
  __m512d p = _mm512_set1_pd(c[0]);
  for (int i = 1; i < 13; i++) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c[i]));
  const __m512i e = _mm512_slli_epi64(_mm512_add_epi64(_mm512_cvtpd_epi64(n), _mm512_set1_epi64(1023)), 52);
  return _mm512_mul_pd(p, _mm512_castsi512_pd(e));
}
#endif
}  // namespace

RowStats row_stats(const float* l, int V) {
  int i = 0;
  float mx = l[0];
#if defined(__AVX512F__) && defined(__AVX512DQ__)
  __m512 vm = _mm512_set1_ps(l[0]);
  for (; i + 16 <= V; i += 16) vm = _mm512_max_ps(vm, _mm512_loadu_ps(l + i));
  mx = _mm512_reduce_max_ps(vm);
#endif
  for (; i < V; i++) mx = std::max(mx, l[i]);
  int am = 0;  // the first index holding the max (ties: the lowest id); V when the max is NaN
  while (am < V && !(l[am] == mx)) am++;
  const double m = mx;
  double sum = 0;
  i = 0;
#if defined(__AVX512F__) && defined(__AVX512DQ__)
  __m512d acc = _mm512_setzero_pd();
  const __m512d vmd = _mm512_set1_pd(m);
  for (; i + 8 <= V; i += 8)
    acc = _mm512_add_pd(acc, exp_nonpos8(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(l + i)), vmd)));
  sum = _mm512_reduce_add_pd(acc);
#endif
  for (; i < V; i++) sum += exp_nonpos(double(l[i]) - m);
  return {mx, am, std::log(sum)};
}

TokenLogProb token_logprob(const float* l, int V, int32_t token) {
  const RowStats r = row_stats(l, V);
  return {double(l[token]) - double(r.max) - r.log_sum, r.argmax == token};
}

}  // namespace rwkv
