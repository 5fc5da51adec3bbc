// mm8.cpp — products with int8 weights (see ops/mm8.h): a factored row kernel (AVX-512 / AVX2 /
// scalar, 4 output rows share each load of x) for decode and a few rows, exact widening of
// panels of W' plus sgemm for prefill.
// GCC 12 flags its own AVX-512 intrinsics (reduce_add, cvtepu8) as uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/team.h"
#include "ops/cpu/quant_matmul.h"
#include "ops/cpu/sgemm.h"
#include "ops/cpu/simd_reduce.h"
#include "ops/mm8.h"
#include "ops/row_invariant.h"

namespace rwkv {

namespace {

constexpr int64_t kRowsMax = 64;  // rows of x up to which the factored kernel is used

// Where byte k of a row sits from the row's start q[r]: plain rows k; grouped ones (ops/mm8.h
// mm8_group_rows: q[r] = group + 64 r) in runs of 64, 256 apart.
template <bool G>
inline int64_t at(int64_t k) {
  return G ? 4 * (k & ~int64_t(63)) + (k & 63) : k;
}

// s[r] = q_r . xr for R (1..4) rows q_r (K bytes each). One accumulator per row, k in order, the
// same steps for a row whichever R it is computed with, so a row's sum never depends on its
// neighbours. R is a template argument so that the accumulators live in registers. Every 64
// bytes, the same columns of the next 4-row group (4K bytes on, in either layout) are prefetched
// non-temporally, as the bf16 GEMV does (ops/cpu/gemv.cpp): prefetching only each next row's first
// line left the other lines of 4 interleaved row streams waiting on DRAM.
template <int R, bool G>
inline void dot_rows(float* s, const uint8_t* const* q, const float* xr, int64_t K) {
  int64_t k0 = 0;
#if defined(__AVX512F__)
  __m512 a[R];
  for (int r = 0; r < R; r++) a[r] = _mm512_setzero_ps();
  const int64_t K16 = K / 16 * 16;
  for (int64_t k = 0; k < K16; k += 16) {
    if ((k & 63) == 0)
      for (int r = 0; r < R; r++) _mm_prefetch(reinterpret_cast<const char*>(q[r] + 4 * K + at<G>(k)), _MM_HINT_NTA);
    const __m512 xv = _mm512_loadu_ps(xr + k);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q[r] + at<G>(k)));
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
      for (int r = 0; r < R; r++) _mm_prefetch(reinterpret_cast<const char*>(q[r] + 4 * K + at<G>(k)), _MM_HINT_NTA);
    const __m256 xv = _mm256_loadu_ps(xr + k);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q[r] + at<G>(k)));
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
    for (int64_t k = k0; k < K; k++) s[r] += float(q[r][at<G>(k)]) * xr[k];
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
constexpr bool kIntDots = true;
// acc += (u8 b) . (s8 x) per 4 bytes. Inline asm: with the intrinsic, GCC 12 routed every
// accumulator through one register and stored it to the stack on each step.
inline __m512i dpbusd(__m512i acc, __m512i b, __m512i x) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(b), "v"(x));
  return acc;
}

// s[r] = q_r . xr from the four byte planes of X (Mm8Vec): per 64 inputs and row, one load of q and
// four vpdpbusd (exact int32: a lane sums at most K/16 products of 255 * 128), then the planes are
// combined in fp32 and scaled by 2^-e. Next 4-row group prefetched as in dot_rows. Named
// accumulators (R <= 4 rows, 4 planes each): an array of them was kept in memory.
template <int R, bool G>
inline void dot_rows_int(float* s, const uint8_t* const* q, const Mm8Vec& v, int64_t K) {
  const int64_t Kp = (K + 63) / 64 * 64;
  const int8_t* xl = v.xl;
  const __m512i z = _mm512_setzero_si512();
  __m512i a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
  __m512i a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
  for (int64_t k = 0; k < Kp; k += 64) {
    const __mmask64 m = K - k >= 64 ? ~__mmask64(0) : (__mmask64(1) << (K - k)) - 1;
    const __m512i x0 = _mm512_load_si512(xl + k), x1 = _mm512_load_si512(xl + Kp + k),
                  x2 = _mm512_load_si512(xl + 2 * Kp + k), x3 = _mm512_load_si512(xl + 3 * Kp + k);
#define RWKV_MM8_ROW(r, A0, A1, A2, A3)                                                   \
  {                                                                                       \
    _mm_prefetch(reinterpret_cast<const char*>(q[r] + 4 * K + at<G>(k)), _MM_HINT_NTA);  \
    const __m512i b = _mm512_maskz_loadu_epi8(m, q[r] + at<G>(k));                        \
    A0 = dpbusd(A0, b, x0), A1 = dpbusd(A1, b, x1), A2 = dpbusd(A2, b, x2), A3 = dpbusd(A3, b, x3); \
  }
    RWKV_MM8_ROW(0, a00, a01, a02, a03)
    if constexpr (R > 1) RWKV_MM8_ROW(1, a10, a11, a12, a13)
    if constexpr (R > 2) RWKV_MM8_ROW(2, a20, a21, a22, a23)
    if constexpr (R > 3) RWKV_MM8_ROW(3, a30, a31, a32, a33)
#undef RWKV_MM8_ROW
  }
  const __m512i acc[4][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}, {a20, a21, a22, a23}, {a30, a31, a32, a33}};
  __m512 f[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int r = 0; r < R; r++) {
    f[r] = _mm512_cvtepi32_ps(acc[r][3]);
    f[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][2]), _mm512_set1_ps(256.f), f[r]);
    f[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][1]), _mm512_set1_ps(65536.f), f[r]);
    f[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][0]), _mm512_set1_ps(16777216.f), f[r]);
  }
  float t[4];
  _mm_storeu_ps(t, simd::hsum4(f[0], f[1], f[2], f[3]));
  for (int r = 0; r < R; r++) s[r] = t[r] * v.scale;
}

// nrows rows (a grouped 4-row group: G)
template <bool G>
inline void dot4_int(float* s, const uint8_t* const* q, int nrows, const Mm8Vec& v, int64_t K) {
  switch (nrows) {
    case 4: return dot_rows_int<4, G>(s, q, v, K);
    case 3: return dot_rows_int<3, false>(s, q, v, K);
    case 2: return dot_rows_int<2, false>(s, q, v, K);
    default: return dot_rows_int<1, false>(s, q, v, K);
  }
}

// The byte planes of X = round(xr * 2^e) (see Mm8Vec); xl: 4 * Kp bytes, 64-byte aligned.
void split_planes(int8_t* xl, const float* xr, int64_t K, int64_t Kp, float amax, float* scale) {
  int e2 = 0;
  std::frexp(amax, &e2);  // amax = f 2^e2, f in [0.5, 1): amax 2^(30 - e2) in [2^29, 2^30)
  const __m512 mul = _mm512_set1_ps(std::ldexp(1.f, 30 - e2));
  *scale = std::ldexp(1.f, e2 - 30);
  for (int64_t k = 0; k < Kp; k += 16) {
    const __mmask16 m = K - k >= 16 ? __mmask16(0xFFFF) : K > k ? __mmask16((1u << (K - k)) - 1) : __mmask16(0);
    __m512i X = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + k), mul));  // exact product
    for (int l = 3; l > 0; l--) {
      const __m512i d = _mm512_srai_epi32(_mm512_slli_epi32(X, 24), 24);  // the low byte, signed
      _mm_store_si128(reinterpret_cast<__m128i*>(xl + l * Kp + k), _mm512_cvtepi32_epi8(d));
      X = _mm512_srai_epi32(_mm512_sub_epi32(X, d), 8);
    }
    _mm_store_si128(reinterpret_cast<__m128i*>(xl + k), _mm512_cvtepi32_epi8(X));  // |X0| <= 65
  }
}
#else
constexpr bool kIntDots = false;
template <bool G>
inline void dot4_int(float*, const uint8_t* const*, int, const Mm8Vec&, int64_t) {}
inline void split_planes(int8_t*, const float*, int64_t, int64_t, float, float*) {}
#endif

template <bool G>
inline void dot4(float* s, const uint8_t* const* q, int nrows, const float* xr, int64_t K) {
  switch (nrows) {
    case 4: return dot_rows<4, G>(s, q, xr, K);
    case 3: return dot_rows<3, false>(s, q, xr, K);
    case 2: return dot_rows<2, false>(s, q, xr, K);
    default: return dot_rows<1, false>(s, q, xr, K);
  }
}

// Rows [r0, r1) of one x row, given its prepared vector (r0 a multiple of 4 for a grouped q).
void rows_kernel(float* y, const Mm8Vec& v, const Mm8Weight& w, int64_t r0, int64_t r1, bool acc) {
  const int64_t K = w.K, full = w.grouped ? w.N / 4 * 4 : 0;  // rows in groups
  for (int64_t o = r0; o < r1; o += 4) {
    const int n = int(std::min<int64_t>(4, r1 - o));
    const bool g = o < full;  // then n = 4: a whole group
    const int64_t stride = g ? 64 : K;
    const uint8_t* q[4] = {w.q + o * K, w.q + o * K + stride, w.q + o * K + 2 * stride, w.q + o * K + 3 * stride};
    float s[4];
    if (v.xl) g ? dot4_int<true>(s, q, n, v, K) : dot4_int<false>(s, q, n, v, K);
    else g ? dot4<true>(s, q, n, v.xr, K) : dot4<false>(s, q, n, v.xr, K);
    for (int r = 0; r < n; r++) {
      const float val = w.rx[o + r] * (s[r] + 0.5f * v.sum_xr) + v.sum_myx + w.mx[o + r] * v.sum_x;
      y[o + r] = acc ? y[o + r] + val : val;
    }
  }
}

}  // namespace

size_t mm8_prep_floats(int64_t K) {
  const int64_t Kp = (K + 63) / 64 * 64;
  return size_t(Kp + (kIntDots ? Kp + 16 : 0));  // xr, then the planes (4 Kp bytes) 64-byte aligned
}

void mm8_prepare(Mm8Vec& v, float* buf, const float* x, const Mm8Weight& w) {
  const int64_t K = w.K;
  float* xr = buf;
  double sxr = 0, smy = 0, sx = 0;
  float amax = 0;
  int64_t i0 = 0;
#if defined(__AVX512F__)
  {  // the sums in double, 8 lanes each (GCC's vectorisation of the loop below took ~1 ns per input)
    __m512d a_xr = _mm512_setzero_pd(), a_my = _mm512_setzero_pd(), a_x = _mm512_setzero_pd();
    __m512 a_max = _mm512_setzero_ps();
    for (; i0 + 16 <= K; i0 += 16) {
      const __m512 xv = _mm512_loadu_ps(x + i0), t = _mm512_mul_ps(_mm512_loadu_ps(w.ry + i0), xv);
      const __m512 myv = _mm512_loadu_ps(w.my + i0);
      _mm512_storeu_ps(xr + i0, t);
      a_max = _mm512_max_ps(a_max, _mm512_abs_ps(t));
      const __m512d xl = _mm512_cvtps_pd(_mm512_castps512_ps256(xv)),
                    xh = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xv), 1)));
      const __m512d tl = _mm512_cvtps_pd(_mm512_castps512_ps256(t)),
                    th = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(t), 1)));
      const __m512d ml = _mm512_cvtps_pd(_mm512_castps512_ps256(myv)),
                    mh = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(myv), 1)));
      a_xr = _mm512_add_pd(a_xr, _mm512_add_pd(tl, th));
      a_x = _mm512_add_pd(a_x, _mm512_add_pd(xl, xh));
      a_my = _mm512_fmadd_pd(ml, xl, _mm512_fmadd_pd(mh, xh, a_my));
    }
    sxr = _mm512_reduce_add_pd(a_xr), smy = _mm512_reduce_add_pd(a_my), sx = _mm512_reduce_add_pd(a_x);
    amax = _mm512_reduce_max_ps(a_max);
    // an inf or NaN t: amax may not show it, sxr does (checked below)
  }
#endif
  for (int64_t i = i0; i < K; i++) {
    const float t = w.ry[i] * x[i];
    xr[i] = t;
    sxr += t;
    smy += double(w.my[i]) * x[i];
    sx += x[i];
    amax = std::max(amax, std::fabs(t));
  }
  v.xr = xr;
  v.sum_xr = float(sxr);
  v.sum_myx = float(smy);
  v.sum_x = float(sx);
  v.xl = nullptr;
  // not finite (sxr inf or NaN): the fp32 kernel, which carries it into y as the package does
  if (kIntDots && amax > 0 && std::isfinite(sxr) && std::isfinite(amax)) {
    const int64_t Kp = (K + 63) / 64 * 64;
    const uintptr_t p = reinterpret_cast<uintptr_t>(buf + Kp);
    int8_t* xl = reinterpret_cast<int8_t*>((p + 63) / 64 * 64);
    split_planes(xl, xr, K, Kp, amax, &v.scale);
    v.xl = xl;
  }
}

void mm8_rows(float* y, const Mm8Vec& v, const Mm8Weight& w, int64_t r0, int64_t r1, bool accumulate) {
  if (w.grouped && r0 % 4 != 0) fail("ops", "mm8_rows: a grouped int8 matrix's rows start at a multiple of 4, not {}", r0);
  rows_kernel(y, v, w, r0, r1, accumulate);
}

void mm8_forward(float* out, const float* inp, const Mm8Weight& w, int64_t M, bool accumulate) {
  const int64_t N = w.N, K = w.K;
  const bool par = team_threads() > 1;
  if (M <= kRowsMax || row_invariant_products()) {
    thread_local std::vector<float> xr_buf;  // the caller's; workers read it through `vs`
    thread_local std::vector<Mm8Vec> vec_buf;
    const size_t per = mm8_prep_floats(K);
    xr_buf.resize(size_t(M) * per);
    vec_buf.resize(size_t(M));
    for (int64_t m = 0; m < M; m++) mm8_prepare(vec_buf[m], xr_buf.data() + m * per, inp + m * K, w);
    const Mm8Vec* vs = vec_buf.data();
    // Block-major: a 4-row group of q is loaded once from memory and reused from L1 for every x row.
    quant_rows_block_major(M, N, K, K, par, [&](int64_t m, int64_t g, int64_t g1) {
      rows_kernel(out + m * N, vs[m], w, g, g1, accumulate);
    });
    return;
  }
  // Prefill: a bf16 stage's on the bf16 GEMM where the CPU has it; else panels of W' widened
  // exactly (mm8_dequant_rows), each multiplied by sgemm on its thread.
  auto dequant = [&](float* panel, int64_t n0, int64_t n1) { mm8_dequant_rows(panel, w, n0, n1); };
  if (w.bf16_prefill && dequant_panels_bf16(out, inp, M, N, K, accumulate, par, dequant)) return;
  dequant_panels_sgemm(out, inp, M, N, K, accumulate, par, dequant);
}

}  // namespace rwkv
