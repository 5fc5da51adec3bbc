// bench_decode_versions.cpp — CPU decode speed (tokens/s, one token per forward, logits every
// step) of RWKV-4, RWKV-5.2, RWKV-6.0 and RWKV-7 at the same size (default L12-D768, vocab
// 65536), random weights built here in each version's official key layout, fp32 compute.
// Usage: bench_decode_versions [n_layer n_embd vocab decode_tokens threads]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "core/threads.h"
#include "infer/runner.h"

using namespace rwkv;

namespace {

struct Builder {
  StateDict sd;
  std::mt19937 rng{1234};
  void add(const std::string& name, Shape s, float scale = 0.02f, float offset = 0.f) {
    Tensor t = Tensor::empty(DType::F32, std::move(s));
    std::uniform_real_distribution<float> u(-scale, scale);
    float* p = t.ptr<float>();
    for (int64_t i = 0; i < t.numel(); i++) p[i] = offset + u(rng);
    sd.set(name, t);
  }
};

int round32(double x) { return std::max(32, int(std::lround(x / 32)) * 32); }

StateDict make_model(const std::string& ver, int L, int C, int V) {
  Builder b;
  const int H = C / 64, N = 64;
  const int F = (ver == "v4" || ver == "x070") ? 4 * C : int(C * 3.5) / 32 * 32;
  b.add("emb.weight", {V, C}, 1e-4f);
  b.add("blocks.0.ln0.weight", {C}, 0.f, 1.f);
  b.add("blocks.0.ln0.bias", {C});
  for (int i = 0; i < L; i++) {
    std::string p = "blocks." + std::to_string(i) + ".";
    for (const char* ln : {"ln1", "ln2"}) {
      b.add(p + ln + ".weight", {C}, 0.f, 1.f);
      b.add(p + ln + ".bias", {C});
    }
    for (const char* w : {"receptance", "key", "value", "output"}) b.add(p + "att." + w + ".weight", {C, C});
    b.add(p + "ffn.key.weight", {F, C});
    b.add(p + "ffn.value.weight", {C, F});
    if (ver != "x070") b.add(p + "ffn.receptance.weight", {C, C});
    if (ver == "v4" || ver == "x052") {
      for (const char* m : {"k", "v", "r"}) b.add(p + "att.time_mix_" + m, {1, 1, C}, 0.3f, 0.5f);
      for (const char* m : {"k", "r"}) b.add(p + "ffn.time_mix_" + m, {1, 1, C}, 0.3f, 0.5f);
    }
    if (ver == "v4") {
      b.add(p + "att.time_decay", {C}, 1.f);
      b.add(p + "att.time_first", {C}, 1.f);
      continue;
    }
    b.add(p + "att.ln_x.weight", {C}, 0.f, 1.f);
    b.add(p + "att.ln_x.bias", {C});
    if (ver == "x052") {
      b.add(p + "att.time_mix_g", {1, 1, C}, 0.3f, 0.5f);
      b.add(p + "att.gate.weight", {C, C});
      b.add(p + "att.time_decay", {H, N}, 1.f);
      b.add(p + "att.time_faaaa", {H, N}, 0.5f);
    } else if (ver == "x060") {
      for (const char* m : {"x", "w", "k", "v", "r", "g"}) b.add(p + "att.time_maa_" + m, {1, 1, C}, 0.3f, 0.5f);
      b.add(p + "att.time_maa_w1", {C, 5 * 32});
      b.add(p + "att.time_maa_w2", {5, 32, C});
      b.add(p + "att.time_decay", {1, 1, C}, 1.f);
      b.add(p + "att.time_decay_w1", {C, 64});
      b.add(p + "att.time_decay_w2", {64, C});
      b.add(p + "att.time_faaaa", {H, N}, 0.5f);
      b.add(p + "att.gate.weight", {C, C});
      for (const char* m : {"k", "r"}) b.add(p + "ffn.time_maa_" + m, {1, 1, C}, 0.3f, 0.5f);
    } else {  // x070
      const int dw = round32(1.8 * std::sqrt(C)), da = dw, dv = round32(1.3 * std::sqrt(C)),
                dg = round32(0.6 * std::pow(C, 0.8));
      for (const char* m : {"r", "w", "k", "v", "a", "g"}) b.add(p + "att.x_" + m, {1, 1, C}, 0.3f, 0.5f);
      for (auto [n, d] : {std::pair{"w", dw}, {"a", da}, {"v", dv}}) {
        b.add(p + "att." + n + "0", {1, 1, C}, 0.5f);
        b.add(p + "att." + n + "1", {C, d});
        b.add(p + "att." + n + "2", {d, C});
      }
      b.add(p + "att.g1", {C, dg});
      b.add(p + "att.g2", {dg, C});
      b.add(p + "att.k_k", {1, 1, C}, 0.3f, 0.8f);
      b.add(p + "att.k_a", {1, 1, C}, 0.3f, 1.f);
      b.add(p + "att.r_k", {H, N});
      b.add(p + "ffn.x_k", {1, 1, C}, 0.3f, 0.5f);
    }
  }
  b.add("ln_out.weight", {C}, 0.f, 1.f);
  b.add("ln_out.bias", {C});
  b.add("head.weight", {V, C});
  return b.sd;
}

}  // namespace

int main(int argc, char** argv) {
  int L = argc > 1 ? std::atoi(argv[1]) : 12, C = argc > 2 ? std::atoi(argv[2]) : 768;
  int V = argc > 3 ? std::atoi(argv[3]) : 65536, n = argc > 4 ? std::atoi(argv[4]) : 64;
  int threads = argc > 5 ? std::atoi(argv[5]) : 0;
  set_num_threads(threads);
  std::printf("CPU decode, L%d-D%d vocab %d, fp32, %d threads, %d tokens after a 16-token prefill\n", L, C, V,
              num_threads(), n);
  std::printf("| version | params (M) | prefill tok/s | decode tok/s | ms/token |\n|---|---|---|---|---|\n");
  for (const char* ver : {"v4", "x052", "x060", "x070"}) {
    StateDict sd = make_model(ver, L, C, V);
    double params = 0;
    for (auto& [k, t] : sd.items) params += double(t.numel());
    std::unique_ptr<Runner> r;
    try {
      r = make_runner(std::move(sd), std::string("random-") + ver);
    } catch (const std::exception& e) {
      std::printf("| %s | %.1f | - | - | not available: %s |\n", ver, params / 1e6, e.what());
      continue;
    }
    RunnerState st = r->zero_state();
    std::vector<float> logits(static_cast<size_t>(V));
    std::vector<int32_t> prompt(16);
    for (int i = 0; i < 16; i++) prompt[i] = (i * 7919) % V;
    auto t0 = std::chrono::steady_clock::now();
    r->forward(prompt.data(), 16, st, logits.data(), false);
    auto t1 = std::chrono::steady_clock::now();
    int32_t tok = 0;
    for (int i = 0; i < n; i++) {
      r->forward(&tok, 1, st, logits.data(), false);
      tok = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    auto t2 = std::chrono::steady_clock::now();
    double pre = std::chrono::duration<double>(t1 - t0).count(), dec = std::chrono::duration<double>(t2 - t1).count();
    std::printf("| %s | %.1f | %.1f | %.1f | %.2f |\n", ver, params / 1e6, 16 / pre, n / dec, 1e3 * dec / n);
  }
  return 0;
}
