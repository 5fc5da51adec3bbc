// gemm_rows.h — out (M, N) = x (M, K) @ W^T for a FEW rows of x (a batch of decode steps),
// with W (N, K) read in place in its stored dtype (fp32 / bf16 / fp16, e.g. from the model
// file's mmap). A general GEMM packs (copies) W on every call, which costs more than the
// arithmetic when M is small; here each 4-row tile of W is loaded once from memory and reused
// from L1 for every x row, so the weights are read once per call whatever M is. fp32 compute.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace rwkv {

// Rows of x up to which gemm_rows_forward beats sgemm (linear_forward_any uses it), measured by
// bench/bench_gemm_rows on a 2-core AMD EPYC: fp32 W up to 32 rows; bf16/fp16 W, which sgemm
// can only take after widening, up to 64.
inline int64_t gemm_rows_max_m(DType wdt) { return wdt == DType::F32 ? 32 : 64; }

// Returns false (and does nothing) where this CPU has no kernel for it (no AVX-512 / AVX2, or
// K not a multiple of 16); the caller then uses sgemm. accumulate: out +=.
bool gemm_rows_forward(float* out, const float* x, const void* W, DType wdt, int64_t M, int64_t K, int64_t N,
                       bool accumulate = false);

}  // namespace rwkv
