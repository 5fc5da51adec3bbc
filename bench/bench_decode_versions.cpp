// bench_decode_versions.cpp — CPU decode speed (tokens/s, one token per forward, logits every
// step) of RWKV-2, RWKV-4, RWKV-5.2, RWKV-6.0 and RWKV-7 at the same size (default L12-D768, vocab
// 65536), random weights built here in each version's official key layout, fp32 compute.
// Usage: bench_decode_versions [n_layer n_embd vocab decode_tokens threads versions(v2,v4,x052,x060,x070)]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/threads.h"
#include "engine/engine.h"
#include "bench_util.h"
#include "ops/cpu/blas_core.h"

using namespace rwkv;
using namespace rwkv::bench;

int main(int argc, char** argv) {
  rwkv::blas_core_startup(argv);  // OpenBLAS kernels chosen from the CPU features, as in rwkv
  int L = argc > 1 ? std::atoi(argv[1]) : 12, C = argc > 2 ? std::atoi(argv[2]) : 768;
  int V = argc > 3 ? std::atoi(argv[3]) : 65536, n = argc > 4 ? std::atoi(argv[4]) : 64;
  int threads = argc > 5 ? std::atoi(argv[5]) : 0;
  set_num_threads(threads);
  std::printf("CPU decode, L%d-D%d vocab %d, fp32, %d threads, %d tokens after a 16-token prefill\n", L, C, V,
              num_threads(), n);
  std::printf("| version | params (M) | prefill tok/s | decode tok/s | ms/token |\n|---|---|---|---|---|\n");
  std::vector<std::string> vers = {"v2", "v4", "x052", "x060", "x070"};
  if (argc > 6) {
    vers.clear();
    std::string list = argv[6];
    for (size_t a = 0, b; a <= list.size(); a = b + 1) {
      b = list.find(',', a);
      if (b == std::string::npos) b = list.size();
      vers.push_back(list.substr(a, b - a));
    }
  }
  for (const std::string& vs : vers) {
    const char* ver = vs.c_str();
    StateDict sd = random_versioned_model(ver, L, C, V);
    double params = 0;
    for (auto& [k, t] : sd.items) params += double(t.numel());
    std::unique_ptr<Engine> e;
    try {
      e = Engine::from_state_dict(std::move(sd), std::string("random-") + ver);
    } catch (const std::exception& ex) {
      std::printf("| %s | %.1f | - | - | not available: %s |\n", ver, params / 1e6, ex.what());
      continue;
    }
    StatePool pool = e->make_pool(1);
    Workspace ws;
    const float* logits = nullptr;
    auto feed = [&](const int32_t* t, int n) {
      BatchEntry b{0, {t, size_t(n)}, Logits::Last};
      e->forward({&b, 1}, pool, ws);
      logits = ws.logits(0);
    };
    std::vector<int32_t> prompt(16);
    for (int i = 0; i < 16; i++) prompt[i] = (i * 7919) % V;
    auto t0 = std::chrono::steady_clock::now();
    feed(prompt.data(), 16);
    auto t1 = std::chrono::steady_clock::now();
    int32_t tok = 0;
    for (int i = 0; i < n; i++) {
      feed(&tok, 1);
      tok = greedy_token(logits, V);
    }
    auto t2 = std::chrono::steady_clock::now();
    double pre = std::chrono::duration<double>(t1 - t0).count(), dec = std::chrono::duration<double>(t2 - t1).count();
    std::printf("| %s | %.1f | %.1f | %.1f | %.2f |\n", ver, params / 1e6, 16 / pre, n / dec, 1e3 * dec / n);
  }
  return 0;
}
