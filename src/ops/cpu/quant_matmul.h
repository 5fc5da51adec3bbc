// quant_matmul.h — the two loops shared by the quantized matmuls (mm8, q4), out (M, N) [+]=
// inp (M, K) · W'ᵀ for a quantized W' (N, K):
//   few rows (decode, batched decode): W' rows split over the threads in contiguous parts, each 4-row
//     group applied to every x row while it is in L1 (the same 4-row groups for any M, so a row's
//     result does not depend on the batch);
//   prefill: W' widened to fp32 a panel of rows at a time (about 512 KB, at least 16 rows), each
//     panel multiplied by sgemm on its own thread;
//   prefill of a bf16 stage (bf16i8 / bf16q4) on a CPU with the bf16 GEMM (ops/cpu/bf16_gemm.h):
//     x rounded to bf16 once, W' widened and rounded to bf16 a panel of up to about 2 MB at a time
//     (its rows across the threads), each panel multiplied by the bf16 GEMM on all threads.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/steal_ranges.h"
#include "core/team.h"
#include "ops/cast.h"
#include "ops/cpu/bf16_gemm.h"
#include "ops/cpu/sgemm.h"

namespace rwkv {

// 4-row groups per piece of a decode product's split (core/steal_ranges.h): about 16 KB of weights.
inline int64_t decode_piece_groups(int64_t row_bytes) { return std::max<int64_t>(1, (16 << 10) / (4 * row_bytes)); }

// rows(m, g, g1) computes out[m, g:g1] for x row m and W' rows [g, g1) (at most 4). The 4-row
// groups split over the threads as contiguous parts with stealing (core/steal_ranges.h).
template <class Rows>
void quant_rows_block_major(int64_t M, int64_t N, int64_t K, int64_t row_bytes, bool par, Rows rows) {
  const int64_t groups = (N + 3) / 4;
  auto run = [&](int64_t u0, int64_t u1) {
    for (int64_t g = 4 * u0; g < std::min(N, 4 * u1); g += 4) {
      const int64_t g1 = std::min(N, g + 4);
      for (int64_t m = 0; m < M; m++) rows(m, g, g1);
    }
  };
  const int nt = team_threads();
  if (!par || groups < 2 || M * N * K <= (1 << 15) || nt == 1) return run(0, groups);
  StealRanges split(groups, nt);
  team_run([&](int) { split.run(decode_piece_groups(row_bytes), run); });
}

// dequant(float* panel, int64_t n0, int64_t n1) writes rows [n0, n1) of W' as (n1 - n0, K) fp32.
template <class Dequant>
void dequant_panels_sgemm(float* out, const float* inp, int64_t M, int64_t N, int64_t K, bool accumulate, bool par,
                          Dequant dequant) {
  const float beta = accumulate ? 1.f : 0.f;
  const int64_t pn = std::min<int64_t>(N, std::max<int64_t>(16, (int64_t(1) << 17) / std::max<int64_t>(K, 1) / 16 * 16));
  const int64_t np = (N + pn - 1) / pn;
#pragma omp parallel if (par && np > 1)
  {
    thread_local std::vector<float> panel;
    panel.resize(size_t(pn * K));
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < np; b++) {
      const int64_t n0 = b * pn, n = std::min(pn, N - n0);
      dequant(panel.data(), n0, n0 + n);
      sgemm(false, true, M, n, K, 1.f, inp, K, panel.data(), K, beta, out + n0, N);
    }
  }
}

// The bf16 stage's prefill (see the header comment); false, out untouched, where the bf16 GEMM
// does not run (the caller then takes dequant_panels_sgemm). dequant as there.
template <class Dequant>
bool dequant_panels_bf16(float* out, const float* inp, int64_t M, int64_t N, int64_t K, bool accumulate, bool par,
                         Dequant dequant) {
  if (!bf16_gemm_available()) return false;
  thread_local std::vector<uint16_t> xb, panel;  // (M, K) bf16(x); (pn, K) bf16(W' rows)
  xb.resize(size_t(M * K));
  cast_f32_bf16_cpu(inp, xb.data(), M * K);
  // panels of at most about 2 MB of bf16, of equal rows (a multiple of 16; the last a few fewer)
  const int64_t most = std::max<int64_t>(64, (int64_t(1) << 20) / std::max<int64_t>(K, 1));
  const int64_t np = (N + most - 1) / most;
  const int64_t pn = std::min(N, ((N + np - 1) / np + 15) / 16 * 16);
  panel.resize(size_t(pn * K));
  uint16_t* pb = panel.data();
  for (int64_t n0 = 0; n0 < N; n0 += pn) {
    const int64_t n = std::min(pn, N - n0);
#pragma omp parallel if (par && n > 4)
    {
      thread_local std::vector<float> row;  // (K) one row of W' in fp32
      row.resize(size_t(K));
#pragma omp for schedule(static)
      for (int64_t r = 0; r < n; r++) {
        dequant(row.data(), n0 + r, n0 + r + 1);
        cast_f32_bf16_cpu(row.data(), pb + r * K, K);
      }
    }
    if (bf16_gemm_bf16x(out + n0, N, xb.data(), pb, M, n, K, accumulate)) continue;
    if (n0 == 0) return false;  // refused from the start: the fp32 path takes the whole product
    // refused for a later (narrower) panel only: that panel on sgemm, W' as rounded, x exact
    thread_local std::vector<float> wide;
    wide.resize(size_t(n * K));
    for (int64_t i = 0; i < n * K; i++) wide[size_t(i)] = bf16_to_f32(pb[i]);
    sgemm(false, true, M, n, K, 1.f, inp, K, wide.data(), K, accumulate ? 1.f : 0.f, out + n0, N);
  }
  return true;
}

}  // namespace rwkv
