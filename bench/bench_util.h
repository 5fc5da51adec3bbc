// bench_util.h — what the CPU benchmarks share: the machine (CPU, ISA flags, OpenBLAS core) and
// its limits measured in the same run (read bandwidth, sgemm FLOP/s), and random models (RWKV-7
// with sane scales; every version in its official key layout).
#pragma once
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

#include "core/cpu_features.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/rwkv7_params.h"
#include "core/dtype.h"
#include "infer/sampler.h"
#include "ops/cpu/blas_core.h"
#include "ops/cpu/sgemm.h"
#include "ops/gemv.h"

// GCC 12 warns inside its own _mm512_reduce_add_ps (an _mm512_undefined helper); a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace rwkv::bench {

using Clock = std::chrono::steady_clock;

inline double secs(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

// The next token of greedy decoding, picked as `rwkv generate --temperature 0` picks it (the
// sampler's greedy path: a vectorised max, no exponentials; 12 us at V = 65,536 on the 2-core EPYC
// VM, where the std::max_element the benches used took 45 us, ~2 % of a q4 decode step).
inline int32_t greedy_token(const float* logits, int V) {
  thread_local Rng rng(0);  // not drawn from at temperature 0
  return sample_logits(logits, V, 0.f, 0.f, 0, rng);
}

// GFLOP/s of f (flop FLOPs a call): one warm-up call (first touch, JIT), then the best of 3 rounds
// of reps calls.
template <class F>
double best_gflops(double flop, int reps, F&& f) {
  f();
  double best = 0;
  for (int r = 0; r < 3; r++) {
    const auto t0 = Clock::now();
    for (int i = 0; i < reps; i++) f();
    best = std::max(best, flop * reps / secs(t0) / 1e9);
  }
  return best;
}

// Read bandwidth of the bench's threads (the --threads count): each sums its share of a buffer
// with explicit vector loads (AVX-512, else AVX2; four accumulators, the sum printed-if-negative
// so that no load can be dropped) — the decode GEMV's access pattern without its arithmetic.
// Sizes 256 MiB, 512 MiB and 1 GiB (prefixes of one 1 GiB buffer, all far beyond the caches);
// passes take turns: plain loads, and loads behind non-temporal prefetches 2 KB and 4 KB ahead
// (the GEMV's, ops/cpu/gemv.cpp kPrefetchAhead), so the bound is the best read any of them
// gets. The machine's neighbours come and go, so each size keeps its best pass over the run, and
// the bound (best) is the best of all.
struct Bandwidth {
  static constexpr size_t kMiB = size_t(1) << 18;  // floats per MiB
  static constexpr size_t kSizes[3] = {256 * kMiB, 512 * kMiB, 1024 * kMiB};
  std::vector<float> buf = std::vector<float>(kSizes[2]);
  double best = 0, best_at[3] = {};  // bytes/s: over all sizes, per size
  int passes_done = 0;
  Bandwidth() {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < buf.size(); i++) buf[i] = float(i & 7);
  }
  // sum of p[0, n), n a multiple of 64
  static float sum(const float* p, size_t n, int ahead) {
#if defined(__AVX512F__)
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < n; i += 64) {
      if (ahead)
        for (int l = 0; l < 4; l++) _mm_prefetch(reinterpret_cast<const char*>(p + i + 16 * l) + ahead, _MM_HINT_NTA);
      a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p + i));
      a1 = _mm512_add_ps(a1, _mm512_loadu_ps(p + i + 16));
      a2 = _mm512_add_ps(a2, _mm512_loadu_ps(p + i + 32));
      a3 = _mm512_add_ps(a3, _mm512_loadu_ps(p + i + 48));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
#elif defined(__AVX2__)
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < n; i += 32) {
      if (ahead)
        for (int l = 0; l < 2; l++) _mm_prefetch(reinterpret_cast<const char*>(p + i + 16 * l) + ahead, _MM_HINT_NTA);
      a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
      a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
      a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
      a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
    }
    alignas(32) float t[8];
    _mm256_store_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
#else
    float acc[16] = {0};
    for (size_t i = 0; i < n; i += 16)
      for (int j = 0; j < 16; j++) acc[j] += p[i + j];
    float t = 0;
    for (float a : acc) t += a;
    return t;
#endif
  }
  void measure(int passes) {
    for (int rep = 0; rep < passes; rep++, passes_done++) {
      const int ahead = (passes_done % 3) * 2048;  // plain loads, NTA prefetches 2 KB / 4 KB ahead
      for (int s = 0; s < 3; s++) {
        const size_t n = kSizes[s];
        auto t0 = Clock::now();
        float total = 0;
#pragma omp parallel reduction(+ : total)
        {
          const size_t nt = omp_get_num_threads(), id = omp_get_thread_num();
          const size_t lo = n / nt * id / 64 * 64, hi = id + 1 == nt ? n : n / nt * (id + 1) / 64 * 64;
          total += sum(buf.data() + lo, hi - lo, ahead);
        }
        const double dt = secs(t0);
        if (total < 0) std::printf("?");
        best_at[s] = std::max(best_at[s], n * 4.0 / dt);
        best = std::max(best, best_at[s]);
      }
    }
  }
  // "256 MiB 41.2, 512 MiB 40.8, 1 GiB 40.9 GB/s"
  std::string report() const {
    char t[128];
    std::snprintf(t, sizeof t, "256 MiB %.1f, 512 MiB %.1f, 1 GiB %.1f GB/s", best_at[0] / 1e9, best_at[1] / 1e9,
                  best_at[2] / 1e9);
    return t;
  }
};

// The machine, for the top of a CPU bench's output: CPU model (/proc/cpuinfo), the ISA flags that
// matter here (core/cpu_features.h), the OpenBLAS kernels in use and the threads.
inline void print_machine(int threads) {
  std::string model;
  if (FILE* f = std::fopen("/proc/cpuinfo", "r")) {
    char line[512];
    while (model.empty() && std::fgets(line, sizeof line, f))
      if (std::strncmp(line, "model name", 10) == 0)
        if (const char* c = std::strchr(line, ':')) model = std::string(c + 2, std::strcspn(c + 2, "\n"));
    std::fclose(f);
  }
  if (model.empty()) model = cpu_features().model_name;
  std::printf("cpu: %s, %d threads; isa: %s\nblas: %s\n", model.c_str(), threads, cpu_features().flags().c_str(),
              blas_core_summary().c_str());
}

// sgemm FLOP/s at the prefill shape: (T, C) @ (C, 4C), split over the threads as the model does.
// FLOP/s of f, a (T x C) @ (C x 4C) product, best of 5 single runs.
template <class F>
inline double best_product_flops(int T, int C, F&& f) {
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    auto t0 = Clock::now();
    f();
    best = std::max(best, 2.0 * T * C * 4.0 * C / secs(t0));
  }
  return best;
}

inline double measure_sgemm(int T, int C) {
  std::vector<float> a(size_t(T) * C, 0.01f), b(size_t(C) * 4 * C, 0.01f), c(size_t(T) * 4 * C);
  return best_product_flops(T, C, [&] { sgemm(false, true, T, 4 * C, C, 1.f, a.data(), C, b.data(), C, 0.f, c.data(), 4 * C); });
}

// The product path's GEMM rate for prefill with bf16 weights at (T x C) @ (C x 4C): bf16 x bf16
// (ops/cpu/bf16_gemm.h) where it runs, else bf16 weights widened for sgemm (ops/gemv.h).
inline double measure_bf16_linear(int T, int C) {
  std::vector<float> a(size_t(T) * C, 0.01f), c(size_t(T) * 4 * C);
  std::vector<uint16_t> b(size_t(C) * 4 * C, f32_to_bf16(0.01f));
  return best_product_flops(T, C, [&] { linear_forward_any(c.data(), a.data(), b.data(), DType::BF16, T, C, 4 * C); });
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

#pragma GCC diagnostic pop
