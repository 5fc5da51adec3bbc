// mm8.cpp — products with int8 weights (see ops/mm8.h): a factored row kernel (AVX-512 / AVX2 /
// scalar, 4 output rows share each load of x) for decode and a few rows, exact widening of
// panels of W' plus sgemm for prefill.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "ops/cpu/quant_matmul.h"
#include "ops/cpu/sgemm.h"
#include "ops/mm8.h"
#include "ops/row_invariant.h"

namespace rwkv {

namespace {

constexpr int64_t kRowsMax = 64;  // rows of x up to which the factored kernel is used

// s[r] = q_r . xr for R (1..4) rows q_r (K bytes each). One accumulator per row, k in order, the
// same steps for a row whichever R it is computed with, so a row's sum never depends on its
// neighbours. R is a template argument so that the accumulators live in registers. Every 64
// bytes, the same columns of the next 4-row group (q[r] + 4K) are prefetched non-temporally, as the
// bf16 GEMV does (ops/cpu/gemv.cpp): prefetching only each next row's first line left the other
// lines of 4 interleaved row streams waiting on DRAM.
template <int R>
inline void dot_rows(float* s, const uint8_t* const* q, const float* xr, int64_t K) {
  int64_t k0 = 0;
#if defined(__AVX512F__)
  __m512 a[R];
  for (int r = 0; r < R; r++) a[r] = _mm512_setzero_ps();
  const int64_t K16 = K / 16 * 16;
  for (int64_t k = 0; k < K16; k += 16) {
    if ((k & 63) == 0)
      for (int r = 0; r < R; r++) _mm_prefetch(reinterpret_cast<const char*>(q[r] + 4 * K + k), _MM_HINT_NTA);
    const __m512 xv = _mm512_loadu_ps(xr + k);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q[r] + k));
      a[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b)), xv, a[r]);
    }
  }
  for (int r = 0; r < R; r++) s[r] = _mm512_reduce_add_ps(a[r]);
  k0 = K16;
#elif defined(__AVX2__) && defined(__FMA__)
  __m256 a[R];
  for (int r = 0; r < R; r++) a[r] = _mm256_setzero_ps();
  const int64_t K8 = K / 8 * 8;
  for (int64_t k = 0; k < K8; k += 8) {
    if ((k & 63) == 0)
      for (int r = 0; r < R; r++) _mm_prefetch(reinterpret_cast<const char*>(q[r] + 4 * K + k), _MM_HINT_NTA);
    const __m256 xv = _mm256_loadu_ps(xr + k);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q[r] + k));
      a[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)), xv, a[r]);
    }
  }
  for (int r = 0; r < R; r++) {
    __m128 v = _mm_add_ps(_mm256_castps256_ps128(a[r]), _mm256_extractf128_ps(a[r], 1));
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    v = _mm_add_ss(v, _mm_movehdup_ps(v));
    s[r] = _mm_cvtss_f32(v);
  }
  k0 = K8;
#else
  for (int r = 0; r < R; r++) s[r] = 0.f;
#endif
  for (int r = 0; r < R; r++)
    for (int64_t k = k0; k < K; k++) s[r] += float(q[r][k]) * xr[k];
}

inline void dot4(float* s, const uint8_t* const* q, int nrows, const float* xr, int64_t K) {
  switch (nrows) {
    case 4: return dot_rows<4>(s, q, xr, K);
    case 3: return dot_rows<3>(s, q, xr, K);
    case 2: return dot_rows<2>(s, q, xr, K);
    default: return dot_rows<1>(s, q, xr, K);
  }
}

// Rows [r0, r1) of one x row, given its prepared vector.
void rows_kernel(float* y, const Mm8Vec& v, const Mm8Weight& w, int64_t r0, int64_t r1, bool acc) {
  const int64_t K = w.K;
  for (int64_t o = r0; o < r1; o += 4) {
    const int n = int(std::min<int64_t>(4, r1 - o));
    const uint8_t* q[4] = {w.q + o * K, w.q + (o + 1) * K, w.q + (o + 2) * K, w.q + (o + 3) * K};
    float s[4];
    dot4(s, q, n, v.xr, K);
    for (int r = 0; r < n; r++) {
      const float val = w.rx[o + r] * (s[r] + 0.5f * v.sum_xr) + v.sum_myx + w.mx[o + r] * v.sum_x;
      y[o + r] = acc ? y[o + r] + val : val;
    }
  }
}

}  // namespace

void mm8_prepare(Mm8Vec& v, float* xr, const float* x, const Mm8Weight& w) {
  double sxr = 0, smy = 0, sx = 0;
  for (int64_t i = 0; i < w.K; i++) {
    xr[i] = w.ry[i] * x[i];
    sxr += xr[i];
    smy += double(w.my[i]) * x[i];
    sx += x[i];
  }
  v.xr = xr;
  v.sum_xr = float(sxr);
  v.sum_myx = float(smy);
  v.sum_x = float(sx);
}

void mm8_rows(float* y, const Mm8Vec& v, const Mm8Weight& w, int64_t r0, int64_t r1, bool accumulate) {
  rows_kernel(y, v, w, r0, r1, accumulate);
}

void mm8_forward(float* out, const float* inp, const Mm8Weight& w, int64_t M, bool accumulate) {
  const int64_t N = w.N, K = w.K;
  const bool par = !omp_in_parallel() && omp_get_max_threads() > 1;
  if (M <= kRowsMax || row_invariant_products()) {
    thread_local std::vector<float> xr_buf;  // the caller's; workers read it through `vs`
    thread_local std::vector<Mm8Vec> vec_buf;
    xr_buf.resize(size_t(M * K));
    vec_buf.resize(size_t(M));
    for (int64_t m = 0; m < M; m++) mm8_prepare(vec_buf[m], xr_buf.data() + m * K, inp + m * K, w);
    const Mm8Vec* vs = vec_buf.data();
    // Block-major: a 4-row group of q is loaded once from memory and reused from L1 for every x row.
    quant_rows_block_major(M, N, K, par, [&](int64_t m, int64_t g, int64_t g1) {
      rows_kernel(out + m * N, vs[m], w, g, g1, accumulate);
    });
    return;
  }
  // Prefill: panels of W' widened exactly (mm8_dequant_rows), each multiplied by sgemm on its thread.
  dequant_panels_sgemm(out, inp, M, N, K, accumulate, par,
                       [&](float* panel, int64_t n0, int64_t n1) { mm8_dequant_rows(panel, w, n0, n1); });
}

}  // namespace rwkv
