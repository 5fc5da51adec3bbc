// test_rwkv2.cpp — RWKV-2 against the official code's fixtures (rwkv2/ Pile, rwkv2/enwik8-headqk/
// with the head-QK trick): RNN logits at every position and the final state (official layout:
// state.xx.att.{i} = state.{i}.att_x, state.aa.att.{i} = att_aa, state.bb.att.{i} = att_bb,
// state.xx.ffn.{i} = ffn_x, state.hk = the state.hk rows in use), GPT mode (the whole prompt in one
// call) vs RNN vs chunked, K_EPS 1e-9 vs 1e-8, and the head-QK window of run.py's generation loop.
#include <cmath>
#include <cstring>

#include "engine/engine.h"
#include "io/model_file.h"
#include "model/config.h"
#include "test_util.h"

namespace {

using namespace rwkv;
using rwkv::test::rel_norm_err;
namespace tol = rwkv::test::tol;

struct Fix {
  std::string dir;
  StateDict expected;
  std::vector<int32_t> tokens;
};

Fix load_fix(const std::string& rel) {
  Fix f;
  f.dir = rwkv::test::fixture(rel);
  f.expected = load_safetensors(f.dir + "/expected.safetensors");
  for (float t : f.expected.at("tokens").to_f32_vec()) f.tokens.push_back(int32_t(t));
  return f;
}

std::unique_ptr<Engine> engine(const Fix& f, float k_eps, int window = 0) {
  EngineOptions o;
  o.model.k_eps = k_eps;
  o.model.copy_window = window;
  return Engine::load(f.dir + "/model.pth", o);
}

// Logits (T, V) fed in calls of `chunk` tokens (1: RNN mode, T: GPT mode), and the final state.
std::vector<float> run(const Engine& e, const std::vector<int32_t>& toks, size_t chunk, std::vector<float>* state = nullptr) {
  StatePool pool = e.make_pool(1);
  Workspace ws;
  std::vector<float> out;
  for (size_t t = 0; t < toks.size(); t += chunk) {
    const size_t n = std::min(chunk, toks.size() - t);
    BatchEntry b{0, {toks.data() + t, n}, Logits::All};
    e.forward({&b, 1}, pool, ws);
    out.insert(out.end(), ws.logits(0), ws.logits(0) + n * size_t(e.vocab_size()));
  }
  if (state) *state = pool.snapshot(0);
  return out;
}

// Worst relative error in norm over the positions (rows of V).
double worst_row_err(const std::vector<float>& got, const std::vector<float>& ref, int64_t V) {
  double w = 0;
  for (size_t r = 0; r * V < ref.size(); r++) {
    std::vector<float> a(got.begin() + r * V, got.begin() + (r + 1) * V), b(ref.begin() + r * V, ref.begin() + (r + 1) * V);
    w = std::max(w, rel_norm_err(a, b));
  }
  return w;
}

// Our state slot vs the official RWKV_RNN attributes: every tensor by relative error in norm
// (<= 1e-5), and aa, bb (which span 1e-12..1e26, so the norm sees only the largest) also per
// element.
double worst_elem = 0;  // of the last state_err call: aa / bb per element
double state_err(const Engine& e, const std::vector<float>& slot, const StateDict& want) {
  const StateLayout& lay = e.state_layout();
  double w = 0;
  worst_elem = 0;
  auto cmp = [&](const std::string& ours, const std::string& theirs, int64_t n, bool per_element) {
    const StatePart* p = lay.find(ours);
    EXPECT_NE(p, nullptr) << ours;
    if (!p) return;
    std::vector<float> ref = want.at(theirs).to_f32_vec();
    EXPECT_EQ(int64_t(ref.size()), n) << theirs;
    if (int64_t(ref.size()) != n) return;
    std::vector<float> got(slot.begin() + p->offset, slot.begin() + p->offset + n);
    const double err = rel_norm_err(got, ref);
    EXPECT_LE(err, 1e-5) << ours << " vs " << theirs;
    w = std::max(w, err);
    double elem = 0;  // aa, bb: every element, however small, to the fp32 limit of exp(W_k x)
    for (int64_t j = 0; j < n && per_element; j++)
      elem = std::max(elem, std::abs(double(got[size_t(j)]) - ref[size_t(j)]) / std::abs(double(ref[size_t(j)])));
    EXPECT_LE(elem, tol::rwkv2_state_elem.rel) << ours << " vs " << theirs;
    worst_elem = std::max(worst_elem, elem);
  };
  const ModelConfig& c = e.config();
  for (int i = 0; i < c.n_layer; i++) {
    const std::string s = "state." + std::to_string(i) + ".", li = std::to_string(i);
    cmp(s + "att_x", "state.xx.att." + li, c.n_embd, false);
    cmp(s + "att_aa", "state.aa.att." + li, c.dim_att, true);
    cmp(s + "att_bb", "state.bb.att." + li, c.dim_att, true);
    cmp(s + "ffn_x", "state.xx.ffn." + li, c.n_embd, false);
  }
  if (want.has("state.hk")) cmp("state.hk", "state.hk", want.at("state.hk").numel(), false);
  return w;
}

struct Case {
  const char* rel;
  float k_eps;  // of the fixture's `logits`
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.rel; }
class Rwkv2Fixture : public ::testing::TestWithParam<Case> {};

TEST_P(Rwkv2Fixture, RnnLogitsAndStateMatchOfficial) {
  Fix f = load_fix(GetParam().rel);
  auto e = engine(f, GetParam().k_eps);
  EXPECT_EQ(e->config().arch, Arch::RWKV2);
  std::vector<float> st;
  auto lg = run(*e, f.tokens, 1, &st);
  const double err = worst_row_err(lg, f.expected.at("logits").to_f32_vec(), e->vocab_size());
  EXPECT_LE(err, 1e-5);
  const double serr = state_err(*e, st, f.expected);
  EXPECT_LE(serr, 1e-5);
  std::printf("[ rwkv2 ] %s: RNN logits worst rel. error per position %.3g, state worst rel. error in norm %.3g, "
              "aa/bb worst per element %.3g\n", GetParam().rel, err, serr, worst_elem);
}

TEST_P(Rwkv2Fixture, GptModeMatchesRnnChunkedAndOfficialGpt) {
  Fix f = load_fix(GetParam().rel);
  auto e = engine(f, GetParam().k_eps);
  const int V = e->vocab_size();
  std::vector<float> s1, sT, s5;
  auto rnn = run(*e, f.tokens, 1, &s1);
  auto gpt = run(*e, f.tokens, f.tokens.size(), &sT);
  auto chunked = run(*e, f.tokens, 5, &s5);
  EXPECT_LE(worst_row_err(gpt, rnn, V), tol::fp32_modes.rel);
  EXPECT_LE(worst_row_err(chunked, rnn, V), tol::fp32_modes.rel);
  EXPECT_LE(rel_norm_err(sT, s1), tol::fp32_modes.rel);
  EXPECT_LE(rel_norm_err(s5, s1), tol::fp32_modes.rel);
  const double err = worst_row_err(gpt, f.expected.at("logits_gpt").to_f32_vec(), V);
  EXPECT_LE(err, 1e-5);
  std::printf("[ rwkv2 ] %s: GPT mode vs official GPT %.3g, vs RNN %.3g\n", GetParam().rel, err, worst_row_err(gpt, rnn, V));
}

// --k_eps: 1e-9 and 1e-8 each match their official run, and their difference is the official one.
TEST_P(Rwkv2Fixture, KEpsSwitchReproducesOfficialDifference) {
  Fix f = load_fix(GetParam().rel);
  const int V = int(f.expected.at("logits").shape[2]);
  auto a = run(*engine(f, 1e-9f), f.tokens, f.tokens.size());
  auto b = run(*engine(f, 1e-8f), f.tokens, f.tokens.size());
  auto ra = f.expected.at("logits_keps_1e-9").to_f32_vec(), rb = f.expected.at("logits_keps_1e-8").to_f32_vec();
  EXPECT_LE(worst_row_err(a, ra, V), 1e-5);
  EXPECT_LE(worst_row_err(b, rb, V), 1e-5);
  double ours = 0, theirs = 0;
  for (size_t i = 0; i < ra.size(); i++) {
    ours = std::max(ours, double(std::abs(a[i] - b[i])));
    theirs = std::max(theirs, double(std::abs(ra[i] - rb[i])));
  }
  EXPECT_NEAR(ours, theirs, 1e-4 * std::max(1.0, theirs));
  std::printf("[ rwkv2 ] %s: K_EPS 1e-9 vs 1e-8 max |logit difference| ours %.6f, official %.6f\n", GetParam().rel, ours,
              theirs);
}

INSTANTIATE_TEST_SUITE_P(Models, Rwkv2Fixture, ::testing::Values(Case{"rwkv2", 1e-9f}, Case{"rwkv2/enwik8-headqk", 1e-16f}),
                         [](const auto& info) { return std::string(info.index == 0 ? "Pile" : "Enwik8HeadQk"); });

// run.py's generation loop with ctx_len 16 < T: the copy term covers only the last 16 tokens.
TEST(Rwkv2HeadQk, WindowOf16MatchesOfficialWindowRun) {
  Fix f = load_fix("rwkv2/enwik8-headqk");
  auto e = engine(f, 1e-16f, 16);
  const int V = e->vocab_size();
  auto rnn = run(*e, f.tokens, 1);
  EXPECT_LE(worst_row_err(rnn, f.expected.at("logits_window16").to_f32_vec(), V), 1e-5);
  auto gpt = run(*e, f.tokens, f.tokens.size());
  EXPECT_LE(worst_row_err(gpt, rnn, V), tol::fp32_modes.rel);
  // without the window the late positions differ from the windowed run
  auto full = run(*engine(f, 1e-16f), f.tokens, 1);
  EXPECT_GT(worst_row_err(full, rnn, V), 1e-3);
}

TEST(Rwkv2Detect, KeysAndDefaults) {
  Fix pile = load_fix("rwkv2");
  StateDict sd = load_model_file(pile.dir + "/model.pth");
  ModelConfig c = detect_config(sd, "pile");
  EXPECT_EQ(c.arch, Arch::RWKV2);
  EXPECT_EQ(c.n_layer, 4);
  EXPECT_EQ(c.n_embd, 64);
  EXPECT_EQ(c.dim_ffn, 256);
  EXPECT_EQ(c.head_qk, 0);
  ModelConfig h = detect_config(load_model_file(rwkv::test::fixture("rwkv2/enwik8-headqk/model.pth")), "enwik8");
  EXPECT_EQ(h.head_qk, 256);
  EXPECT_EQ(h.copy_len, 32);
  // a Pile file with the enwik8 head tensors is refused; so is an RWKV-4 key in an RWKV-2 file
  StateDict bad = sd;
  bad.items.emplace_back("blocks.0.att.time_mix_k", sd.at("blocks.0.att.time_mix"));
  EXPECT_NE(rwkv::test::error_of([&] { detect_config(bad, "bad"); }).find("mixed layout"), std::string::npos);
  // the default K_EPS of a Pile model is 1e-8 (the README's edit): it reproduces logits_keps_1e-8
  auto e = Engine::load(pile.dir + "/model.pth");
  auto lg = run(*e, pile.tokens, 1);
  EXPECT_LE(worst_row_err(lg, pile.expected.at("logits_keps_1e-8").to_f32_vec(), e->vocab_size()), 1e-5);
}

}  // namespace
