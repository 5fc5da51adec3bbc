// gemv.cpp — CPU gemv / linear with fp32, bf16 or fp16 weights (see ops/gemv.h). With AVX-512
// one row at a time, each thread's rows one sequential stream (kPrefetchAhead); with AVX2 four
// rows at a time share each load of x. Rows are split across the threads in contiguous parts.
#include "ops/gemv.h"

// GCC 12 flags its own AVX-512 intrinsics (reduce_add, cvtepu16) as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/steal_ranges.h"
#include "core/team.h"
#include "ops/activation.h"
#include "ops/cpu/bf16_gemm.h"
#include "ops/cpu/quant_matmul.h"
#include "ops/cpu/sgemm.h"
#include "ops/cpu/simd_widen.h"
#include "ops/gemm_rows.h"
#include "ops/row_invariant.h"

namespace rwkv {
namespace {

#if defined(__AVX512F__)  // ops/cpu/simd_widen.h
using simd::load16;
#elif defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
using simd::load8;
#endif

// Decode reads each weight once per token, so the GEMV is a stream from DRAM: rows go one at a
// time, front to back, so each thread's part of W is one sequential stream that the hardware
// prefetcher follows (4 rows side by side were 4 interleaved streams, and it lost them: 1-row
// 4 KB-ahead against 4-row next-group prefetching, cold bf16 matrices on 2 cores of the Zen 5
// host, GB/s: 768x768 52-64 -> 64-74, 3072x768 62-68 -> 69-80, 768x3072 62-69 -> 69-78, 65536x768
// 70-75 -> 75-82; docs/inference.md "Speed" has the variants measured), plus a
// non-temporal prefetch kPrefetchAhead bytes ahead of the loads, which keeps the weights from
// evicting the activations. x (K floats) stays in L1 for every row. A prefetch past the
// matrix's end never faults.
constexpr int64_t kPrefetchAhead = 4096;
template <int kLines>
inline void prefetch_ahead(const void* p) {
  for (int l = 0; l < kLines; l++)
    _mm_prefetch(static_cast<const char*>(p) + kPrefetchAhead + 64 * l, _MM_HINT_NTA);
}

inline float to_f32(float v, DType) { return v; }
inline float to_f32(uint16_t v, DType dt) { return dt == DType::BF16 ? bf16_to_f32(v) : f16_to_f32(v); }

#if !defined(__AVX512F__) && defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
// End of a 4-row block of the AVX2 kernel: adds the columns [k0, K) the SIMD loop left to the
// sums s[0..4) of rows w0, w0+K, w0+2K, w0+3K, then y[i] (+)= s[i].
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
#endif

// y[r] (+)= dot(W[r, :], x) for rows [r0, r1). T = float (fp32) or uint16_t (bf16 / fp16).
template <typename T>
void rows_dot(float* y, const float* x, const T* W, DType dt, int64_t r0, int64_t r1, int64_t K, bool acc) {
  int64_t r = r0;
#if defined(__AVX512F__)
  auto ld = [&](const T* p) {
    if constexpr (sizeof(T) == 4) return load16(reinterpret_cast<const float*>(p));
    else return load16(reinterpret_cast<const uint16_t*>(p), dt);
  };
  // one row at a time (see kPrefetchAhead), two accumulators (even / odd 16-column blocks)
  const int64_t K32 = K / 32 * 32, K16 = K / 16 * 16;
  for (; r < r1; r++) {
    const T* w = W + r * K;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    int64_t k = 0;
    for (; k < K32; k += 32) {
      prefetch_ahead<int(sizeof(T)) / 2>(w + k);  // 32 weights: 1 line of bf16, 2 of fp32
      a0 = _mm512_fmadd_ps(ld(w + k), _mm512_loadu_ps(x + k), a0);
      a1 = _mm512_fmadd_ps(ld(w + k + 16), _mm512_loadu_ps(x + k + 16), a1);
    }
    if (k < K16) {
      a0 = _mm512_fmadd_ps(ld(w + k), _mm512_loadu_ps(x + k), a0);
      k += 16;
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; k < K; k++) s += to_f32(w[k], dt) * x[k];
    y[r] = acc ? y[r] + s : s;
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

// y[n0, n1) (+)= x (K) @ W[:, n0:n1) for a tile of at most 64 columns, W (K, N) row-major.
template <typename T>
void cols_dot(float* y, const float* x, const T* W, DType dt, int64_t K, int64_t N, int64_t n0, int64_t n1,
              bool acc) {
  constexpr int kTile = 64;
  float s[kTile] = {0};
  const int64_t w = n1 - n0;
  if (w == kTile) {  // four vectors of accumulators, one broadcast x[k] per row of W
#if defined(__AVX512F__)
    auto ld = [&](const T* p) {
      if constexpr (sizeof(T) == 4) return load16(reinterpret_cast<const float*>(p));
      else return load16(reinterpret_cast<const uint16_t*>(p), dt);
    };
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < K; k++) {
      const __m512 xk = _mm512_set1_ps(x[k]);
      const T* row = W + k * N + n0;
      a0 = _mm512_fmadd_ps(ld(row), xk, a0);
      a1 = _mm512_fmadd_ps(ld(row + 16), xk, a1);
      a2 = _mm512_fmadd_ps(ld(row + 32), xk, a2);
      a3 = _mm512_fmadd_ps(ld(row + 48), xk, a3);
    }
    _mm512_storeu_ps(s, a0);
    _mm512_storeu_ps(s + 16, a1);
    _mm512_storeu_ps(s + 32, a2);
    _mm512_storeu_ps(s + 48, a3);
#else
    for (int64_t k = 0; k < K; k++) {
      const float xk = x[k];
      const T* row = W + k * N + n0;
      for (int j = 0; j < kTile; j++) s[j] += xk * to_f32(row[j], dt);
    }
#endif
  } else {
    for (int64_t k = 0; k < K; k++) {
      const float xk = x[k];
      const T* row = W + k * N + n0;
      for (int64_t j = 0; j < w; j++) s[j] += xk * to_f32(row[j], dt);
    }
  }
  for (int64_t j = 0; j < w; j++) y[n0 + j] = acc ? y[n0 + j] + s[j] : s[j];
}

// Outputs [r0, r1) of one job; v8 / v4: its prepared x (int8 / q4 jobs), else unused.
void job_rows(const GemvJob& j, const Mm8Vec& v8, const Q4Vec& v4, int64_t r0, int64_t r1) {
  if (j.tiles64) {  // r0 a multiple of 64: whole tiles, each as a (K, w) matrix of its own
    for (int64_t n0 = r0; n0 < r1; n0 += 64) {
      const int64_t w = std::min<int64_t>(64, j.N - n0);
      if (j.dt == DType::F32)
        cols_dot(j.y + n0, j.x, static_cast<const float*>(j.W) + n0 * j.K, j.dt, j.K, w, 0, w, j.accumulate);
      else
        cols_dot(j.y + n0, j.x, static_cast<const uint16_t*>(j.W) + n0 * j.K, j.dt, j.K, w, 0, w, j.accumulate);
    }
    return;
  }
  if (j.i8) return mm8_rows(j.y, v8, *j.i8, r0, r1, j.accumulate);
  if (j.q4) return q4_rows(j.y, v4, *j.q4, r0, r1, j.accumulate);
  if (j.dt == DType::F32) return rows_dot(j.y, j.x, static_cast<const float*>(j.W), j.dt, r0, r1, j.K, j.accumulate);
  rows_dot(j.y, j.x, static_cast<const uint16_t*>(j.W), j.dt, r0, r1, j.K, j.accumulate);
}

// Runs on the calling thread (linear_forward_any calls it inside its parallel region).
void widen_rows(float* out, const uint16_t* in, DType dt, int64_t n) {
  if (dt == DType::BF16) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) out[i] = std::bit_cast<float>(uint32_t(in[i]) << 16);
  } else {
    for (int64_t i = 0; i < n; i++) out[i] = f16_to_f32(in[i]);
  }
}

// Rows of a job per unit of its split: 4 (a group of the kernels), or a tile of 64 columns.
int64_t unit_rows(const GemvJob& j) { return j.tiles64 ? 64 : 4; }

// Bytes of one row of a job's weights.
int64_t row_bytes(const GemvJob& j) {
  return j.q4 ? q4_row_bytes(j.K) : j.i8 ? j.K : j.K * int64_t(dtype_size(j.dt));
}

}  // namespace

void gemv_batch(const GemvJob* row_jobs, int n, const GemvLora* loras, int nl) {
  // jobs: the row jobs, then each LoRA's first and second products (n + 2l, n + 2l + 1)
  thread_local std::vector<GemvJob> all;
  all.assign(row_jobs, row_jobs + n);
  for (int l = 0; l < nl; l++) {
    if (loras[l].first.i8 || loras[l].first.q4 || loras[l].second.i8 || loras[l].second.q4)
      fail("ops", "gemv: a LoRA's factors must be float matrices");
    all.push_back(loras[l].first);
    all.push_back(loras[l].second);
  }
  const GemvJob* jobs = all.data();
  const int na = int(all.size());
  for (int i = 0; i < na; i++)
    if (!jobs[i].i8 && !jobs[i].q4 && jobs[i].dt != DType::F32 && jobs[i].dt != DType::BF16 && jobs[i].dt != DType::F16)
      fail("ops", "gemv: weight dtype {} is not supported (fp32, bf16, fp16)", dtype_name(jobs[i].dt));
  const int nt = team_threads();
  // The caller's buffers (thread_local: workers reach them through the pointers below).
  thread_local std::vector<int64_t> first_buf;  // first unit of job i
  // int8 jobs: x scaled by ry and its sums, once per job (ops/mm8.h)
  thread_local std::vector<Mm8Vec> v8_buf;
  thread_local std::vector<float> xr8;
  v8_buf.assign(size_t(na), Mm8Vec{});
  size_t n8 = 0;
  for (int i = 0; i < n; i++) n8 += jobs[i].i8 ? mm8_prep_floats(jobs[i].K) : 0;
  xr8.resize(n8);
  for (size_t i = 0, off = 0; i < size_t(n); i++)
    if (jobs[i].i8) {
      mm8_prepare(v8_buf[i], xr8.data() + off, jobs[i].x, *jobs[i].i8);
      off += mm8_prep_floats(jobs[i].K);
    }
  const Mm8Vec* v8 = v8_buf.data();
  // q4 jobs: x quantized per block of 32, once per job (ops/q4.h)
  thread_local std::vector<Q4Vec> v4_buf;
  thread_local std::vector<uint8_t> xq4;
  v4_buf.assign(size_t(na), Q4Vec{});
  size_t n4 = 0;
  auto q4_per = [](int64_t K) { return (q4_prep_bytes(K) + 63) / 64 * 64; };
  for (int i = 0; i < n; i++) n4 += jobs[i].q4 ? q4_per(jobs[i].K) : 0;
  xq4.resize(n4);
  for (size_t i = 0, off = 0; i < size_t(n); i++)
    if (jobs[i].q4) {
      q4_prepare(v4_buf[i], xq4.data() + off, jobs[i].x, jobs[i].K);
      off += q4_per(jobs[i].K);
    }
  const Q4Vec* v4 = v4_buf.data();
  first_buf.assign(size_t(n) + 1, 0);
  // Row jobs cut in units of 4 rows (tiles64 jobs: tiles of 64), split over the threads as
  // contiguous parts with stealing (core/steal_ranges.h).
  int64_t work = 0;
  for (int i = 0; i < n; i++) {
    first_buf[i + 1] = first_buf[i] + (jobs[i].N + unit_rows(jobs[i]) - 1) / unit_rows(jobs[i]);
    work += jobs[i].N * jobs[i].K;
  }
  for (int i = n; i < na; i++) work += jobs[i].N * jobs[i].K;
  const int64_t* first = first_buf.data();
  // LoRA l whole on this thread: h = first, act(h) in place, second.y = bias, then second
  auto run_lora = [&](int l) {
    const int a = n + 2 * l;
    job_rows(jobs[a], v8[a], v4[a], 0, jobs[a].N);
    if (loras[l].act) act_forward(jobs[a].y, jobs[a].y, jobs[a].N, *loras[l].act);
    if (loras[l].bias) std::memcpy(jobs[a + 1].y, loras[l].bias, sizeof(float) * size_t(jobs[a + 1].N));
    job_rows(jobs[a + 1], v8[a + 1], v4[a + 1], 0, jobs[a + 1].N);
  };
  if (work < (1 << 15) || nt == 1) {
    for (int l = 0; l < nl; l++) run_lora(l);
    for (int i = 0; i < n; i++) job_rows(jobs[i], v8[i], v4[i], 0, jobs[i].N);
    return;
  }
  // the LoRAs first (each whole on the thread that takes it), then the row units
  const int64_t units = first[n];
  const int64_t piece = n ? decode_piece_groups(unit_rows(jobs[0]) / 4 * row_bytes(jobs[0])) : 1;
  std::atomic<int> next_lora{0};
  StealRanges parts(units, nt);
  team_run([&](int) {
    for (int l; (l = next_lora.fetch_add(1, std::memory_order_relaxed)) < nl;) run_lora(l);
    parts.run(piece, [&](int64_t u0, int64_t u1) {
      int i = int(std::upper_bound(first, first + n + 1, u0) - first) - 1;
      for (int64_t u = u0; u < u1; i++) {
        const int64_t e = std::min(u1, first[i + 1]), unit = unit_rows(jobs[i]);
        job_rows(jobs[i], v8[i], v4[i], (u - first[i]) * unit, std::min(jobs[i].N, (e - first[i]) * unit));
        u = e;
      }
    });
  });
}

void gemv_forward(float* y, const float* x, const void* W, DType wdt, int64_t N, int64_t K, bool accumulate) {
  const GemvJob job{y, x, W, wdt, N, K, accumulate};
  gemv_batch(&job, 1);
}

void gemv_tiles64_layout(void* out, const void* W, int64_t K, int64_t N, size_t elem) {
  const char* src = static_cast<const char*>(W);
  char* dst = static_cast<char*>(out);
  for (int64_t n0 = 0; n0 < N; n0 += 64) {
    const int64_t w = std::min<int64_t>(64, N - n0);
    for (int64_t k = 0; k < K; k++)
      std::memcpy(dst + size_t(n0 * K + k * w) * elem, src + size_t(k * N + n0) * elem, size_t(w) * elem);
  }
}

void gemv_plain_forward(float* y, const float* x, const float* W, int64_t K, int64_t N, bool accumulate) {
  const int64_t tile = 64, ntile = (N + tile - 1) / tile;
  const int nt = team_threads();
  if (K * N < (1 << 15) || nt == 1) {
    for (int64_t t = 0; t < ntile; t++) cols_dot(y, x, W, DType::F32, K, N, t * tile, std::min(N, (t + 1) * tile), accumulate);
    return;
  }
  if (ntile >= 2 * nt) {  // tiles taken one at a time
    std::atomic<int64_t> next{0};
    team_run([&](int) {
      for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < ntile;)
        cols_dot(y, x, W, DType::F32, K, N, t * tile, std::min(N, (t + 1) * tile), accumulate);
    });
    return;
  }
  // Few column tiles (a LoRA's x @ w1 has N = 32..128): split the rows k instead, one partial
  // y per thread, then add the partials.
  thread_local std::vector<float> part;  // the caller's; workers see it through `pp`
  part.assign(size_t(nt) * N, 0.f);
  float* pp = part.data();
  team_run([&](int id) {
    const int64_t k0 = K * id / nt, k1 = K * (id + 1) / nt;
    for (int64_t t = 0; t < ntile; t++)
      cols_dot(pp + size_t(id) * N, x + k0, W + k0 * N, DType::F32, k1 - k0, N, t * tile, std::min(N, (t + 1) * tile), false);
  });
  for (int64_t j = 0; j < N; j++) {
    float s = accumulate ? y[j] : 0.f;
    for (int i = 0; i < nt; i++) s += pp[size_t(i) * N + j];
    y[j] = s;
  }
}

void linear_forward_any(float* out, const float* inp, const void* W, DType wdt, int64_t M, int64_t K,
                        int64_t N, bool accumulate) {
  if (row_invariant_products()) return linear_rows_invariant(out, inp, W, wdt, M, K, N, accumulate);
  if (M == 1) return gemv_forward(out, inp, W, wdt, N, K, accumulate);
  if (M <= gemm_rows_max_m(wdt) && gemm_rows_forward(out, inp, W, wdt, M, K, N, accumulate)) return;
  const float beta = accumulate ? 1.f : 0.f;
  if (wdt == DType::F32) {
    sgemm(false, true, int(M), int(N), int(K), 1.f, inp, int(K),
                static_cast<const float*>(W), int(K), beta, out, int(N));
    return;
  }
  if (wdt != DType::BF16 && wdt != DType::F16)
    fail("ops", "linear: weight dtype {} is not supported (fp32, bf16, fp16)", dtype_name(wdt));
  // bf16 weights past the few-rows kernel (prefill): bf16 x bf16 products, x rounded to bf16
  if (wdt == DType::BF16 && M > gemm_rows_max_m(wdt) && bf16_gemm(out, inp, static_cast<const uint16_t*>(W), M, N, K, accumulate))
    return;
  if (M < 4) {  // a few rows: one gemv each reads the weights M times but needs no scratch
    for (int64_t m = 0; m < M; m++) gemv_forward(out + m * N, inp + m * K, W, wdt, N, K, accumulate);
    return;
  }
  // Blocks of rows of W, each widened to fp32 into the thread's own panel (<= 512 KiB, stays in
  // L2) and multiplied by a single-threaded sgemm: one parallel region, W read once per call
  // (a batch of decode rows shares each weight read).
  const int64_t pn = std::min<int64_t>(N, std::max<int64_t>(16, (int64_t(1) << 17) / std::max<int64_t>(K, 1) / 16 * 16));
  const int64_t nblk = (N + pn - 1) / pn;
  const uint16_t* w = static_cast<const uint16_t*>(W);
#pragma omp parallel if (nblk > 1 && !omp_in_parallel())
  {
    thread_local std::vector<float> panel;  // this thread's (workers persist across calls)
    panel.resize(size_t(pn * K));
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < nblk; b++) {
      const int64_t n0 = b * pn, n = std::min(pn, N - n0);
      widen_rows(panel.data(), w + n0 * K, wdt, n * K);
      sgemm(false, true, M, n, K, 1.f, inp, K, panel.data(), K, beta, out + n0, N);
    }
  }
}

}  // namespace rwkv
