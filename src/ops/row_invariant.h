// row_invariant.h — row-invariant products, a per-thread switch. While on, every matrix product
// of the forward ops (linear_forward_any, matmul_linear_forward, matmul_plain_forward and the
// decode GEMV paths, which then step aside) computes each output row with the same instruction
// sequence whatever the number of rows M, the row's place among them, or the thread count, so a
// row's numbers do not depend on the batch it rides in; WKV-7 keeps its per-token step at any T. By default the products pick a kernel by
// M (GEMV, few-row tiles, sgemm; sgemm also re-blocks by M) and each rounds differently.
// The engine turns it on for one forward call when EngineOptions::row_invariant is set
// (evaluation: the same numbers at any batch size); big batches then run slower than sgemm.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace rwkv {

bool row_invariant_products();  // on this thread

// Sets the switch for this thread until destroyed (restores the previous value).
class RowInvariantScope {
 public:
  explicit RowInvariantScope(bool on);
  ~RowInvariantScope();
  RowInvariantScope(const RowInvariantScope&) = delete;
  RowInvariantScope& operator=(const RowInvariantScope&) = delete;

 private:
  bool prev_;
};

// The row-invariant kernels (any M >= 1). out (M, N) = x (M, K) @ W^T, W (N, K) fp32/bf16/fp16:
// the few-row tiles of gemm_rows (a scalar loop where they do not apply).
void linear_rows_invariant(float* out, const float* x, const void* W, DType wdt, int64_t M, int64_t K,
                           int64_t N, bool accumulate);
// out (M, N) = x (M, K) @ W, W (K, N) fp32 (the LoRA factor layout): per row, a fused
// multiply-add over k in order, vectorised across n.
void plain_rows_invariant(float* out, const float* x, const float* W, int64_t M, int64_t K, int64_t N,
                          bool accumulate);

}  // namespace rwkv
