// gemv.h — matrix-vector and small-batch products with weights kept in their stored dtype
// (fp32 / bf16 / fp16, e.g. straight from an mmap'ed model file), fp32 compute. Decode at
// batch 1 is bound by reading the weights once: these stream each row once, SIMD (AVX-512 /
// AVX2 / scalar) and OpenMP over rows.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "ops/mm8.h"
#include "ops/q4.h"

namespace rwkv {

// y (N) = W (N, K) · x (K), W row-major (torch Linear layout); accumulate: y +=.
void gemv_forward(float* y, const float* x, const void* W, DType wdt, int64_t N, int64_t K,
                  bool accumulate = false);

// One product of gemv_batch: y (N) (+)= W (N, K) · x (K), W in dtype dt (fp32 / bf16 / fp16);
// i8: int8 weights (ops/mm8.h), q4: 4-bit weights (ops/q4.h) instead of W / dt.
struct GemvJob {
  float* y;
  const float* x;
  const void* W;
  DType dt;
  int64_t N, K;
  bool accumulate = false;
  const Mm8Weight* i8 = nullptr;
  const Q4Weight* q4 = nullptr;
};
// Independent products in one parallel region: their row blocks share one dynamic schedule, so
// a decode step pays one fork/join for several matrices. No job's y may be another's x.
void gemv_batch(const GemvJob* jobs, int n);

// y (N) = x (K) @ W (K, N), fp32 W row-major (the LoRA factor layout); accumulate: y +=.
// Column tiles of 64 (OpenMP over tiles when W is large); each tile streams W's rows once.
void gemv_plain_forward(float* y, const float* x, const float* W, int64_t K, int64_t N,
                        bool accumulate = false);
// out (M, N) = inp (M, K) @ W^T with W (N, K) in any float dtype; accumulate: out +=.
// M == 1 uses gemv_forward; a few rows (a batch of decode steps) use gemm_rows_forward, which
// reads W once without packing it; more rows: fp32 W uses sgemm directly; bf16 W uses bf16 x bf16
// products with inp rounded to bf16 where ops/cpu/bf16_gemm.h runs (oneDNN, AVX512-BF16 / AMX),
// else bf16/fp16 W is widened to fp32 one L2-sized panel of rows at a time per thread and
// multiplied with sgemm (inp exact). Every path up to gemm_rows_max_m rows keeps inp exact.
void linear_forward_any(float* out, const float* inp, const void* W, DType wdt, int64_t M,
                        int64_t K, int64_t N, bool accumulate = false);

}  // namespace rwkv
