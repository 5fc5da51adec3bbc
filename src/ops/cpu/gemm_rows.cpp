// gemm_rows.cpp — few-row GEMM on stored weights (see ops/gemm_rows.h). Tiles of 8 rows of W x
// 2 rows of x keep 16 vector accumulators over K (AVX-512: 16 lanes; AVX2: 4 x 2 tiles of 8
// lanes); a thread takes 64 rows of W at a time from a dynamic schedule and runs every x tile
// over them while they sit in L1/L2.
#include "ops/gemm_rows.h"

#include <immintrin.h>
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12, inside _mm512_reduce_add_ps (a false positive)
#include <omp.h>

#include <algorithm>

#include "ops/cpu/simd_widen.h"

namespace rwkv {

namespace {

#if defined(__AVX512F__)
constexpr int kLanes = 16, kTm = 2, kTn = 8;  // x rows, W rows per tile (bench_gemm_rows: 2x8 beats 4x4)
template <typename T>
inline __m512 load_w(const T* p) {
  if constexpr (sizeof(T) == 4) return simd::load16(reinterpret_cast<const float*>(p));
  else return simd::load16(reinterpret_cast<const uint16_t*>(p), T::bf16 ? DType::BF16 : DType::F16);
}
using Vec = __m512;
inline Vec vzero() { return _mm512_setzero_ps(); }
inline Vec vload(const float* p) { return _mm512_loadu_ps(p); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline float vsum(Vec v) { return _mm512_reduce_add_ps(v); }
#elif defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
constexpr int kLanes = 8, kTm = 2, kTn = 4;
template <typename T>
inline __m256 load_w(const T* p) {
  if constexpr (sizeof(T) == 4) return simd::load8(reinterpret_cast<const float*>(p));
  else return simd::load8(reinterpret_cast<const uint16_t*>(p), T::bf16 ? DType::BF16 : DType::F16);
}
using Vec = __m256;
inline Vec vzero() { return _mm256_setzero_ps(); }
inline Vec vload(const float* p) { return _mm256_loadu_ps(p); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline float vsum(Vec v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#else
constexpr int kLanes = 0, kTm = 1, kTn = 1;
#endif

// 16-bit element types, told apart at compile time.
struct Bf16 { uint16_t v; static constexpr bool bf16 = true; };
struct F16 { uint16_t v; static constexpr bool bf16 = false; };

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__F16C__) && defined(__FMA__))
// out[m0.., n0..] for one tile: x rows m0..m0+tm, W rows n0..n0+tn (tm <= kTm, tn <= kTn;
// missing rows repeat the first and are not stored).
template <typename T>
inline void tile(float* out, const float* x, const T* W, int64_t m0, int tm, int64_t n0, int tn, int64_t k0,
                 int64_t k1, int64_t K, int64_t N, bool acc, const T* pf_row) {
  const float* xr[kTm];
  const T* wr[kTn];
  for (int i = 0; i < kTm; i++) xr[i] = x + (m0 + (i < tm ? i : 0)) * K;
  for (int j = 0; j < kTn; j++) wr[j] = W + (n0 + (j < tn ? j : 0)) * K;
  Vec s[kTm][kTn];
  for (int i = 0; i < kTm; i++)
    for (int j = 0; j < kTn; j++) s[i][j] = vzero();
  for (int64_t k = k0; k < k1; k += kLanes) {
    if (pf_row) _mm_prefetch(reinterpret_cast<const char*>(pf_row + k), _MM_HINT_T0);
    Vec w[kTn];
    for (int j = 0; j < kTn; j++) w[j] = load_w(wr[j] + k);
    for (int i = 0; i < kTm; i++) {
      const Vec xv = vload(xr[i] + k);
      for (int j = 0; j < kTn; j++) s[i][j] = vfma(xv, w[j], s[i][j]);
    }
  }
  for (int i = 0; i < tm; i++)
    for (int j = 0; j < tn; j++) {
      float* o = out + (m0 + i) * N + n0 + j;
      const float v = vsum(s[i][j]);
      *o = acc ? *o + v : v;
    }
}

// A thread takes 64 rows of W; each tile of them stays in L1 while every x tile runs over it:
// W comes from memory once, x (a few rows) from L1/L2.
template <typename T>
void run(float* out, const float* x, const T* W, int64_t M, int64_t K, int64_t N, bool acc) {
  constexpr int64_t kBlock = 64;
  const int64_t nblk = (N + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic, 1) if (nblk > 1 && !omp_in_parallel())
  for (int64_t b = 0; b < nblk; b++) {
    const int64_t n_end = std::min(N, (b + 1) * kBlock);
    for (int64_t n0 = b * kBlock; n0 < n_end; n0 += kTn) {
      const int tn = int(std::min<int64_t>(kTn, n_end - n0));
      // 16-bit W: while the x tiles run over these rows (from L1), the next kTn rows come in
      // from memory: x tile t prefetches next row t as it goes; next rows beyond the number of x
      // tiles are prefetched up front. (The head, 65536 x 768 bf16 at M 16, one thread: 74-92
      // -> 109-136 GFLOP/s. fp32 W, twice the bytes, loses L1 to it and runs slower: not done.)
      const int64_t tiles = (M + kTm - 1) / kTm;
      const int64_t nn = sizeof(T) == 4 ? 0 : std::min<int64_t>(N, n0 + 2 * kTn) - (n0 + kTn);
      for (int64_t r = tiles; r < nn; r++)
        for (int64_t k = 0; k < K; k += 64 / int64_t(sizeof(T))) _mm_prefetch(reinterpret_cast<const char*>(W + (n0 + kTn + r) * K + k), _MM_HINT_T0);
      for (int64_t t = 0; t < tiles; t++)
        tile(out, x, W, t * kTm, int(std::min<int64_t>(kTm, M - t * kTm)), n0, tn, 0, K, K, N, acc,
             t < nn ? W + (n0 + kTn + t) * K : nullptr);
    }
  }
}
#endif

}  // namespace

bool gemm_rows_forward(float* out, const float* x, const void* W, DType wdt, int64_t M, int64_t K, int64_t N,
                       bool accumulate) {
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__F16C__) && defined(__FMA__))
  if (K % 16 != 0 || M < 1) return false;
  switch (wdt) {
    case DType::F32: run(out, x, static_cast<const float*>(W), M, K, N, accumulate); return true;
    case DType::BF16: run(out, x, static_cast<const Bf16*>(W), M, K, N, accumulate); return true;
    case DType::F16: run(out, x, static_cast<const F16*>(W), M, K, N, accumulate); return true;
    default: return false;
  }
#else
  return false;
#endif
}

}  // namespace rwkv
