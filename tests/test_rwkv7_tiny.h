// test_rwkv7_tiny.h — a tiny random RWKV-7 (C = 16, two heads of 8, small LoRA ranks) for the
// finite-difference tests: its config, random parameters (layer-norm weights near 1) and tokens.
#pragma once
#include <cmath>
#include <random>
#include <vector>

#include "model/config.h"
#include "model/rwkv7_params.h"

namespace rwkv::test {

// n_layer >= 2 exercises the value residual of layer 0.
inline ModelConfig tiny_rwkv7_config(int n_layer, int vocab_size) {
  ModelConfig c;
  c.arch = Arch::RWKV7;
  c.n_layer = n_layer;
  c.n_embd = 16;
  c.head_size = 8;
  c.n_head = 2;
  c.dim_att = 16;
  c.dim_ffn = 32;
  c.vocab_size = vocab_size;
  c.d_decay = 4;
  c.d_aaa = 4;
  c.d_mv = 4;
  c.d_gate = 8;
  return c;
}

inline Rwkv7Params random_rwkv7_params(const ModelConfig& c, uint32_t seed) {
  Rwkv7Params p = Rwkv7Params::zeros(c);
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  for (auto& x : p.data) x = u(g);
  auto ones = [&](float* w) {
    for (int i = 0; i < c.n_embd; i++) w[i] = 1.f + 0.4f * u(g);
  };
  ones(p.ln_out_w);
  for (auto& L : p.layers) {
    for (float* w : {L.ln1_w, L.ln2_w, L.ln_x_w}) ones(w);
    if (L.ln0_w) ones(L.ln0_w);
  }
  return p;
}

// Entries of a gradient g (n values) to check by finite differences: the largest |g|, then
// `n_random` drawn from `pick`.
inline std::vector<int64_t> fd_probe_indices(const float* g, int64_t n, std::mt19937& pick, int n_random) {
  int64_t big = 0;
  for (int64_t i = 1; i < n; i++)
    if (std::fabs(g[i]) > std::fabs(g[big])) big = i;
  std::vector<int64_t> r{big};
  for (int k = 0; k < n_random; k++) r.push_back(int64_t(pick() % uint64_t(n)));
  return r;
}

// (B, T + 1) token ids below V.
inline std::vector<int32_t> random_tokens(int B, int T, int V, uint32_t seed) {
  std::mt19937 g(seed);
  std::vector<int32_t> t(size_t(B) * (T + 1));
  for (auto& x : t) x = int32_t(g() % V);
  return t;
}

}  // namespace rwkv::test
