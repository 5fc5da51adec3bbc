// bench_gemm_rows.cpp — the few-row GEMM on stored weights (ops/gemm_rows.h) against OpenBLAS
// sgemm on the same weights already in fp32 (what linear_forward_any used before; for bf16 the
// widening comes on top), at the projection shapes of an L12-D768 model, 2 threads by default.
// Prints GFLOP/s of both for M = 2 .. 128 rows: where gemm_rows stops winning sets gemm_rows_max_m().
//   bench_gemm_rows [threads]
#include <cstdlib>

#include "bench_util.h"
#include "core/threads.h"
#include "ops/gemm_rows.h"
#include "ops/cpu/blas_core.h"

using namespace rwkv;
using namespace rwkv::bench;

int main(int argc, char** argv) {
  rwkv::blas_core_startup(argv);  // OpenBLAS kernels chosen from the CPU features, as in rwkv
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 2);
  const int64_t shapes[][2] = {{768, 768}, {3072, 768}, {768, 3072}, {65536, 768}};  // (N, K)
  std::printf("| W (N x K) | dtype | M | gemm_rows GFLOP/s | sgemm (fp32 W) GFLOP/s |\n|---|---|---|---|---|\n");
  for (auto [N, K] : shapes) {
    std::vector<float> w32(size_t(N * K));
    std::mt19937 g(1);
    std::uniform_real_distribution<float> u(-1, 1);
    for (auto& v : w32) v = u(g);
    std::vector<uint16_t> w16(w32.size());
    for (size_t i = 0; i < w32.size(); i++) w16[i] = f32_to_bf16(w32[i]);
    for (int64_t M : {2, 4, 8, 16, 32, 64, 128}) {
      std::vector<float> x(size_t(M * K), 0.5f), y(size_t(M * N));
      const int reps = int(std::max<int64_t>(3, 2e9 / double(2 * M * N * K)));
      auto rate = [&](auto&& f) { return best_gflops(2.0 * M * N * K, reps, f); };
      double s = rate([&] { sgemm(false, true, M, N, K, 1.f, x.data(), K, w32.data(), K, 0.f, y.data(), N); });
      double f = rate([&] { gemm_rows_forward(y.data(), x.data(), w32.data(), DType::F32, M, K, N); });
      double b = rate([&] { gemm_rows_forward(y.data(), x.data(), w16.data(), DType::BF16, M, K, N); });
      std::printf("| %ld x %ld | fp32 | %ld | %.1f | %.1f |\n", long(N), long(K), long(M), f, s);
      std::printf("| %ld x %ld | bf16 | %ld | %.1f | |\n", long(N), long(K), long(M), b);
      std::fflush(stdout);
    }
  }
  return 0;
}
