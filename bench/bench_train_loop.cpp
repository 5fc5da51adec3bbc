// bench_train_loop.cpp — CPU training throughput of the whole step (forward + backward +
// grad-norm clip + AdamW) in tokens/s, for the demo trajectory shape (L4-D256-V256, ctx 128,
// bsz 8) and for L12-D768-V65536 ctx 512 (bsz 1), with the thread count and BLAS named.
// Weights are random with the official shapes (timing does not depend on their values).
// Usage: bench_train_loop [steps=5] [threads=0 (all)] [grad_cp=0] [big=1]
#include <chrono>
#include <cstdio>
#include <random>

#include <fmt/format.h>
#include <omp.h>

#include "core/threads.h"
#include "train/adamw.h"
#include "train/train_args.h"
#include "train/train_model.h"
#include "ops/cpu/blas_core.h"

extern "C" char* openblas_get_config(void);

using namespace rwkv;
using namespace rwkv::train;

static void bench(const char* label, TrainArgs a, int steps, bool grad_cp) {
  a.data_type = "binidx", a.my_exit_tokens = 1, a.magic_prime = 0;
  a.finalize();
  ModelBackend be = rwkv7_backend();
  StateDict sd;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.f, 0.02f);
  for (auto& [name, shape] : be.shapes(a)) {
    Tensor t = Tensor::empty(DType::F32, shape);
    for (int64_t i = 0; i < t.numel(); i++) t.ptr<float>()[i] = nd(rng);
    sd.set(name, t);
  }
  auto model = be.build(sd, a);
  AdamWConfig oc;
  oc.weight_decay = 0.001;
  AdamW opt(model->slots(), model->numel(), oc);
  const int B = int(a.micro_bsz), T = int(a.ctx_len);
  std::vector<int32_t> tok(size_t(B) * (T + 1));
  for (auto& t : tok) t = int32_t(rng() % a.vocab_size);
  double best = 0, total = 0;
  for (int s = 0; s <= steps; s++) {
    auto t0 = std::chrono::steady_clock::now();
    model->forward_backward(tok.data(), B, T, grad_cp);
    double gn = grad_norm(model->grads(), model->numel());
    clip_grad_norm(model->grads(), model->numel(), gn, 1.0);
    opt.step(model->params(), model->grads(), 1e-4);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double tps = B * T / dt;
    if (s > 0) total += dt, best = std::max(best, tps);  // step 0 warms up (allocations)
    fmt::print("  {} step {}: {:.3f} s  {:.0f} tok/s\n", label, s, dt, tps);
  }
  fmt::print("{}: {} params, B={} T={}, grad_cp={}: mean {:.0f} tok/s, best {:.0f} tok/s over {} steps\n\n", label,
             model->numel(), B, T, int(grad_cp), steps * B * T / total, best, steps);
}

int main(int argc, char** argv) {
  rwkv::blas_core_startup(argv);  // OpenBLAS kernels chosen from the CPU features, as in rwkv
  int steps = argc > 1 ? std::atoi(argv[1]) : 5;
  int threads = argc > 2 ? std::atoi(argv[2]) : 0;
  bool grad_cp = argc > 3 && std::atoi(argv[3]) != 0;
  bool big = argc > 4 ? std::atoi(argv[4]) != 0 : true;
  set_num_threads(threads);
  fmt::print("threads: {} (OpenMP max {}), BLAS: {}\n\n", num_threads(), omp_get_max_threads(), openblas_get_config());
  try {
    TrainArgs demo;
    demo.n_layer = 4, demo.n_embd = 256, demo.vocab_size = 256, demo.ctx_len = 128, demo.micro_bsz = 8;
    bench("L4-D256-V256 ctx128 bsz8", demo, steps, grad_cp);
    if (big) {
      TrainArgs l12;
      l12.n_layer = 12, l12.n_embd = 768, l12.vocab_size = 65536, l12.ctx_len = 512, l12.micro_bsz = 1;
      bench("L12-D768-V65536 ctx512 bsz1", l12, std::max(1, steps / 2), grad_cp);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_train_loop: {}\n", e.what());
    return 1;
  }
  return 0;
}
