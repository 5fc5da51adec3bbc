// test_sgemm.cpp — ops/cpu/sgemm.h (OpenBLAS sgemm split over the OpenMP threads) against an
// fp64 reference: every transpose combination, splits along M and along N with ragged last
// slices, alpha/beta, leading dimensions wider than the matrix, and calls from a parallel region.
#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

#include "ops/cpu/sgemm.h"
#include "test_util.h"

using namespace rwkv;

namespace {
void check(bool tA, bool tB, int64_t M, int64_t N, int64_t K, bool in_parallel) {
  std::mt19937 g(unsigned(M * 131 + N * 17 + K + tA * 2 + tB));
  std::normal_distribution<float> nd(0.f, 1.f);
  const int64_t lda = (tA ? M : K) + 3, ldb = (tB ? K : N) + 5, ldc = N + 2;
  std::vector<float> A((tA ? K : M) * lda), B((tB ? N : K) * ldb), C(M * ldc), ref;
  for (auto* v : {&A, &B, &C})
    for (float& x : *v) x = nd(g);
  const float alpha = 0.75f, beta = -0.5f;
  ref = C;
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < N; n++) {
      double s = 0;
      for (int64_t k = 0; k < K; k++)
        s += double(tA ? A[k * lda + m] : A[m * lda + k]) * (tB ? B[n * ldb + k] : B[k * ldb + n]);
      ref[m * ldc + n] = float(alpha * s + beta * ref[m * ldc + n]);
    }
  if (in_parallel) {
#pragma omp parallel num_threads(2)
#pragma omp single
    sgemm(tA, tB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  } else {
    sgemm(tA, tB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  }
  test::Tol t{test::tol::fp32_gemv.abs * std::sqrt(double(K)), test::tol::fp32_gemv.rel};
  EXPECT_LE(test::tol_excess(C, ref, t), 0.0)
      << "tA " << tA << " tB " << tB << " M " << M << " N " << N << " K " << K << " in_parallel " << in_parallel;
}
}  // namespace

TEST(Sgemm, SplitsMatchReferenceEveryTransposeAndShape) {
  for (bool tA : {false, true})
    for (bool tB : {false, true}) {
      check(tA, tB, 300, 70, 129, false);   // split along M, ragged
      check(tA, tB, 40, 517, 128, false);   // split along N, ragged
      check(tA, tB, 5, 6, 7, false);        // too small to split
      check(tA, tB, 200, 130, 90, true);    // inside a parallel region: one thread
    }
}
