// sgemm.cpp — OpenBLAS sgemm split across the OpenMP threads (see sgemm.h).
#include "ops/cpu/sgemm.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>

extern "C" void openblas_set_num_threads(int);

namespace rwkv {

namespace {
void sgemm1(bool tA, bool tB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
            const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, int(M), int(N),
              int(K), alpha, A, int(lda), B, int(ldb), beta, C, int(ldc));
}
}  // namespace

void sgemm(bool tA, bool tB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  static const bool blas_single = (openblas_set_num_threads(1), true);  // once, before the first GEMM
  (void)blas_single;
  const int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
  // below ~1 MFLOP a hand-off costs more than it saves; a LoRA factor of a 16-row decode batch
  // (16 x 768 x 64, 1.5 MFLOP) is split (tests/test_sgemm.cpp sizes assume 2^19)
  if (nt == 1 || M * N * std::max<int64_t>(K, 1) < (int64_t(1) << 19)) {
    sgemm1(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const bool split_n = N >= M;
  const int64_t len = split_n ? N : M;
  // slices in multiples of 16 (whole SIMD tiles), at most one per thread
  const int64_t step = std::max<int64_t>(16, (len + nt - 1) / nt + 15) / 16 * 16;
  const int64_t nslice = (len + step - 1) / step;
#pragma omp parallel for schedule(static, 1)
  for (int64_t s = 0; s < nslice; s++) {
    const int64_t a = s * step, n = std::min(len, a + step) - a;
    if (split_n)  // C[:, a:a+n] = op(A) @ op(B)[:, a:a+n]
      sgemm1(tA, tB, M, n, K, alpha, A, lda, tB ? B + a * ldb : B + a, ldb, beta, C + a, ldc);
    else  // C[a:a+n, :] = op(A)[a:a+n, :] @ op(B)
      sgemm1(tA, tB, n, N, K, alpha, tA ? A + a : A + a * lda, lda, B, ldb, beta, C + a * ldc, ldc);
  }
}

}  // namespace rwkv
