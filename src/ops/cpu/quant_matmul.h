// quant_matmul.h — the two loops shared by the quantized matmuls (mm8, q4), out (M, N) [+]=
// inp (M, K) · W'ᵀ for a quantized W' (N, K):
//   few rows (decode, batched decode): W' rows in blocks of 64 across threads, each 4-row group
//     applied to every x row while it is in L1 (the same 4-row groups for any M, so a row's result
//     does not depend on the batch);
//   prefill: W' widened to fp32 a panel of rows at a time (about 512 KB, at least 16 rows), each
//     panel multiplied by sgemm on its own thread.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "ops/cpu/sgemm.h"

namespace rwkv {

// rows(m, g, g1) computes out[m, g:g1] for x row m and W' rows [g, g1) (at most 4).
template <class Rows>
void quant_rows_block_major(int64_t M, int64_t N, int64_t K, bool par, Rows rows) {
  constexpr int64_t kBlock = 64;  // W' rows per task, a multiple of 4
  const int64_t nblk = (N + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic, 1) if (par && nblk > 1 && M * N * K > (1 << 15))
  for (int64_t b = 0; b < nblk; b++) {
    const int64_t r0 = b * kBlock, r1 = std::min(N, r0 + kBlock);
    for (int64_t g = r0; g < r1; g += 4) {
      const int64_t g1 = std::min(r1, g + 4);
      for (int64_t m = 0; m < M; m++) rows(m, g, g1);
    }
  }
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

}  // namespace rwkv
