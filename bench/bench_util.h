// bench_util.h — what the CPU benchmarks share: the machine's limits measured in the same run
// (read bandwidth, sgemm FLOP/s) and random models (RWKV-7 with sane scales; every version in
// its official key layout).
#pragma once
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"
#include "model/rwkv7_params.h"
#include "ops/cpu/sgemm.h"

namespace rwkv::bench {

using Clock = std::chrono::steady_clock;

inline double secs(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

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
inline double measure_sgemm(int T, int C) {
  std::vector<float> a(size_t(T) * C, 0.01f), b(size_t(C) * 4 * C, 0.01f), c(size_t(T) * 4 * C);
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    auto t0 = Clock::now();
    sgemm(false, true, T, 4 * C, C, 1.f, a.data(), C, b.data(), C, 0.f, c.data(), 4 * C);
    best = std::max(best, 2.0 * T * C * 4.0 * C / secs(t0));
  }
  return best;
}

inline ModelConfig make_cfg(int L, int C, int V) {
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
inline StateDict random_model(const ModelConfig& cfg) {
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

inline int round32(double x) { return std::max(32, int(std::lround(x / 32)) * 32); }

// Random weights in a version's official key layout (v4, x052, x060, x070), fp32.
inline StateDict random_versioned_model(const std::string& ver, int L, int C, int V) {
  Builder b;
  const int H = C / 64, N = 64;
  const int F = (ver == "v2" || ver == "v4" || ver == "x070") ? 4 * C : int(C * 3.5) / 32 * 32;
  b.add("emb.weight", {V, C}, 1e-4f);
  if (ver != "v2") {  // RWKV-2 has no ln0
    b.add("blocks.0.ln0.weight", {C}, 0.f, 1.f);
    b.add("blocks.0.ln0.bias", {C});
  }
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
    if (ver == "v2") {  // one mix each; (C, 1) decay and bonus
      b.add(p + "att.time_mix", {1, 1, C}, 0.3f, 0.5f);
      b.add(p + "ffn.time_mix", {1, 1, C}, 0.3f, 0.5f);
      b.add(p + "att.time_decay", {C, 1}, 1.f);
      b.add(p + "att.time_first", {C, 1}, 1.f);
      continue;
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


}  // namespace rwkv::bench
