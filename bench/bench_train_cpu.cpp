// bench_train_cpu.cpp — CPU training throughput of the RWKV-7 forward+backward
// (rwkv7_forward_backward: OpenMP + OpenBLAS sgemm, fp32): tokens/s and peak RSS.
// Default: the trajectory shape (L4-D256 V256, ctx 128, B 8) and L12-D768 V65536 ctx 512.
// Flags: --n_layer --n_embd --vocab_size --ctx_len --micro_bsz --steps --grad_cp 0|1 --threads N
// (any flag given runs that one configuration only).
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/threads.h"
#include "model/rwkv7_params.h"
#include "model/rwkv7_train.h"
#include "ops/cpu/blas_core.h"

using namespace rwkv;

namespace {

struct BenchShape {
  int L, C, V, T, B, steps;
  bool cp;
};

ModelConfig make_config(const BenchShape& s) {
  ModelConfig c;
  c.n_layer = s.L;
  c.n_embd = s.C;
  c.vocab_size = s.V;
  c.head_size = 64;
  c.n_head = s.C / 64;
  c.dim_att = s.C;
  c.dim_ffn = s.C * 4;
  auto lora = [&](double mult) {  // the official suggestion: max(32, round(mult*sqrt(C)/32)*32)
    int r = int(std::nearbyint(mult * std::sqrt(double(s.C)) / 32.0)) * 32;
    return r < 32 ? 32 : r;
  };
  c.d_decay = lora(2.5);
  c.d_aaa = lora(2.5);
  c.d_mv = lora(1.7);
  c.d_gate = lora(5.0);
  return c;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

void run(const BenchShape& s) {
  const ModelConfig c = make_config(s);
  Rwkv7Params p = Rwkv7Params::zeros(c);
  std::mt19937 g(1);
  std::normal_distribution<float> nd(0.f, 0.02f);
  for (auto& x : p.data) x = nd(g);
  for (auto& L : p.layers)
    for (float* w : {L.ln1_w, L.ln2_w, L.ln_x_w, L.ln0_w})
      if (w)
        for (int i = 0; i < s.C; i++) w[i] = 1.f;
  for (int i = 0; i < s.C; i++) p.ln_out_w[i] = 1.f;
  std::vector<int32_t> tok(size_t(s.B) * (s.T + 1));
  for (auto& t : tok) t = int32_t(g() % s.V);
  Rwkv7Params grads;
  Rwkv7TrainScratch scratch;
  std::printf("L%d-D%d V%d ctx %d B %d grad_cp %d threads %d params %.1fM\n", s.L, s.C, s.V, s.T,
              s.B, int(s.cp), num_threads(), double(p.numel()) / 1e6);
  float loss = rwkv7_forward_backward(p, tok.data(), s.B, s.T, grads, scratch, s.cp);  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < s.steps; i++)
    loss = rwkv7_forward_backward(p, tok.data(), s.B, s.T, grads, scratch, s.cp);
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double tps = double(s.steps) * s.B * s.T / sec;
  std::printf("  %d steps in %.2f s: %.0f tokens/s, %.3f s/step, loss %.4f, scratch peak %.1f MiB, "
              "peak RSS %.1f MiB\n",
              s.steps, sec, tps, sec / s.steps, loss, double(scratch.peak_bytes()) / (1 << 20),
              peak_rss_mib());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  rwkv::blas_core_startup(argv);  // OpenBLAS kernels chosen from the CPU features, as in rwkv
  BenchShape one{4, 256, 256, 128, 8, 5, false};
  bool custom = false;
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    custom = true;
    if (k == "--n_layer") one.L = v;
    else if (k == "--n_embd") one.C = v;
    else if (k == "--vocab_size") one.V = v;
    else if (k == "--ctx_len") one.T = v;
    else if (k == "--micro_bsz") one.B = v;
    else if (k == "--steps") one.steps = v;
    else if (k == "--grad_cp") one.cp = v != 0;
    else if (k == "--threads") { threads = v; custom = argc > 3; }
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  set_num_threads(threads);
  if (custom) {
    run(one);
  } else {
    run({4, 256, 256, 128, 8, 5, false});
    run({12, 768, 65536, 512, 1, 2, false});
    run({12, 768, 65536, 512, 1, 2, true});
  }
  return 0;
}
