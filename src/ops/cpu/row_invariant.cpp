// row_invariant.cpp — the per-thread switch and the row-invariant kernels (see ops/row_invariant.h).
#include "ops/row_invariant.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ops/gemm_rows.h"

namespace rwkv {

namespace {
thread_local bool g_row_invariant = false;

float weight_at(const void* W, DType wdt, int64_t i) {
  switch (wdt) {
    case DType::F32: return static_cast<const float*>(W)[i];
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(W)[i]);
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(W)[i]);
    default: fail("ops", "linear: weight dtype {} is not supported (fp32, bf16, fp16)", dtype_name(wdt));
  }
}
}  // namespace

bool row_invariant_products() { return g_row_invariant; }
RowInvariantScope::RowInvariantScope(bool on) : prev_(g_row_invariant) { g_row_invariant = on; }
RowInvariantScope::~RowInvariantScope() { g_row_invariant = prev_; }

void linear_rows_invariant(float* out, const float* x, const void* W, DType wdt, int64_t M, int64_t K,
                           int64_t N, bool accumulate) {
  if (gemm_rows_forward(out, x, W, wdt, M, K, N, accumulate)) return;
  // No SIMD kernel for this shape / CPU: one dot per element, k in order.
  if (wdt != DType::F32 && wdt != DType::BF16 && wdt != DType::F16) weight_at(W, wdt, 0);  // throws
#pragma omp parallel for schedule(static) if (M * N * K > (1 << 16) && !omp_in_parallel())
  for (int64_t n = 0; n < N; n++)
    for (int64_t m = 0; m < M; m++) {
      float s = 0.f;
      for (int64_t k = 0; k < K; k++) s = std::fma(x[m * K + k], weight_at(W, wdt, n * K + k), s);
      float& o = out[m * N + n];
      o = accumulate ? o + s : s;
    }
}

void plain_rows_invariant(float* out, const float* x, const float* W, int64_t M, int64_t K, int64_t N,
                          bool accumulate) {
  constexpr int64_t kCols = 64;  // columns per task: 4 AVX-512 accumulators
  const int64_t nblk = (N + kCols - 1) / kCols;
#pragma omp parallel for schedule(static) if (nblk > 1 && M * N * K > (1 << 16) && !omp_in_parallel())
  for (int64_t b = 0; b < nblk; b++) {
    const int64_t n0 = b * kCols, nc = std::min(kCols, N - n0);
    for (int64_t m = 0; m < M; m++) {
      float acc[kCols] = {};
      const float* xr = x + m * K;
      for (int64_t k = 0; k < K; k++) {
        const float xv = xr[k];
        const float* wr = W + k * N + n0;
#pragma omp simd
        for (int64_t j = 0; j < nc; j++) acc[j] = std::fma(xv, wr[j], acc[j]);
      }
      float* o = out + m * N + n0;
      for (int64_t j = 0; j < nc; j++) o[j] = accumulate ? o[j] + acc[j] : acc[j];
    }
  }
}

}  // namespace rwkv
