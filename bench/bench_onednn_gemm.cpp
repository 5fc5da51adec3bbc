// bench_onednn_gemm.cpp — would oneDNN do the CPU GEMMs better than OpenBLAS? A measurement only
// (oneDNN is not used by rwkv): y (M, N) = x (M, K) @ W^T with W (N, K) as stored, at the
// projection shapes of bench_gemm_rows (L12-D768) plus prefill-sized M, GFLOP/s of
//   - OpenBLAS sgemm through ops/cpu/sgemm.h (the product's path, split over the OpenMP threads),
//   - dnnl_sgemm (oneDNN's BLAS-like fp32 call, weights as stored),
//   - oneDNN matmul fp32, weights reordered once into the layout it picks (as a loader would),
//   - oneDNN matmul bf16 x bf16 -> fp32, weights reordered once; x converted to bf16 outside
//     the timing (the conversion would come on top).
// Built only when libdnnl is found (Debian: libdnnl-dev 2.6.3).   bench_onednn_gemm [threads]
// Seen on the 2-core AMD EPYC Zen 5 VM (busy, load 4-6), 1 thread, medians of 3 runs, GFLOP/s
// OpenBLAS Cooperlake / dnnl_sgemm / matmul fp32 / matmul bf16: 3072x768 M=16 37/46/127/218,
// M=128 81/96/118/208, M=512 92/97/97/204; 65536x768 M=128 83/105/115/259. With 2 threads the
// noise of the shared cores swamps the small shapes (bf16 6 to 800 between runs).
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdlib>

#include "bench_util.h"
#include "core/threads.h"
#include "ops/cpu/blas_core.h"

using namespace rwkv;
using namespace rwkv::bench;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

namespace {
// A matmul primitive y = x @ W^T for one (M, N, K) and dtype, its weights reordered once.
struct Matmul {
  dnnl::matmul prim;
  dnnl::memory x, w, y;
  Matmul(dnnl::engine& eng, dnnl::stream& s, dt type, int64_t M, int64_t N, int64_t K, const float* w32) {
    dnnl::memory::desc x_md({M, K}, type, tag::ab), w_any({K, N}, type, tag::any), y_md({M, N}, dt::f32, tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(x_md, w_any, y_md), eng);
    prim = dnnl::matmul(pd);
    // W (N, K) row-major is the (K, N) matrix in layout "ba": fp32 -> the primitive's type and layout
    dnnl::memory w_src({{K, N}, dt::f32, tag::ba}, eng, const_cast<float*>(w32));
    w = dnnl::memory(pd.weights_desc(), eng);
    dnnl::reorder(w_src, w).execute(s, w_src, w);
    x = dnnl::memory(pd.src_desc(), eng);
    y = dnnl::memory(pd.dst_desc(), eng);
    std::vector<float> x32(size_t(M * K), 0.5f);
    dnnl::memory x_src({{M, K}, dt::f32, tag::ab}, eng, x32.data());
    dnnl::reorder(x_src, x).execute(s, x_src, x);
    s.wait();
  }
  void run(dnnl::stream& s) {
    prim.execute(s, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}});
    s.wait();
  }
};
}  // namespace

int main(int argc, char** argv) {
  blas_core_startup(argv);
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  set_num_threads(threads);
  print_machine(threads);
  const dnnl_version_t* v = dnnl_version();
  std::printf("oneDNN %d.%d.%d (cpu runtime %s)\n", v->major, v->minor, v->patch,
              v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other");
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const int64_t shapes[][2] = {{768, 768}, {3072, 768}, {768, 3072}, {65536, 768}};  // (N, K)
  std::printf("| W (N x K) | M | OpenBLAS sgemm | dnnl_sgemm | oneDNN matmul fp32 | oneDNN matmul bf16 |\n"
              "|---|---|---|---|---|---|\n");
  for (auto [N, K] : shapes) {
    std::vector<float> w32(size_t(N * K));
    std::mt19937 g(1);
    std::uniform_real_distribution<float> u(-1, 1);
    for (auto& x : w32) x = u(g);
    for (int64_t M : {16, 64, 128, 512}) {
      std::vector<float> x(size_t(M * K), 0.5f), y(size_t(M * N));
      const int reps = int(std::max<int64_t>(3, int64_t(2e9 / double(2 * M * N * K))));
      auto rate = [&](auto&& f) { return best_gflops(2.0 * M * N * K, reps, f); };
      const double ob = rate([&] { sgemm(false, true, M, N, K, 1.f, x.data(), K, w32.data(), K, 0.f, y.data(), N); });
      const double ds = rate([&] { dnnl_sgemm('N', 'T', M, N, K, 1.f, x.data(), K, w32.data(), K, 0.f, y.data(), N); });
      Matmul f32(eng, s, dt::f32, M, N, K, w32.data()), b16(eng, s, dt::bf16, M, N, K, w32.data());
      const double mf = rate([&] { f32.run(s); }), mb = rate([&] { b16.run(s); });
      std::printf("| %ld x %ld | %ld | %.1f | %.1f | %.1f | %.1f |\n", long(N), long(K), long(M), ob, ds, mf, mb);
      std::fflush(stdout);
    }
  }
  return 0;
}
