// gemv.cpp — CPU gemv / linear with fp32, bf16 or fp16 weights (see ops/gemv.h). Four rows at
// a time share each load of x; rows are split across OpenMP threads in blocks.
#include "ops/gemv.h"

// GCC 12 flags its own AVX-512 intrinsics (reduce_add, cvtepu16) as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cblas.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace rwkv {
namespace {

#if defined(__AVX512F__)
inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load16(const uint16_t* p, DType dt) {
  __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  if (dt == DType::BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  return _mm512_cvtph_ps(h);
}
#elif defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p, DType dt) {
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if (dt == DType::BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  return _mm256_cvtph_ps(h);
}
#endif

inline float to_f32(float v, DType) { return v; }
inline float to_f32(uint16_t v, DType dt) { return dt == DType::BF16 ? bf16_to_f32(v) : f16_to_f32(v); }

// End of a 4-row block: adds the columns [k0, K) the SIMD loop left to the sums s[0..4) of rows
// w0, w0+K, w0+2K, w0+3K, then y[i] (+)= s[i].
template <typename T>
inline void finish4(float* y, float* s, const T* w0, const float* x, DType dt, int64_t k0, int64_t K, bool acc) {
  const T *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
  for (int64_t k = k0; k < K; k++) {
    s[0] += to_f32(w0[k], dt) * x[k];
    s[1] += to_f32(w1[k], dt) * x[k];
    s[2] += to_f32(w2[k], dt) * x[k];
    s[3] += to_f32(w3[k], dt) * x[k];
  }
  for (int i = 0; i < 4; i++) y[i] = acc ? y[i] + s[i] : s[i];
}

// y[r] (+)= dot(W[r, :], x) for rows [r0, r1). T = float (fp32) or uint16_t (bf16 / fp16).
template <typename T>
void rows_dot(float* y, const float* x, const T* W, DType dt, int64_t r0, int64_t r1, int64_t K, bool acc) {
  int64_t r = r0;
#if defined(__AVX512F__)
  auto ld = [&](const T* p) {
    if constexpr (sizeof(T) == 4) return load16(reinterpret_cast<const float*>(p));
    else return load16(reinterpret_cast<const uint16_t*>(p), dt);
  };
  const int64_t K16 = K / 16 * 16;
  for (; r + 4 <= r1; r += 4) {
    const T *w0 = W + r * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < K16; k += 16) {
      __m512 xv = _mm512_loadu_ps(x + k);
      a0 = _mm512_fmadd_ps(ld(w0 + k), xv, a0);
      a1 = _mm512_fmadd_ps(ld(w1 + k), xv, a1);
      a2 = _mm512_fmadd_ps(ld(w2 + k), xv, a2);
      a3 = _mm512_fmadd_ps(ld(w3 + k), xv, a3);
    }
    float s[4] = {_mm512_reduce_add_ps(a0), _mm512_reduce_add_ps(a1), _mm512_reduce_add_ps(a2),
                  _mm512_reduce_add_ps(a3)};
    finish4(y + r, s, w0, x, dt, K16, K, acc);
  }
#elif defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
  auto ld = [&](const T* p) {
    if constexpr (sizeof(T) == 4) return load8(reinterpret_cast<const float*>(p));
    else return load8(reinterpret_cast<const uint16_t*>(p), dt);
  };
  auto hsum = [](__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_hadd_ps(s, s);
    s = _mm_hadd_ps(s, s);
    return _mm_cvtss_f32(s);
  };
  const int64_t K8 = K / 8 * 8;
  for (; r + 4 <= r1; r += 4) {
    const T *w0 = W + r * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < K8; k += 8) {
      __m256 xv = _mm256_loadu_ps(x + k);
      a0 = _mm256_fmadd_ps(ld(w0 + k), xv, a0);
      a1 = _mm256_fmadd_ps(ld(w1 + k), xv, a1);
      a2 = _mm256_fmadd_ps(ld(w2 + k), xv, a2);
      a3 = _mm256_fmadd_ps(ld(w3 + k), xv, a3);
    }
    float s[4] = {hsum(a0), hsum(a1), hsum(a2), hsum(a3)};
    finish4(y + r, s, w0, x, dt, K8, K, acc);
  }
#endif
  for (; r < r1; r++) {
    const T* w = W + r * K;
    float s = 0;
    for (int64_t k = 0; k < K; k++) s += to_f32(w[k], dt) * x[k];
    y[r] = acc ? y[r] + s : s;
  }
}

template <typename T>
void gemv_t(float* y, const float* x, const T* W, DType dt, int64_t N, int64_t K, bool acc) {
  // Blocks of 64 rows (a multiple of 4): enough blocks to balance, big enough to stream.
  const int64_t blk = 64, nblk = (N + blk - 1) / blk;
  if (N * K < (1 << 15) || omp_in_parallel()) {
    rows_dot(y, x, W, dt, 0, N, K, acc);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nblk; b++) rows_dot(y, x, W, dt, b * blk, std::min(N, (b + 1) * blk), K, acc);
}

void widen_rows(float* out, const uint16_t* in, DType dt, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++) out[i] = dt == DType::BF16 ? bf16_to_f32(in[i]) : f16_to_f32(in[i]);
}

}  // namespace

void gemv_forward(float* y, const float* x, const void* W, DType wdt, int64_t N, int64_t K, bool accumulate) {
  switch (wdt) {
    case DType::F32: gemv_t(y, x, static_cast<const float*>(W), wdt, N, K, accumulate); break;
    case DType::BF16:
    case DType::F16: gemv_t(y, x, static_cast<const uint16_t*>(W), wdt, N, K, accumulate); break;
    default: fail("ops", "gemv: weight dtype {} is not supported (fp32, bf16, fp16)", dtype_name(wdt));
  }
}

void linear_forward_any(float* out, const float* inp, const void* W, DType wdt, int64_t M, int64_t K,
                        int64_t N, bool accumulate) {
  if (M == 1) return gemv_forward(out, inp, W, wdt, N, K, accumulate);
  const float beta = accumulate ? 1.f : 0.f;
  if (wdt == DType::F32) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), int(N), int(K), 1.f, inp, int(K),
                static_cast<const float*>(W), int(K), beta, out, int(N));
    return;
  }
  if (wdt != DType::BF16 && wdt != DType::F16)
    fail("ops", "linear: weight dtype {} is not supported (fp32, bf16, fp16)", dtype_name(wdt));
  if (M < 4) {  // a few rows: one gemv each reads the weights M times but needs no scratch
    for (int64_t m = 0; m < M; m++) gemv_forward(out + m * N, inp + m * K, W, wdt, N, K, accumulate);
    return;
  }
  // Panels of rows of W widened to fp32 (<= 4 MiB scratch), each multiplied with sgemm.
  const int64_t pn = std::max<int64_t>(16, std::min<int64_t>(N, (int64_t(1) << 20) / std::max<int64_t>(K, 1)));
  thread_local std::vector<float> panel;
  panel.resize(size_t(pn * K));
  const uint16_t* w = static_cast<const uint16_t*>(W);
  for (int64_t n0 = 0; n0 < N; n0 += pn) {
    const int64_t n = std::min(pn, N - n0);
    widen_rows(panel.data(), w + n0 * K, wdt, n * K);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), int(n), int(K), 1.f, inp, int(K), panel.data(),
                int(K), beta, out + n0, int(N));
  }
}

}  // namespace rwkv
