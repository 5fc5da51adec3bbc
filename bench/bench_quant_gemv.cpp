// bench_quant_gemv.cpp — the decode GEMV (one token, gemv_batch) on bf16, int8 (ops/mm8.h) and q4
// (ops/q4.h) weights at the projection shapes of an L12-D768 V65536 model: weight GB/s read, best
// of several passes (the machine is shared). Two regimes: the weights streamed from DRAM (each
// shape, cold), and a hot one where a 256-row slice stays in L2, which measures the kernel's compute
// rate alone (what bounds decode once it exceeds DRAM's), also without the preparation of x.
//   bench_quant_gemv [threads 2] [passes 7]
#include <cstdlib>

#include "bench_util.h"
#include "core/threads.h"
#include "ops/gemv.h"
#include "ops/mm8.h"
#include "ops/q4.h"
#include "ops/cpu/blas_core.h"

using namespace rwkv;
using namespace rwkv::bench;

namespace {

struct Quantized {  // one matrix in the three forms
  int64_t N, K;
  std::vector<uint16_t> bf;
  std::vector<uint8_t> q8;
  std::vector<float> mx, rx, my, ry;
  std::vector<uint8_t> q8g;      // int8 q in the weight store's 4-row groups
  std::vector<uint8_t> q4, q4p;  // stored, packed
  std::vector<uint16_t> d4, m4;
  Mm8Weight w8;
  Q4Weight w4;
  Quantized(int64_t n, int64_t k, uint32_t seed) : N(n), K(k) {
    std::vector<float> w(size_t(N * K));
    std::mt19937 g(seed);
    std::normal_distribution<float> u(0.f, 0.05f);
    for (auto& v : w) v = u(g);
    bf.resize(w.size());
    for (size_t i = 0; i < w.size(); i++) bf[i] = f32_to_bf16(w[i]);
    q8.resize(w.size()), mx.resize(size_t(N)), rx.resize(size_t(N)), my.resize(size_t(K)), ry.resize(size_t(K));
    mm8_quantize(q8.data(), mx.data(), rx.data(), my.data(), ry.data(), w.data(), N, K);
    q8g.resize(q8.size());
    mm8_group_rows(q8g.data(), q8.data(), N, K);
    w8 = {q8g.data(), mx.data(), rx.data(), my.data(), ry.data(), N, K};
    w8.grouped = true;
    q4.resize(w.size() / 2), d4.resize(w.size() / 32), m4.resize(w.size() / 32);
    q4_quantize(q4.data(), d4.data(), m4.data(), w.data(), N, K);
    q4p.resize(size_t(N * q4_row_bytes(K)));
    q4_pack(q4p.data(), q4.data(), d4.data(), m4.data(), N, K);
    w4 = {q4p.data(), N, K};
  }
  double bytes(int kind) const {  // 0 bf16, 1 int8, 2 q4
    if (kind == 0) return 2.0 * N * K;
    if (kind == 1) return double(N * K) + 8.0 * (N + K);
    return 0.625 * N * K;
  }
  GemvJob job(int kind, float* y, const float* x, int64_t rows) const {
    GemvJob j{y, x, bf.data(), DType::BF16, rows, K};
    if (kind == 1) j.i8 = &w8;
    if (kind == 2) j.q4 = &w4;
    return j;
  }
};

}  // namespace

int main(int argc, char** argv) {
  rwkv::blas_core_startup(argv);  // OpenBLAS kernels chosen from the CPU features, as in rwkv
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2, passes = argc > 2 ? std::atoi(argv[2]) : 7;
  set_num_threads(threads);
  const int64_t shapes[][2] = {{768, 768}, {3072, 768}, {768, 3072}, {65536, 768}};  // (N, K)
  std::vector<Quantized> ms;
  for (auto [N, K] : shapes) ms.emplace_back(N, K, uint32_t(N + K));
  std::vector<float> x(4096), y(65536);
  std::mt19937 g(7);
  std::normal_distribution<float> u(0.f, 1.f);
  for (auto& v : x) v = u(g);
  const char* names[] = {"bf16", "int8", "q4"};
  std::printf("%d threads, best of %d passes (GB/s of weights read)\n", threads, passes);
  // DRAM: cycle through every shape (the four together are 112 MB of bf16, more than any cache).
  for (int kind = 0; kind < 3; kind++) {
    std::printf("%-5s", names[kind]);
    for (const Quantized& m : ms) {
      double best = 0;
      for (int p = 0; p < passes; p++) {
        // evict: touch the other matrices first
        for (const Quantized& o : ms)
          if (&o != &m) {
            GemvJob j = o.job(kind, y.data(), x.data(), o.N);
            gemv_batch(&j, 1);
          }
        GemvJob j = m.job(kind, y.data(), x.data(), m.N);
        const int reps = m.N * m.K > (1 << 24) ? 1 : 4;  // one 50 MB pass, or 4 passes of a smaller one
        auto t0 = Clock::now();
        for (int r = 0; r < reps; r++) gemv_batch(&j, 1);
        best = std::max(best, reps * m.bytes(kind) / secs(t0));
      }
      std::printf("  %ldx%ld %6.1f", long(m.N), long(m.K), best / 1e9);
    }
    // Hot: 256 rows of the 3072x768 matrix (q4 48 KB .. bf16 384 KB), repeated.
    const Quantized& m = ms[1];
    GemvJob j = m.job(kind, y.data(), x.data(), 256);
    double best = 0;
    for (int p = 0; p < passes; p++) {
      auto t0 = Clock::now();
      for (int r = 0; r < 2000; r++) gemv_batch(&j, 1);
      best = std::max(best, 2000 * m.bytes(kind) * 256 / m.N / secs(t0));
    }
    std::printf("  | hot 256x768 %6.1f", best / 1e9);
    // The same rows with x prepared once (int8 / q4): the row kernel alone, on this thread.
    if (kind > 0) {
      std::vector<float> buf(mm8_prep_floats(m.K) + q4_prep_bytes(m.K));
      Mm8Vec v8;
      Q4Vec v4;
      if (kind == 1) mm8_prepare(v8, buf.data(), x.data(), m.w8);
      else q4_prepare(v4, buf.data(), x.data(), m.K);
      double kb = 0;
      for (int p = 0; p < passes; p++) {
        auto t0 = Clock::now();
        for (int r = 0; r < 2000; r++) {
          if (kind == 1) mm8_rows(y.data(), v8, m.w8, 0, 256, false);
          else q4_rows(y.data(), v4, m.w4, 0, 256, false);
        }
        kb = std::max(kb, 2000 * m.bytes(kind) * 256 / m.N / secs(t0));
      }
      // and the preparation of x alone (per call, ns)
      double tp = 1e30;
      for (int p = 0; p < passes; p++) {
        auto t0 = Clock::now();
        for (int r = 0; r < 2000; r++) {
          if (kind == 1) mm8_prepare(v8, buf.data(), x.data(), m.w8);
          else q4_prepare(v4, buf.data(), x.data(), m.K);
        }
        tp = std::min(tp, secs(t0) / 2000);
      }
      std::printf(", rows alone %6.1f, prepare x (K %ld) %.0f ns", kb / 1e9, long(m.K), tp * 1e9);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
