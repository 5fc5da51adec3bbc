// q4.cpp — products with q4 weights (see ops/q4.h): x quantized to int8 per block of 32, exact
// integer block dots (AVX-512 VNNI: 4 blocks per instruction pair; AVX2: maddubs; scalar), 4 output
// rows sharing each load of x, for decode and a few rows; exact widening of panels of W' plus
// sgemm for prefill.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/dtype.h"
#include "ops/cpu/quant_matmul.h"
#include "ops/cpu/sgemm.h"
#include "ops/cpu/simd_reduce.h"
#include "ops/q4.h"
#include "ops/row_invariant.h"

namespace rwkv {

namespace {

constexpr int64_t kRowsMax = 64;       // rows of x up to which the quantized-x kernel is used
constexpr int64_t kPrefetchRows = 16;  // how far ahead the decode kernel prefetches W' (rows)

// Where the prepared x keeps input j (0..31) of block b. A full group of 4 blocks (128 inputs,
// g = b / 4 < K / 128) is 64 bytes of the blocks' first halves (block b % 4 at 16 * (b % 4)) then 64
// of their second halves, so that one 64-byte load of q (4 blocks' bytes, low nibbles = first
// halves, high = second halves) lines up with one 64-byte load of x per nibble; the blocks after
// the last full group keep the natural order.
inline int64_t xq_pos(int64_t b, int j, int64_t full_groups) {
  if (b / 4 >= full_groups) return b * kQ4Block + j;
  return (b / 4) * 128 + (j < 16 ? 16 * (b % 4) + j : 64 + 16 * (b % 4) + (j - 16));
}

// One block's integer dot q_b . xq_b, scalar (the SIMD paths compute the same integer).
inline int32_t block_dot(const uint8_t* qb, const int8_t* xq, int64_t b, int64_t full_groups) {
  const int8_t* lo = xq + xq_pos(b, 0, full_groups);
  const int8_t* hi = xq + xq_pos(b, 16, full_groups);
  int32_t s = 0;
  for (int j = 0; j < 16; j++) s += int32_t(qb[j] & 15) * lo[j] + int32_t(qb[j] >> 4) * hi[j];
  return s;
}

// s[r] = row (o + r) . x for R (1..4) rows. The same steps for a row whichever R it is computed
// with (one accumulator per row, blocks in order), so a row never depends on its neighbours.
template <int R>
inline void dot_rows(float* s, const Q4Vec& v, const Q4Weight& w, int64_t o) {
  const int64_t K = w.K, nb = K / kQ4Block, KB = K / 2, G = nb / 4;
  const uint8_t* q[R];
  const uint16_t *d[R], *m[R];
  for (int r = 0; r < R; r++) q[r] = w.q + (o + r) * KB, d[r] = w.d + (o + r) * nb, m[r] = w.m + (o + r) * nb;
  int64_t b0 = 0;
  float acc_s[4];
  for (int r = 0; r < R; r++) acc_s[r] = 0.f;
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__) && defined(__F16C__)
  __m512 acc[R];
  for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
  const __m512i nib = _mm512_set1_epi8(0x0F);
  const __m512i idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  // Rows kPrefetchRows ahead (4 groups of 4: a 4-row group of K = 768 is only 1.5 KB of nibbles,
  // consumed faster than DRAM answers), their scales and offsets too (q4 decode +4 %).
  for (int r = 0; r < R; r++)
    for (int64_t o2 = 0; o2 < nb; o2 += 32) {
      _mm_prefetch(reinterpret_cast<const char*>(d[r] + kPrefetchRows * nb + o2), _MM_HINT_NTA);
      _mm_prefetch(reinterpret_cast<const char*>(m[r] + kPrefetchRows * nb + o2), _MM_HINT_NTA);
    }
  for (int64_t g = 0; g < G; g++) {
    const __m512i xlo = _mm512_loadu_si512(v.xq + 128 * g), xhi = _mm512_loadu_si512(v.xq + 128 * g + 64);
    const __m128 dx4 = _mm_loadu_ps(v.dx + 4 * g);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
      // the same bytes kPrefetchRows rows ahead, before their use (read once per token)
      _mm_prefetch(reinterpret_cast<const char*>(q[r] + kPrefetchRows * KB + 64 * g), _MM_HINT_NTA);
      const __m512i b = _mm512_loadu_si512(q[r] + 64 * g);
      const __m512i lo = _mm512_and_si512(b, nib), hi = _mm512_and_si512(_mm512_srli_epi16(b, 4), nib);
      __m512i i = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, xlo);
      i = _mm512_dpbusd_epi32(i, hi, xhi);  // lanes 4j..4j+3: block 4g + j
      const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(d[r] + 4 * g))), dx4);
      const __m512 sc = _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(dd));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), sc, acc[r]);
    }
  }
  // the offsets' term sum_b m_b sx_b, 16 blocks per step after the loop (one fp16 load per 16
  // blocks instead of one per 4 in it)
  __m512 tot[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int r = 0; r < R; r++) {
    __m512 am = acc[r];
    for (int64_t b = 0; b < 4 * G; b += 16) {
      const __mmask16 k = 4 * G - b >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (4 * G - b)) - 1);
      const __m512 mv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, m[r] + b));
      am = _mm512_fmadd_ps(mv, _mm512_maskz_loadu_ps(k, v.sx + b), am);
    }
    tot[r] = am;
  }
  _mm_storeu_ps(acc_s, simd::hsum4(tot[0], tot[1], tot[2], tot[3]));  // acc_s has room for 4
  b0 = 4 * G;
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
  __m256 acc[R];
  __m128 accm[R];
  for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps(), accm[r] = _mm_setzero_ps();
  const __m256i nib = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  const __m256i idx0 = _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0), idx1 = _mm256_set_epi32(3, 3, 3, 3, 2, 2, 2, 2);
  for (int64_t g = 0; g < G; g++) {
    const __m128 dx4 = _mm_loadu_ps(v.dx + 4 * g), sx4 = _mm_loadu_ps(v.sx + 4 * g);
    for (int r = 0; r < R; r++) {
      _mm_prefetch(reinterpret_cast<const char*>(q[r] + 4 * KB + 64 * g), _MM_HINT_NTA);
      const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(d[r] + 4 * g))), dx4);
      const __m256 dd8 = _mm256_castps128_ps256(dd);
      for (int h = 0; h < 2; h++) {  // blocks 4g + 2h, 4g + 2h + 1
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q[r] + 64 * g + 32 * h));
        const __m256i lo = _mm256_and_si256(b, nib), hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), nib);
        const __m256i xlo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v.xq + 128 * g + 32 * h));
        const __m256i xhi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v.xq + 128 * g + 64 + 32 * h));
        // u8 (<= 15) x s8 pairs: |sum| <= 2 * 15 * 127 * 2, no int16 saturation
        const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, xlo), _mm256_maddubs_epi16(hi, xhi));
        const __m256i i = _mm256_madd_epi16(p, ones);  // lanes 4j..4j+3: block 4g + 2h + j
        const __m256 sc = _mm256_permutevar8x32_ps(dd8, h ? idx1 : idx0);
        acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), sc, acc[r]);
      }
      accm[r] = _mm_fmadd_ps(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(m[r] + 4 * g))), sx4, accm[r]);
    }
  }
  for (int r = 0; r < R; r++) {
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
    t = _mm_add_ps(t, accm[r]);
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    acc_s[r] = _mm_cvtss_f32(t);
  }
  b0 = 4 * G;
#endif
  for (int r = 0; r < R; r++)
    for (int64_t b = b0; b < nb; b++)
      acc_s[r] += f16_to_f32(d[r][b]) * v.dx[b] * float(block_dot(q[r] + 16 * b, v.xq, b, G)) +
                  f16_to_f32(m[r][b]) * v.sx[b];
  for (int r = 0; r < R; r++) s[r] = acc_s[r];
}

void rows_kernel(float* y, const Q4Vec& v, const Q4Weight& w, int64_t r0, int64_t r1, bool acc) {
  for (int64_t o = r0; o < r1; o += 4) {
    const int n = int(std::min<int64_t>(4, r1 - o));
    float s[4];
    switch (n) {
      case 4: dot_rows<4>(s, v, w, o); break;
      case 3: dot_rows<3>(s, v, w, o); break;
      case 2: dot_rows<2>(s, v, w, o); break;
      default: dot_rows<1>(s, v, w, o); break;
    }
    for (int r = 0; r < n; r++) y[o + r] = acc ? y[o + r] + s[r] : s[r];
  }
}

}  // namespace

size_t q4_prep_bytes(int64_t K) {
  const int64_t nb = K / kQ4Block;
  return size_t((K + 63) / 64 * 64 + 2 * nb * int64_t(sizeof(float)));
}

void q4_prepare(Q4Vec& v, void* buf, const float* x, int64_t K) {
  const int64_t nb = K / kQ4Block, G = nb / 4;
  int8_t* xq = static_cast<int8_t*>(buf);                                   // (K)
  float* dx = reinterpret_cast<float*>(xq + (K + 63) / 64 * 64);            // (nb)
  float* sx = dx + nb;                                                      // (nb)
  int64_t b0 = 0;
#if defined(__AVX512F__)
  for (; b0 < nb; b0++) {  // the scalar loop's numbers (the sum in another order)
    const float* xb = x + b0 * kQ4Block;
    const __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float inv = amax > 0.f ? 127.f / amax : 0.f;
    if (!(amax <= 3.4e38f)) break;  // inf or NaN: the scalar loop
    const __m512 iv = _mm512_set1_ps(inv);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + xq_pos(b0, 0, G)), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, iv))));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + xq_pos(b0, 16, G)), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, iv))));
    dx[b0] = amax / 127.f;
    sx[b0] = _mm512_reduce_add_ps(_mm512_add_ps(v0, v1));
  }
#endif
  for (int64_t b = b0; b < nb; b++) {
    const float* xb = x + b * kQ4Block;  // (32)
    float amax = 0.f, sum = 0.f;
    for (int j = 0; j < kQ4Block; j++) amax = std::max(amax, std::fabs(xb[j])), sum += xb[j];
    const float scale = amax / 127.f, inv = amax > 0.f ? 127.f / amax : 0.f;
    for (int j = 0; j < kQ4Block; j++) xq[xq_pos(b, j, G)] = int8_t(std::nearbyint(xb[j] * inv));
    dx[b] = scale;
    sx[b] = sum;
  }
  v.xq = xq;
  v.dx = dx;
  v.sx = sx;
}

void q4_rows(float* y, const Q4Vec& v, const Q4Weight& w, int64_t r0, int64_t r1, bool accumulate) {
  rows_kernel(y, v, w, r0, r1, accumulate);
}

void q4_forward(float* out, const float* inp, const Q4Weight& w, int64_t M, bool accumulate) {
  const int64_t N = w.N, K = w.K;
  const bool par = !omp_in_parallel() && omp_get_max_threads() > 1;
  if (M <= kRowsMax || row_invariant_products()) {
    thread_local std::vector<Q4Vec> vec_buf;  // the caller's; workers read them through `vs`
    thread_local std::vector<uint8_t> prep;
    const size_t per = (q4_prep_bytes(K) + 63) / 64 * 64;
    vec_buf.resize(size_t(M));
    prep.resize(per * size_t(M));
    for (int64_t m = 0; m < M; m++) q4_prepare(vec_buf[m], prep.data() + per * m, inp + m * K, K);
    const Q4Vec* vs = vec_buf.data();
    // Block-major: a 4-row group of q is loaded once from memory and reused from L1 for every x row.
    quant_rows_block_major(M, N, K, par, [&](int64_t m, int64_t g, int64_t g1) {
      rows_kernel(out + m * N, vs[m], w, g, g1, accumulate);
    });
    return;
  }
  // Prefill: panels of W' widened exactly (q4_dequant_rows), each multiplied by sgemm on its thread.
  dequant_panels_sgemm(out, inp, M, N, K, accumulate, par,
                       [&](float* panel, int64_t n0, int64_t n1) { q4_dequant_rows(panel, w, n0, n1); });
}

}  // namespace rwkv
