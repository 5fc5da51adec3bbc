// bench_train56_cpu.cpp — CPU training throughput of one forward+backward step, RWKV-5.2
// (x052), RWKV-6 (x060) and RWKV-7 (x070) side by side at the same size (fp32, OpenMP +
// OpenBLAS): tokens/s. Default L12-D768 V65536 ctx 512 B 1 on 2 threads.
// Flags: --n_layer --n_embd --vocab_size --ctx_len --micro_bsz --steps --threads.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/threads.h"
#include "model/config.h"
#include "model/rwkv56_train.h"
#include "model/rwkv7_params.h"
#include "model/rwkv7_train.h"
#include "ops/cpu/blas_core.h"

using namespace rwkv;

namespace {

struct BenchShape {
  int L = 12, C = 768, V = 65536, T = 512, B = 1, steps = 2;
};

void randomize(std::vector<float>& data, std::mt19937& g) {
  std::normal_distribution<float> nd(0.f, 0.02f);
  for (auto& x : data) x = nd(g);
}

template <typename F>
void timed(const char* name, const BenchShape& s, double params, F&& step) {
  float loss = step();  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < s.steps; i++) loss = step();
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s L%d-D%d V%d ctx %d B %d threads %d params %.1fM: %.0f tokens/s (%.2f s/step, loss %.3f)\n", name,
              s.L, s.C, s.V, s.T, s.B, num_threads(), params / 1e6, double(s.steps) * s.B * s.T / sec, sec / s.steps,
              loss);
  std::fflush(stdout);
}

void run56(Arch arch, const BenchShape& s, const std::vector<int32_t>& tok) {
  ModelConfig c = rwkv56_config(arch, s.L, s.C, s.V, 64, s.C, s.C * 7 / 2 / 32 * 32);
  Rwkv56Params p = Rwkv56Params::zeros(c, 8), g;
  std::mt19937 gen(1);
  randomize(p.data, gen);
  for (auto& L : p.layers)
    for (float* w : {L.ln1_w, L.ln2_w, L.ln0_w})
      if (w) std::fill(w, w + s.C, 1.f);
  Rwkv56TrainScratch scratch;
  timed(arch_name(arch), s, double(p.data.size()),
        [&] { return rwkv56_forward_backward(p, tok.data(), s.B, s.T, g, scratch); });
}

void run7(const BenchShape& s, const std::vector<int32_t>& tok) {
  Rwkv7Params p = Rwkv7Params::zeros(x070_config(s.L, s.C, s.V)), g;
  std::mt19937 gen(1);
  randomize(p.data, gen);
  for (auto& L : p.layers)
    for (float* w : {L.ln1_w, L.ln2_w, L.ln_x_w, L.ln0_w})
      if (w) std::fill(w, w + s.C, 1.f);
  Rwkv7TrainScratch scratch;
  timed("x070", s, double(p.numel()), [&] { return rwkv7_forward_backward(p, tok.data(), s.B, s.T, g, scratch, false); });
}

}  // namespace

int main(int argc, char** argv) {
  rwkv::blas_core_startup(argv);  // OpenBLAS kernels chosen from the CPU features, as in rwkv
  BenchShape s;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (k == "--n_layer") s.L = v;
    else if (k == "--n_embd") s.C = v;
    else if (k == "--vocab_size") s.V = v;
    else if (k == "--ctx_len") s.T = v;
    else if (k == "--micro_bsz") s.B = v;
    else if (k == "--steps") s.steps = v;
    else if (k == "--threads") threads = v;
    else return std::fprintf(stderr, "unknown flag %s\n", k.c_str()), 2;
  }
  set_num_threads(threads);
  std::vector<int32_t> tok(size_t(s.B) * (s.T + 1));
  std::mt19937 g(2);
  for (auto& t : tok) t = int32_t(g() % uint32_t(s.V));
  run56(Arch::RWKV5_2, s, tok);
  run56(Arch::RWKV6, s, tok);
  run7(s, tok);
  return 0;
}
