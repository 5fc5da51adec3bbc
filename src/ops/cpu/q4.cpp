// q4.cpp — products with q4 weights (see ops/q4.h): x quantized to int8 per block of 32, exact
// integer block dots on the packed rows (one block per 32-bit lane: AVX-512 VNNI 16 or 8 blocks
// per instruction pair, AVX2 8 with maddubs; scalar), 4 output rows sharing each load of x, for
// decode and a few rows; exact widening of panels of W' plus sgemm for prefill.
// GCC 12 flags its own AVX-512 intrinsics (srai, cvtph, cvtepi32, reduce_add) as (maybe-)uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/team.h"
#include "ops/cpu/quant_matmul.h"
#include "ops/cpu/sgemm.h"
#include "ops/cpu/simd_reduce.h"
#include "ops/q4.h"
#include "ops/row_invariant.h"

namespace rwkv {

namespace {

constexpr int64_t kRowsMax = 64;      // rows of x up to which the quantized-x kernel is used
// How far ahead the decode kernel prefetches W': at least 8 rows and about 7.5 KB (16 rows of
// K = 768). From DRAM on 2 threads, q4 65536x768: 540 -> 500-512 us and 3072x768 38 -> 34 us
// against 8 rows; 12, 24 and 32 rows were in between.
inline int64_t prefetch_rows(int64_t row_bytes) { return std::max<int64_t>(8, 7680 / row_bytes); }

// Where the prepared x keeps input j (0..31) of block b: the packed layout's order (ops/q4.h), a
// group of n blocks taking 32n bytes from 32 * b0: per 4-byte column c4 = (j % 16) / 4, 4n bytes
// of low-nibble inputs (j < 16) then 4n of high-nibble ones, block l's 4 at 4l.
inline int64_t xq_pos(int64_t b, int j, int64_t nb) {
  const Q4Group g = q4_group_of(b, nb);
  const int c = j % 16;
  return 32 * g.b0 + 8 * g.n * (c / 4) + (j < 16 ? 0 : 4 * g.n) + 4 * (b - g.b0) + c % 4;
}

// One block's integer dot q_b . xq_b, scalar (the SIMD paths compute the same integer).
inline int32_t block_dot(const uint8_t* row, const int8_t* xq, int64_t b, int64_t nb) {
  const Q4Group g = q4_group_of(b, nb);
  const uint8_t* nib = row + g.off;
  int32_t s = 0;
  for (int c = 0; c < 16; c++) {
    const uint8_t v = nib[q4_nibble_pos(g.n, b - g.b0, c)];
    s += int32_t(v & 15) * xq[xq_pos(b, c, nb)] + int32_t(v >> 4) * xq[xq_pos(b, 16 + c, nb)];
  }
  return s;
}

#if defined(__AVX512F__)
// v kept in a register. GCC folds a load used more than once into each use as a memory operand
// (each nibble vector twice, each x vector once per row), which made the kernel bound by its
// loads: hot in L2 on one thread a K = 768 row took 49 cycles, 35 with the loads in registers
// (K = 3072: 133 -> 85); decode q4 466 -> 494 tok/s, medians of 5 alternated runs.
template <class V>
inline V in_register(V v) {
  __asm__("" : "+v"(v));
  return v;
}
#endif

// s[r] = row (o + r) . x for R (1..4) rows. The same steps for a row whichever R it is computed
// with (one accumulator per row, groups in order), so a row never depends on its neighbours.
template <int R>
inline void dot_rows(float* s, const Q4Vec& v, const Q4Weight& w, int64_t o) {
  const int64_t K = w.K, nb = K / kQ4Block, RB = q4_row_bytes(K), G16 = nb / 16;
  [[maybe_unused]] const int64_t simd_end = G16 * 16 + (nb - G16 * 16 >= 8 ? 8 : 0);  // blocks in groups of 16 and 8
  const uint8_t* row[R];
  for (int r = 0; r < R; r++) row[r] = w.p + (o + r) * RB;
  float acc_s[4] = {0.f, 0.f, 0.f, 0.f};
  int64_t b0 = 0;
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && \
    defined(__F16C__)
  // The rows prefetch_rows ahead (each row is one contiguous run of nibbles and scales): for rows
  // of one group of 16 (K < 1024) all at once here; for longer rows a group's 320 bytes as the
  // loop reaches that group, the rest after it (768x3072 from DRAM on 2 threads: 42-45 -> 36 us;
  // decode median 384 -> 397 tok/s over 8 alternated runs). Spread out for K = 768, the same
  // prefetches had made decode 3 % slower.
  const int64_t ahead = prefetch_rows(RB) * RB;
  const bool spread = G16 >= 2;
  if (!spread)
    for (int r = 0; r < R; r++)
      for (int64_t off = 0; off < RB; off += 64)
        _mm_prefetch(reinterpret_cast<const char*>(row[r] + ahead + off), _MM_HINT_NTA);
  __m512 acc[R];
  for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
  // Lane l of a group: block b0 + l. The high nibbles are multiplied in place (16x) in their own
  // accumulator and shifted back once: exact, the integer sums stay far below 2^31.
  const __m512i lo16 = _mm512_set1_epi8(0x0F), hi16 = _mm512_set1_epi8(char(0xF0));
  for (int64_t g = 0; g < G16; g++) {
    const Q4Group grp = q4_group_of(16 * g, nb);  // 16 blocks: 256 bytes of nibbles, 32 of d, 32 of m
    const int64_t off = grp.off;
    const int8_t* xg = v.xq + 512 * g;
    if (spread)  // this group of the rows ahead
      for (int r = 0; r < R; r++)
        for (int64_t l = 0; l < 320; l += 64) _mm_prefetch(reinterpret_cast<const char*>(row[r] + ahead + off + l), _MM_HINT_NTA);
    __m512i al[R], ah[R];
    for (int r = 0; r < R; r++) al[r] = ah[r] = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int c4 = 0; c4 < 4; c4++) {
      const __m512i xl = in_register(_mm512_loadu_si512(xg + 128 * c4));
      const __m512i xh = in_register(_mm512_loadu_si512(xg + 128 * c4 + 64));
#pragma GCC unroll 4
      for (int r = 0; r < R; r++) {
        const __m512i b = in_register(_mm512_loadu_si512(row[r] + off + 64 * c4));
        al[r] = _mm512_dpbusd_epi32(al[r], _mm512_and_si512(b, lo16), xl);
        ah[r] = _mm512_dpbusd_epi32(ah[r], _mm512_and_si512(b, hi16), xh);
      }
    }
    const __m512 dx = _mm512_loadu_ps(v.dx + 16 * g), sx = _mm512_loadu_ps(v.sx + 16 * g);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
      const __m512i i = _mm512_add_epi32(al[r], _mm512_srai_epi32(ah[r], 4));
      const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[r] + grp.d_at(0))));
      const __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[r] + grp.m_at(0))));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_mul_ps(d, dx), acc[r]);
      acc[r] = _mm512_fmadd_ps(m, sx, acc[r]);
    }
  }
  if (spread)  // what follows the groups of 16 in the rows ahead
    for (int r = 0; r < R; r++)
      for (int64_t l = 320 * G16; l < RB; l += 64) _mm_prefetch(reinterpret_cast<const char*>(row[r] + ahead + l), _MM_HINT_NTA);
  if (simd_end > G16 * 16) {  // a group of 8: the same on 256-bit vectors
    const Q4Group grp = q4_group_of(16 * G16, nb);
    const int64_t off = grp.off;
    const int8_t* xg = v.xq + 512 * G16;
    const __m256i lo8 = _mm256_set1_epi8(0x0F), hi8 = _mm256_set1_epi8(char(0xF0));
    __m256i al[R], ah[R];
    for (int r = 0; r < R; r++) al[r] = ah[r] = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int c4 = 0; c4 < 4; c4++) {
      const __m256i xl = in_register(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xg + 64 * c4)));
      const __m256i xh = in_register(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xg + 64 * c4 + 32)));
#pragma GCC unroll 4
      for (int r = 0; r < R; r++) {
        const __m256i b = in_register(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[r] + off + 32 * c4)));
        al[r] = _mm256_dpbusd_epi32(al[r], _mm256_and_si256(b, lo8), xl);
        ah[r] = _mm256_dpbusd_epi32(ah[r], _mm256_and_si256(b, hi8), xh);
      }
    }
    const __m256 dx = _mm256_loadu_ps(v.dx + 16 * G16), sx = _mm256_loadu_ps(v.sx + 16 * G16);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
      const __m256i i = _mm256_add_epi32(al[r], _mm256_srai_epi32(ah[r], 4));
      const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[r] + grp.d_at(0))));
      const __m256 m = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[r] + grp.m_at(0))));
      __m256 a = _mm256_mul_ps(_mm256_cvtepi32_ps(i), _mm256_mul_ps(d, dx));
      a = _mm256_fmadd_ps(m, sx, a);
      acc[r] = _mm512_add_ps(acc[r], _mm512_zextps256_ps512(a));
    }
  }
  // each row's lanes summed in one fixed order whatever R is (absent rows: zeros)
  __m512 tot[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int r = 0; r < R; r++) tot[r] = acc[r];
  _mm_storeu_ps(acc_s, simd::hsum4(tot[0], tot[1], tot[2], tot[3]));
  b0 = simd_end;
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
  // Eight lanes (blocks) at a time: a group of 16 is two halves h of 8 (nibbles at 32h of each
  // 64-byte column, x likewise, scales at 16h).
  __m256 acc[R];
  for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
  const __m256i nib = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < simd_end; b += 8) {
    const Q4Group g = q4_group_of(b, nb);
    const int64_t h = (b - g.b0) / 8, n = g.n;
    const int8_t* xg = v.xq + 32 * g.b0;
    __m256i i32[R];
    for (int r = 0; r < R; r++) i32[r] = _mm256_setzero_si256();
    for (int c4 = 0; c4 < 4; c4++) {
      const __m256i xl = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xg + 8 * n * c4 + 32 * h));
      const __m256i xh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xg + 8 * n * c4 + 4 * n + 32 * h));
      for (int r = 0; r < R; r++) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[r] + g.off + 4 * n * c4 + 32 * h));
        const __m256i lo = _mm256_and_si256(q, nib), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);
        // u8 (<= 15) x s8 pairs: |sum| <= 2 * 15 * 127 * 2, no int16 saturation
        const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, xl), _mm256_maddubs_epi16(hi, xh));
        i32[r] = _mm256_add_epi32(i32[r], _mm256_madd_epi16(p, ones));
      }
    }
    const __m256 dx = _mm256_loadu_ps(v.dx + b), sx = _mm256_loadu_ps(v.sx + b);
    for (int r = 0; r < R; r++) {
      const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[r] + g.d_at(8 * h))));
      const __m256 m = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[r] + g.m_at(8 * h))));
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i32[r]), _mm256_mul_ps(d, dx), acc[r]);
      acc[r] = _mm256_fmadd_ps(m, sx, acc[r]);
    }
  }
  for (int r = 0; r < R; r++) {
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    acc_s[r] = _mm_cvtss_f32(t);
  }
  b0 = simd_end;
#endif
  for (int r = 0; r < R; r++)
    for (int64_t b = b0; b < nb; b++) {
      const Q4Group g = q4_group_of(b, nb);
      const int64_t l = b - g.b0;
      acc_s[r] += q4_half_at(row[r] + g.d_at(l)) * v.dx[b] * float(block_dot(row[r], v.xq, b, nb)) +
                  q4_half_at(row[r] + g.m_at(l)) * v.sx[b];
    }
  std::memcpy(s, acc_s, sizeof(float) * R);  // 4 rows: one 16-byte copy (see rows_kernel)
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
    if (n == 4) {  // as one vector: 4-byte stores read back as wider words stall store forwarding
      const __m128 v = _mm_loadu_ps(s);
      _mm_storeu_ps(y + o, acc ? _mm_add_ps(_mm_loadu_ps(y + o), v) : v);
      continue;
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
  const int64_t nb = K / kQ4Block;
  int8_t* xq = static_cast<int8_t*>(buf);                         // (K)
  float* dx = reinterpret_cast<float*>(xq + (K + 63) / 64 * 64);  // (nb)
  float* sx = dx + nb;                                            // (nb)
  int64_t b0 = 0;
#if defined(__AVX512F__)
  // 4 inputs at a time to their places (xq_pos keeps runs of 4 together)
  auto put4 = [&](int64_t b, int j, uint32_t four) { std::memcpy(xq + xq_pos(b, j, nb), &four, 4); };
  for (; b0 < nb; b0++) {  // the scalar loop's numbers (the sum in another order)
    const float* xb = x + b0 * kQ4Block;
    const __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float inv = amax > 0.f ? 127.f / amax : 0.f;
    if (!(amax <= 3.4e38f)) break;  // inf or NaN: the scalar loop
    const __m512 iv = _mm512_set1_ps(inv);
    alignas(16) uint32_t q[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(q), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, iv))));
    _mm_store_si128(reinterpret_cast<__m128i*>(q + 4), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, iv))));
    for (int c4 = 0; c4 < 8; c4++) put4(b0, 4 * c4, q[c4]);
    dx[b0] = amax / 127.f;
    sx[b0] = _mm512_reduce_add_ps(_mm512_add_ps(v0, v1));
  }
#endif
  for (int64_t b = b0; b < nb; b++) {
    const float* xb = x + b * kQ4Block;  // (32)
    float amax = 0.f, sum = 0.f;
    for (int j = 0; j < kQ4Block; j++) amax = std::max(amax, std::fabs(xb[j])), sum += xb[j];
    const float scale = amax / 127.f, inv = amax > 0.f ? 127.f / amax : 0.f;
    for (int j = 0; j < kQ4Block; j++) xq[xq_pos(b, j, nb)] = int8_t(std::nearbyint(xb[j] * inv));
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
  const bool par = team_threads() > 1;
  if (M <= kRowsMax || row_invariant_products()) {
    thread_local std::vector<Q4Vec> vec_buf;  // the caller's; workers read them through `vs`
    thread_local std::vector<uint8_t> prep;
    const size_t per = (q4_prep_bytes(K) + 63) / 64 * 64;
    vec_buf.resize(size_t(M));
    prep.resize(per * size_t(M));
    for (int64_t m = 0; m < M; m++) q4_prepare(vec_buf[m], prep.data() + per * m, inp + m * K, K);
    const Q4Vec* vs = vec_buf.data();
    // Block-major: a 4-row group of q is loaded once from memory and reused from L1 for every x row.
    quant_rows_block_major(M, N, K, q4_row_bytes(K), par, [&](int64_t m, int64_t g, int64_t g1) {
      rows_kernel(out + m * N, vs[m], w, g, g1, accumulate);
    });
    return;
  }
  // Prefill: a bf16 stage's on the bf16 GEMM where the CPU has it; else panels of W' widened
  // exactly (q4_dequant_rows), each multiplied by sgemm on its thread.
  auto dequant = [&](float* panel, int64_t n0, int64_t n1) { q4_dequant_rows(panel, w, n0, n1); };
  if (w.bf16_prefill && dequant_panels_bf16(out, inp, M, N, K, accumulate, par, dequant)) return;
  dequant_panels_sgemm(out, inp, M, N, K, accumulate, par, dequant);
}

}  // namespace rwkv
