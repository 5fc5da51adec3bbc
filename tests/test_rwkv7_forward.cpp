// test_rwkv7_forward.cpp — RWKV-7 inference forward: GPT mode vs RNN mode vs chunked prefill
// with the state carried, and agreement with the training forward, on a tiny random model.
#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "model/rwkv7.h"
#include "model/rwkv7_params.h"
#include "model/rwkv7_train.h"
#include "test_util.h"

using namespace rwkv;

namespace {

Rwkv7Params tiny_params(uint32_t seed) {
  ModelConfig c;
  c.n_layer = 2;
  c.n_embd = 32;
  c.head_size = 16;
  c.n_head = 2;
  c.dim_att = 32;
  c.dim_ffn = 64;
  c.vocab_size = 29;
  c.d_decay = c.d_aaa = c.d_mv = 8;
  c.d_gate = 16;
  Rwkv7Params p = Rwkv7Params::zeros(c);
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-0.4f, 0.4f);
  for (auto& x : p.data) x = u(g);
  for (float* w : {p.ln_out_w, p.layers[0].ln0_w, p.layers[0].ln1_w, p.layers[1].ln1_w})
    for (int i = 0; i < c.n_embd; i++) w[i] += 1.f;
  return p;
}

std::vector<float> flat_state(const Rwkv7State& s) {
  std::vector<float> v = s.att_x;
  v.insert(v.end(), s.wkv.begin(), s.wkv.end());
  v.insert(v.end(), s.ffn_x.begin(), s.ffn_x.end());
  return v;
}

}  // namespace

TEST(Rwkv7Forward, GptRnnAndChunkedPrefillAgree) {
  Rwkv7Params p = tiny_params(1);
  Rwkv7Model m = Rwkv7Model::from_state_dict(p.to_state_dict(DType::F32), "tiny");
  const int T = 300;  // > one internal pass of 128 tokens and > several WKV chunks
  const int V = m.cfg.vocab_size;
  std::mt19937 g(2);
  std::vector<int32_t> tok(T);
  for (auto& t : tok) t = int32_t(g() % V);

  Rwkv7State s_gpt = Rwkv7State::zeros(m.cfg);
  std::vector<float> logits(size_t(T) * V);
  rwkv7_forward(m, tok.data(), T, s_gpt, logits.data(), true);

  // RNN mode, one token at a time.
  Rwkv7State s_rnn = Rwkv7State::zeros(m.cfg);
  std::vector<float> rnn(size_t(T) * V);
  for (int t = 0; t < T; t++) rwkv7_forward(m, &tok[t], 1, s_rnn, rnn.data() + size_t(t) * V, false);
  EXPECT_LE(test::tol_excess(rnn, logits, test::tol::fp32_modes), 0.0);
  EXPECT_LE(test::tol_excess(flat_state(s_rnn), flat_state(s_gpt), test::tol::fp32_modes), 0.0);

  // Chunked prefill with uneven splits; only the last logits requested.
  for (std::vector<int> splits : {std::vector<int>{1, 299}, {17, 16, 200, 67}, {150, 150}}) {
    Rwkv7State s = Rwkv7State::zeros(m.cfg);
    std::vector<float> last(V);
    int t0 = 0;
    for (int n : splits) {
      rwkv7_forward(m, tok.data() + t0, n, s, t0 + n == T ? last.data() : nullptr, false);
      t0 += n;
    }
    std::vector<float> ref(logits.end() - V, logits.end());
    EXPECT_LE(test::tol_excess(last, ref, test::tol::fp32_modes), 0.0);
    EXPECT_LE(test::tol_excess(flat_state(s), flat_state(s_gpt), test::tol::fp32_modes), 0.0);
  }
}

TEST(Rwkv7Forward, MatchesTrainingForward) {
  Rwkv7Params p = tiny_params(3);
  Rwkv7Model m = Rwkv7Model::from_state_dict(p.to_state_dict(DType::F32), "tiny");
  const int T = 40, V = m.cfg.vocab_size;
  std::mt19937 g(4);
  std::vector<int32_t> tok(T + 1);
  for (auto& t : tok) t = int32_t(g() % V);
  Rwkv7State s = Rwkv7State::zeros(m.cfg);
  std::vector<float> logits(size_t(T) * V);
  rwkv7_forward(m, tok.data(), T, s, logits.data(), true);
  std::vector<float> ce(T), rows(T);
  for (int t = 0; t < T; t++) {
    double mx = -1e30, sum = 0;
    for (int i = 0; i < V; i++) mx = std::max<double>(mx, logits[size_t(t) * V + i]);
    for (int i = 0; i < V; i++) sum += std::exp(logits[size_t(t) * V + i] - mx);
    ce[t] = float(mx + std::log(sum) - logits[size_t(t) * V + tok[t + 1]]);
  }
  Rwkv7TrainScratch sc;
  rwkv7_forward_loss(p, tok.data(), 1, T, sc, rows.data());
  EXPECT_LE(test::tol_excess(rows, ce, test::tol::fp32_modes), 0.0);
}

TEST(Rwkv7Forward, RejectsBadTokensAndState) {
  Rwkv7Params p = tiny_params(5);
  Rwkv7Model m = Rwkv7Model::from_state_dict(p.to_state_dict(DType::F32), "tiny");
  Rwkv7State s = Rwkv7State::zeros(m.cfg);
  int32_t bad = m.cfg.vocab_size;
  EXPECT_THROW(rwkv7_forward(m, &bad, 1, s, nullptr, false), Error);
  Rwkv7State other;
  int32_t ok = 1;
  EXPECT_THROW(rwkv7_forward(m, &ok, 1, other, nullptr, false), Error);
}
