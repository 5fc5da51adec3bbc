// gemv.h — matrix-vector and small-batch products with weights kept in their stored dtype
// (fp32 / bf16 / fp16, e.g. straight from an mmap'ed model file), fp32 compute. Decode at
// batch 1 is bound by reading the weights once: these stream each row once, SIMD (AVX-512 /
// AVX2 / scalar) and OpenMP over rows.
#pragma once
#include <cstdint>
#include <optional>

#include "core/dtype.h"
#include "ops/activation.h"
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
  // W is x's side first, (K, N), in column tiles of 64 (gemv_tiles64_layout): for a short K (a
  // LoRA's second factor, K = 32..128) each tile is one contiguous run read once with no
  // per-output reduction. fp32 / bf16 / fp16.
  bool tiles64 = false;
};
// A LoRA of one token, x -> first -> act -> second: h (D) = first (second.x must be first.y),
// act applied to h in place when given, then second.y = bias (when given; second.accumulate
// then adds the product to it) and y (N) (+)= second. Float factors only.
struct GemvLora {
  GemvJob first, second;
  std::optional<Act> act;
  const float* bias = nullptr;
};
// Independent products in one parallel region: their row blocks share one dynamic schedule, so
// a decode step pays one fork/join for several matrices; each LoRA runs whole on one thread
// (taken first: its two products depend on each other) next to those blocks, instead of two
// more regions around an activation. No job's y may be another's x (a LoRA's own h aside).
void gemv_batch(const GemvJob* jobs, int n, const GemvLora* loras = nullptr, int nl = 0);

// W (K, N) row-major -> out in GemvJob::tiles64's layout: tile t (columns [64t, 64t + w), w =
// min(64, N - 64t)) at element 64t * K, its K rows of w values each. Elements of `elem` bytes.
void gemv_tiles64_layout(void* out, const void* W, int64_t K, int64_t N, size_t elem);

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
