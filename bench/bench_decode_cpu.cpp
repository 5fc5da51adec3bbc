// bench_decode_cpu.cpp — CPU inference speed of an RWKV-7 model next to the machine's limits
// measured in the same run: decode (batch 1, one token at a time) tokens/s vs the memory-
// bandwidth bound (bytes of weights read per token / measured read bandwidth; decode is the best
// of 5 rounds, the bandwidth the best pass over the run, one right before each round), and
// prefill tokens/s vs the measured sgemm FLOP/s (2 * matrix params FLOPs per token).
//   bench_decode_cpu [--layers 12] [--embd 768] [--vocab 65536] [--threads 2] [--decode 32]
//                    [--prefill 512] [--model FILE]   (default: random weights, L12-D768 V65536)
//                    [--dtype fp32|bf16|both]  (default both)
//                    [--save FILE]  write the random model in bf16 (.pth / .safetensors) and exit
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/threads.h"
#include "infer/runner.h"
#include "io/model_file.h"
#include "model/rwkv7_params.h"
#include "ops/cpu/sgemm.h"

using namespace rwkv;
using Clock = std::chrono::steady_clock;

static double secs(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

// Read bandwidth: sum of a 1 GiB fp32 buffer with all threads, bytes/s of one pass, with plain
// loads and with the non-temporal prefetches the GEMV uses (the better is the machine's). The
// machine's neighbours come and go, so the bench takes the best of passes spread over the run.
struct Bandwidth {
  std::vector<float> buf = std::vector<float>(size_t(1) << 28);
  double best = 0;
  Bandwidth() {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < buf.size(); i++) buf[i] = float(i & 7);
  }
  void measure(int passes) {
    const size_t n = buf.size();
    for (int rep = 0; rep < passes; rep++) {
      auto t0 = Clock::now();
      float total = 0;
      const bool nta = rep % 2 == 1;  // alternate plain loads and loads behind non-temporal prefetches
#pragma omp parallel reduction(+ : total)
      {
        // 16 independent partial sums: vectorised loads, not a latency-bound add chain
        const size_t nt = omp_get_num_threads(), id = omp_get_thread_num();
        const size_t lo = n / nt * id / 16 * 16, hi = id + 1 == nt ? n : n / nt * (id + 1) / 16 * 16;
        float acc[16] = {0};
        for (size_t i = lo; i < hi; i += 16) {
          if (nta) _mm_prefetch(reinterpret_cast<const char*>(&buf[i]) + 2048, _MM_HINT_NTA);
          for (int j = 0; j < 16; j++) acc[j] += buf[i + j];
        }
        for (int j = 0; j < 16; j++) total += acc[j];
      }
      double dt = secs(t0);
      if (total < 0) std::printf("?");
      best = std::max(best, n * 4.0 / dt);
    }
  }
};

// sgemm FLOP/s at the prefill shape: (T, C) @ (C, 4C), split over the threads as the model does.
static double measure_sgemm(int T, int C) {
  std::vector<float> a(size_t(T) * C, 0.01f), b(size_t(C) * 4 * C, 0.01f), c(size_t(T) * 4 * C);
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    auto t0 = Clock::now();
    sgemm(false, true, T, 4 * C, C, 1.f, a.data(), C, b.data(), C, 0.f, c.data(), 4 * C);
    best = std::max(best, 2.0 * T * C * 4.0 * C / secs(t0));
  }
  return best;
}

static ModelConfig make_cfg(int L, int C, int V) {
  auto lora = [&](double f, double p) { return std::max(32, int(std::lround(f * std::pow(C, p) / 32)) * 32); };
  ModelConfig c;
  c.arch = Arch::RWKV7;
  c.n_layer = L;
  c.n_embd = C;
  c.vocab_size = V;
  c.head_size = 64;
  c.n_head = C / 64;
  c.dim_att = C;
  c.dim_ffn = 4 * C;
  c.d_decay = lora(1.8, 0.5);
  c.d_aaa = lora(1.8, 0.5);
  c.d_mv = lora(1.3, 0.5);
  c.d_gate = lora(0.6, 0.8);
  return c;
}

// Random weights with sane scales (layer norms 1, mixes 0.5, matrices N(0, 1/sqrt(fan_in))).
static StateDict random_model(const ModelConfig& cfg) {
  Rwkv7Params p = Rwkv7Params::zeros(cfg);
  std::mt19937 g(1);
  StateDict sd = p.to_state_dict(DType::F32);
  for (auto& [name, t] : sd.items) {
    float* d = t.ptr<float>();
    int64_t n = t.numel();
    bool norm_w = name.find("ln") != std::string::npos && name.ends_with(".weight");
    if (norm_w || name.ends_with("ln_x.weight")) {
      std::fill(d, d + n, 1.f);
    } else if (t.dim() == 2 && name.find("blocks") != std::string::npos && name.find("r_k") == std::string::npos) {
      std::normal_distribution<float> nd(0.f, 1.f / std::sqrt(float(t.shape[1])));
      for (int64_t i = 0; i < n; i++) d[i] = nd(g);
    } else if (name == "emb.weight" || name == "head.weight") {
      std::normal_distribution<float> nd(0.f, 0.02f);
      for (int64_t i = 0; i < n; i++) d[i] = nd(g);
    } else {
      std::uniform_real_distribution<float> ud(0.f, 0.5f);
      for (int64_t i = 0; i < n; i++) d[i] = ud(g);
    }
  }
  return sd;
}

int main(int argc, char** argv) {
  int L = 12, C = 768, V = 65536, threads = 2, n_decode = 32, n_prefill = 512;
  std::string model, save, dtypes = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (a == "--layers") L = v;
    else if (a == "--embd") C = v;
    else if (a == "--vocab") V = v;
    else if (a == "--threads") threads = v;
    else if (a == "--decode") n_decode = v;
    else if (a == "--prefill") n_prefill = v;
    else if (a == "--model") model = argv[i + 1];
    else if (a == "--save") save = argv[i + 1];
    else if (a == "--dtype") dtypes = argv[i + 1];
    else { std::fprintf(stderr, "unknown flag %s\n", a.c_str()); return 2; }
  }
  set_num_threads(threads);
  StateDict base = model.empty() ? random_model(make_cfg(L, C, V)) : load_model_file(model);
  if (!save.empty()) {
    save_model_file(save, convert_float_tensors(std::move(base), DType::BF16));
    std::printf("wrote %s (bf16, L%d-D%d V%d)\n", save.c_str(), L, C, V);
    return 0;
  }

  Bandwidth bw;
  bw.measure(5);
  const int Tg = std::min(n_prefill, 256);
  double flops_peak = measure_sgemm(Tg, C);  // best seen; measured again next to each prefill
  std::printf("machine: %d threads; read bandwidth %.2f GB/s (so far); sgemm (%dx%d @ %dx%d) %.1f GFLOP/s\n",
              threads, bw.best / 1e9, Tg, C, C, 4 * C, flops_peak / 1e9);

  for (DType dt : {DType::F32, DType::BF16}) {
    if (dtypes != "both" && dtypes != dtype_name(dt)) continue;
    RunnerOptions o;
    o.dtype = dt;
    auto r = make_runner(base, model.empty() ? "random" : model, o);
    const ModelConfig& c = r->config();
    // bytes read per decoded token: every 2-D matrix once, except the embedding (one row)
    double bytes = 0, mat_params = 0;
    StateDict conv = convert_float_tensors(base, dt);
    for (auto& [name, t] : conv.items) {
      if (name == "emb.weight") { bytes += double(t.shape[1]) * dtype_size(t.dtype); continue; }
      bytes += double(t.nbytes());
      if (t.dim() == 2 && t.shape[0] > 1 && t.shape[1] > 1 && name.find("r_k") == std::string::npos)
        mat_params += double(t.numel());
    }
    RunnerState st = r->zero_state();
    std::vector<float> logits(size_t(n_prefill) * c.vocab_size);
    std::vector<int32_t> toks(n_prefill);
    for (int i = 0; i < n_prefill; i++) toks[i] = (i * 7919) % c.vocab_size;
    // prefill
    r->forward(toks.data(), std::min(n_prefill, 16), st, logits.data(), false);  // warm-up
    st = r->zero_state();
    flops_peak = std::max(flops_peak, measure_sgemm(Tg, C));
    auto t0 = Clock::now();
    r->forward(toks.data(), n_prefill, st, logits.data(), false);
    double pf = n_prefill / secs(t0);
    // decode: best of 5 rounds of n_decode tokens (the machine's neighbours come and go)
    int32_t tok = 1;
    for (int i = 0; i < 3; i++) r->forward(&tok, 1, st, logits.data(), false);
    double dec = 0;
    for (int round = 0; round < 5; round++) {
      bw.measure(2);  // the bound uses the best bandwidth seen, including right next to decoding
      t0 = Clock::now();
      for (int i = 0; i < n_decode; i++) {
        tok = int32_t(std::max_element(logits.begin(), logits.begin() + c.vocab_size) - logits.begin());
        r->forward(&tok, 1, st, logits.data(), false);
      }
      dec = std::max(dec, n_decode / secs(t0));
    }
    double dec_bound = bw.best / bytes, pf_bound = flops_peak / (2.0 * mat_params);
    std::printf("L%d-D%d V%d %s weights (%.0f MB): decode %.2f tok/s = %.0f%% of the bandwidth bound %.2f tok/s "
                "(%.2f GB/s); prefill %.1f tok/s = %.0f%% of the sgemm bound %.1f tok/s\n",
                c.n_layer, c.n_embd, c.vocab_size, dtype_name(dt), bytes / 1e6, dec, 100 * dec / dec_bound,
                dec_bound, bw.best / 1e9, pf, 100 * pf / pf_bound, pf_bound);
    std::fflush(stdout);
  }
  return 0;
}
