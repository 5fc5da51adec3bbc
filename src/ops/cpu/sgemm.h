// sgemm.h — the one way CPU code multiplies fp32 matrices: OpenBLAS sgemm run on the OpenMP
// thread pool. OpenBLAS itself is kept at one thread (core/threads.cpp) so that a single pool
// owns the cores: two pools (OpenMP for our loops, OpenBLAS's for GEMMs) on few cores left one
// spinning while the other worked, and sleeping waiters cost a wake-up per parallel region.
#pragma once
#include <cstdint>

namespace rwkv {

// Row-major C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * C, as cblas_sgemm with
// CblasRowMajor. op(A) = A (M, K) or A^T with A (K, M); op(B) = B (K, N) or B^T with B (N, K).
// The larger of M and N is split into one slice per thread; inside a parallel region, or for a
// small product, it runs on the calling thread.
void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace rwkv
