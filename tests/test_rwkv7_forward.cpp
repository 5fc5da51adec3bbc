// test_rwkv7_forward.cpp — RWKV-7 inference forward: GPT mode vs RNN mode vs chunked prefill
// with the state carried, and agreement with the training forward, on a tiny random model.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "core/error.h"
#include "io/model_file.h"
#include "infer/runner.h"
#include "model/rwkv7_params.h"
#include "model/rwkv7_train.h"
#include "test_rwkv7_fixture.h"
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

std::vector<float> flat_state(const RunnerState& s) {
  std::vector<float> v;
  for (auto& [name, t] : s.items) {
    std::vector<float> f = t.to_f32_vec();
    v.insert(v.end(), f.begin(), f.end());
  }
  return v;
}

using Model7 = std::unique_ptr<Runner>;
Model7 load7(const StateDict& sd, const std::string& name) { return make_runner(sd, name); }

}  // namespace

TEST(Rwkv7Forward, GptRnnAndChunkedPrefillAgree) {
  Rwkv7Params p = tiny_params(1);
  Model7 m = load7(p.to_state_dict(DType::F32), "tiny");
  const int T = 300;  // > one internal pass of 128 tokens and > several WKV chunks
  const int V = m->config().vocab_size;
  std::mt19937 g(2);
  std::vector<int32_t> tok(T);
  for (auto& t : tok) t = int32_t(g() % V);

  RunnerState s_gpt = m->zero_state();
  std::vector<float> logits(size_t(T) * V);
  m->forward(tok.data(), T, s_gpt, logits.data(), true);

  // RNN mode, one token at a time.
  RunnerState s_rnn = m->zero_state();
  std::vector<float> rnn(size_t(T) * V);
  for (int t = 0; t < T; t++) m->forward(&tok[t], 1, s_rnn, rnn.data() + size_t(t) * V, false);
  EXPECT_LE(test::tol_excess(rnn, logits, test::tol::fp32_modes), 0.0);
  EXPECT_LE(test::tol_excess(flat_state(s_rnn), flat_state(s_gpt), test::tol::fp32_modes), 0.0);

  // Chunked prefill with uneven splits; only the last logits requested.
  for (std::vector<int> splits : {std::vector<int>{1, 299}, {17, 16, 200, 67}, {150, 150}}) {
    RunnerState s = m->zero_state();
    std::vector<float> last(V);
    int t0 = 0;
    for (int n : splits) {
      m->forward(tok.data() + t0, n, s, t0 + n == T ? last.data() : nullptr, false);
      t0 += n;
    }
    std::vector<float> ref(logits.end() - V, logits.end());
    EXPECT_LE(test::tol_excess(last, ref, test::tol::fp32_modes), 0.0);
    EXPECT_LE(test::tol_excess(flat_state(s), flat_state(s_gpt), test::tol::fp32_modes), 0.0);
  }
}

TEST(Rwkv7Forward, MatchesTrainingForward) {
  Rwkv7Params p = tiny_params(3);
  Model7 m = load7(p.to_state_dict(DType::F32), "tiny");
  const int T = 40, V = m->config().vocab_size;
  std::mt19937 g(4);
  std::vector<int32_t> tok(T + 1);
  for (auto& t : tok) t = int32_t(g() % V);
  RunnerState s = m->zero_state();
  std::vector<float> logits(size_t(T) * V);
  m->forward(tok.data(), T, s, logits.data(), true);
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
  Model7 m = load7(p.to_state_dict(DType::F32), "tiny");
  RunnerState s = m->zero_state();
  int32_t bad = m->config().vocab_size;
  EXPECT_THROW(m->forward(&bad, 1, s, nullptr, false), Error);
  RunnerState other;
  int32_t ok = 1;
  EXPECT_THROW(m->forward(&ok, 1, other, nullptr, false), Error);
}

// ---- the official fixture (fp64 reference of RWKV-LM train_temp) ----

namespace {

using Fixture = test::Rwkv7Fixture;  // tokens (2, 33)

// GPT-mode logits (B, T, V) and the per-sequence final states of a model on the fixture tokens.
void run_fixture(const Model7& m, const Fixture& f, std::vector<float>& logits,
                 std::vector<RunnerState>& states) {
  const int T = f.T, V = m->config().vocab_size;
  logits.assign(size_t(f.B) * T * V, 0.f);
  states.clear();
  for (int b = 0; b < f.B; b++) {
    RunnerState s = m->zero_state();
    m->forward(f.tokens.data() + size_t(b) * (f.T + 1), T, s, logits.data() + size_t(b) * T * V, true);
    states.push_back(std::move(s));
  }
}

// state.{l}.{att_x|wkv|ffn_x} of the fixture layout (B, ...) from per-sequence states.
std::vector<float> gather_state(const std::vector<RunnerState>& st, int l, const char* what) {
  std::vector<float> out;
  for (const RunnerState& s : st) {
    std::vector<float> src = s.at("state." + std::to_string(l) + "." + what).to_f32_vec();
    out.insert(out.end(), src.begin(), src.end());
  }
  return out;
}

}  // namespace

TEST(Rwkv7Forward, FixtureLogitsAndState) {
  Fixture f = test::load_rwkv7_fixture();
  Model7 m = load7(f.model, "model.pth");
  ASSERT_EQ(m->config().n_layer, 2);
  ASSERT_EQ(m->config().n_embd, 128);
  ASSERT_EQ(m->config().vocab_size, 512);
  std::vector<float> logits;
  std::vector<RunnerState> st;
  run_fixture(m, f, logits, st);
  const std::vector<float> ref = f.expected.at("logits").to_f32_vec();
  const double err = test::rel_norm_err(logits, ref);
  std::printf("[ fixture ] GPT-mode logits relative error (norm) %.3g\n", err);
  EXPECT_LE(err, test::tol::fp32_logits.rel) << "logits relative error (norm)";
  EXPECT_LE(test::tol_excess(logits, ref, test::tol::fp32_logits), 0.0);
  for (int l = 0; l < m->config().n_layer; l++)
    for (const char* w : {"att_x", "wkv", "ffn_x"}) {
      const std::string key = "state." + std::to_string(l) + "." + w;
      const std::vector<float> sref = f.expected.at(key).to_f32_vec();
      const std::vector<float> got = gather_state(st, l, w);
      EXPECT_LE(test::tol_excess(got, sref, test::tol::fp32_logits), 0.0) << key;
      const double serr = test::rel_norm_err(got, sref);
      std::printf("[ fixture ] %s relative error (norm) %.3g\n", key.c_str(), serr);
      EXPECT_LE(serr, test::tol::fp32_logits.rel) << key;
    }
  // The loss of the fixture through the training forward.
  Rwkv7Params p = Rwkv7Params::from_state_dict(f.model, "model.pth");
  Rwkv7TrainScratch sc;
  float loss = rwkv7_forward_loss(p, f.tokens.data(), f.B, f.T, sc);
  EXPECT_NEAR(loss, f.expected.at("loss").to_f32_vec()[0], 1e-4);
}

TEST(Rwkv7Forward, FixtureRnnAndChunkedAgreeWithGpt) {
  Fixture f = test::load_rwkv7_fixture();
  Model7 m = load7(f.model, "model.pth");
  const int T = f.T, V = m->config().vocab_size;
  std::vector<float> gpt;
  std::vector<RunnerState> st;
  run_fixture(m, f, gpt, st);
  for (int b = 0; b < f.B; b++) {
    const int32_t* tok = f.tokens.data() + size_t(b) * (f.T + 1);
    std::vector<float> ref(gpt.begin() + size_t(b) * T * V, gpt.begin() + size_t(b + 1) * T * V);
    RunnerState s = m->zero_state();
    std::vector<float> rnn(size_t(T) * V);
    for (int t = 0; t < T; t++) m->forward(tok + t, 1, s, rnn.data() + size_t(t) * V, false);
    EXPECT_LE(test::tol_excess(rnn, ref, test::tol::fp32_modes), 0.0) << "RNN, sequence " << b;
    EXPECT_LE(test::tol_excess(flat_state(s), flat_state(st[b]), test::tol::fp32_modes), 0.0);
    for (int split = 1; split < T; split += 5) {  // every split point, two chunks
      RunnerState sc = m->zero_state();
      std::vector<float> part(size_t(T) * V);
      m->forward(tok, split, sc, part.data(), true);
      m->forward(tok + split, T - split, sc, part.data() + size_t(split) * V, true);
      EXPECT_LE(test::tol_excess(part, ref, test::tol::fp32_modes), 0.0) << "split " << split;
      EXPECT_LE(test::tol_excess(flat_state(sc), flat_state(st[b]), test::tol::fp32_modes), 0.0);
    }
  }
}

TEST(Rwkv7Forward, FixtureBf16AndFp16WeightsWithinRounding) {
  Fixture f = test::load_rwkv7_fixture();
  Model7 m32 = load7(f.model, "model.pth");
  std::vector<float> ref;
  std::vector<RunnerState> st;
  run_fixture(m32, f, ref, st);
  for (auto [dt, tol] : {std::pair{DType::BF16, test::tol::bf16_weights},
                         std::pair{DType::F16, test::tol::fp16_weights}}) {
    StateDict sd;
    for (auto& [name, t] : f.model.items) sd.items.emplace_back(name, t.to(dt));
    Model7 m = load7(sd, "converted");
    std::vector<float> got;
    std::vector<RunnerState> st2;
    run_fixture(m, f, got, st2);
    const double err = test::rel_norm_err(got, ref);
    std::printf("[ fixture ] %s weights: logits relative error (norm) vs fp32 %.3g\n", dtype_name(dt), err);
    EXPECT_LE(err, tol.rel) << dtype_name(dt) << " logits relative error (norm) " << err;
    EXPECT_GT(err, 0.0) << dtype_name(dt) << ": the weights were not rounded";
    // Matrices used as stored (bf16/fp16 GEMV/GEMM) = the same rounded weights widened to fp32.
    StateDict wide;
    for (auto& [name, t] : sd.items) wide.items.emplace_back(name, t.to(DType::F32));
    std::vector<float> got32;
    run_fixture(load7(wide, "widened"), f, got32, st2);
    EXPECT_LE(test::tol_excess(got, got32, test::tol::fp32_modes), 0.0) << dtype_name(dt);
  }
}
