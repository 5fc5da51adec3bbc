// softmax_exp.cpp — see softmax_exp.h. The exp is glibc's expf as its x86_64 FMA build computes
// it, 8 lanes at a time (ops/cpu/expf_glibc.h).
#include "infer/softmax_exp.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/cpu/expf_glibc.h"

namespace rwkv {

using namespace expf_glibc;

float expf_glibc_fma(float x) { return expf_fma(x); }

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

// exp(in - mx) for 8 floats (the difference in float), every case of expf.
inline __m256 exp_block(const float* in, __m256 vmx, const Tab& tab) {
  return exp8(_mm256_sub_ps(_mm256_loadu_ps(in), vmx), tab);
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
  const Tab tab;
  return map_sum(
      in, out, n, [vmx, &tab](const float* q) { return exp_block(q, vmx, tab); },
      [mx](float x) { return expf_fma(x - mx); });
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
