// dequant_sgemm.h — the prefill path shared by the quantized matmuls (mm8, q4): out (M, N) [+]=
// inp (M, K) · W'ᵀ, with W' (N, K) widened to fp32 a panel of rows at a time (each panel about
// 512 KB, at least 16 rows) and each panel multiplied by sgemm on its own thread.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "ops/cpu/sgemm.h"

namespace rwkv {

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
