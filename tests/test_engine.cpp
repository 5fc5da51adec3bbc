// test_engine.cpp — the engine's batch contract on the fixture models of every version
// (RWKV-2 with the head-QK copy window, RWKV-4, 5.2, 6.0, 7): 8 sequences of different lengths run together — prefill chunks and
// single-token decode steps mixed in the same calls, slots scrambled, entries reordered, a
// workspace that splits calls into passes — give each sequence's logits and final state as
// the sequence run alone; slot snapshot/restore; errors change nothing.
#include <algorithm>
#include <cstring>
#include <random>

#include "engine/engine.h"
#include "model/config.h"
#include "test_util.h"

using namespace rwkv;
using rwkv::test::rel_norm_err;
using rwkv::test::tol_excess;
namespace tol = rwkv::test::tol;

namespace {

const char* kModels[] = {"rwkv2/enwik8-headqk", "pip/rwkv4-L2-D128-V512", "pip/rwkv5-L2-D128-V512", "pip/rwkv6-L2-D128-V512",
                         "rwkv7-L2-D128-V512"};

std::unique_ptr<Engine> load(const std::string& dir) { return Engine::load(rwkv::test::fixture(dir) + "/model.pth"); }

std::vector<std::vector<int32_t>> sequences(int V, uint32_t seed) {
  const int lens[8] = {1, 300, 17, 64, 2, 129, 45, 250};
  std::mt19937 g(seed);
  std::vector<std::vector<int32_t>> s(8);
  for (int i = 0; i < 8; i++)
    for (int t = 0; t < lens[i]; t++) s[i].push_back(int32_t(g() % V));
  return s;
}

// Logits (n, V) and final state of one sequence fed alone in one call.
void run_alone(const Engine& e, const std::vector<int32_t>& toks, std::vector<float>& logits, std::vector<float>& state) {
  StatePool pool = e.make_pool(1);
  Workspace ws(1024);
  BatchEntry b{0, toks, Logits::All};
  e.forward({&b, 1}, pool, ws);
  logits.assign(ws.logits(0), ws.logits(0) + toks.size() * size_t(e.vocab_size()));
  state = pool.snapshot(0);
}

// The sequences fed together: decode steps and prefill chunks mixed, slots scrambled, entries
// shuffled; a workspace of max_rows rows per pass. Returns each sequence's logits (n, V) and
// final state.
void run_mixed(const Engine& e, const std::vector<std::vector<int32_t>>& seqs, int max_rows,
               std::vector<std::vector<float>>& got, std::vector<std::vector<float>>& state) {
  const int S = int(seqs.size()), V = e.vocab_size();
  const int slot_of[8] = {5, 2, 7, 0, 3, 6, 1, 4};  // scrambled slots in a pool of 8
  StatePool pool = e.make_pool(8);
  Workspace ws(max_rows);
  std::vector<size_t> done(S, 0);
  got.assign(S, {});
  std::mt19937 g(11);
  const int chunks[] = {1, 33, 1, 7, 64, 1, 2, 100};  // decode steps and prefill chunks
  for (int step = 0;; step++) {
    std::vector<BatchEntry> batch;
    std::vector<int> who;
    for (int i = 0; i < S; i++) {
      if (done[i] == seqs[i].size()) continue;
      size_t n = std::min<size_t>(chunks[(i + step) % 8], seqs[i].size() - done[i]);
      batch.push_back({slot_of[i], {seqs[i].data() + done[i], n}, Logits::All});
      who.push_back(i);
    }
    if (batch.empty()) break;
    std::vector<int> order(batch.size());  // entries in a shuffled order
    for (size_t k = 0; k < order.size(); k++) order[k] = int(k);
    std::shuffle(order.begin(), order.end(), g);
    std::vector<BatchEntry> shuffled;
    for (int k : order) shuffled.push_back(batch[k]);
    e.forward(shuffled, pool, ws);
    for (size_t k = 0; k < order.size(); k++) {
      const int i = who[order[k]];
      const BatchEntry& en = shuffled[k];
      ASSERT_EQ(ws.logits_rows(int(k)), int64_t(en.tokens.size()));
      got[i].insert(got[i].end(), ws.logits(int(k)), ws.logits(int(k)) + en.tokens.size() * V);
      done[i] += en.tokens.size();
    }
  }
  state.assign(S, {});
  for (int i = 0; i < S; i++) state[i] = pool.snapshot(slot_of[i]);
}

class EngineBatch : public ::testing::TestWithParam<const char*> {};

TEST_P(EngineBatch, MixedBatchMatchesEachSequenceAlone) {
  auto e = load(GetParam());
  const int V = e->vocab_size();
  auto seqs = sequences(V, 7);
  const int S = int(seqs.size());
  std::vector<std::vector<float>> ref_logits(S), ref_state(S);
  for (int i = 0; i < S; i++) run_alone(*e, seqs[i], ref_logits[i], ref_state[i]);

  double worst = 0, worst_state = 0;  // relative error in norm
  for (int max_rows : {1024, 48}) {  // 48: calls are split into passes mid-sequence
    std::vector<std::vector<float>> got, st;
    run_mixed(*e, seqs, max_rows, got, st);
    for (int i = 0; i < S; i++) {
      SCOPED_TRACE(testing::Message() << GetParam() << " sequence " << i << " (" << seqs[i].size()
                                      << " tokens), max_rows " << max_rows);
      const double err = rel_norm_err(got[i], ref_logits[i]);
      worst = std::max(worst, err);
      EXPECT_LE(err, tol::batch_vs_alone.rel);
      const double serr = rel_norm_err(st[i], ref_state[i]);
      worst_state = std::max(worst_state, serr);
      const bool v2 = e->config().arch == Arch::RWKV2;
      EXPECT_LE(serr, v2 ? tol::rwkv2_state_batch_vs_alone.rel : tol::batch_vs_alone.rel);
    }
  }
  std::printf("[ batch ] %s: worst relative error (norm) vs alone: logits %.3g, state %.3g\n", GetParam(), worst,
              worst_state);
}

// EngineOptions::row_invariant: the same mixed batches give every sequence's logits and state
// bit for bit as the sequence alone (one call), and as token by token (the decode path).
TEST_P(EngineBatch, RowInvariantBatchIsBitIdentical) {
  EngineOptions o;
  o.row_invariant = true;
  auto e = Engine::load(rwkv::test::fixture(GetParam()) + "/model.pth", o);
  auto plain = load(GetParam());
  const int V = e->vocab_size();
  auto seqs = sequences(V, 9);
  const int S = int(seqs.size());
  std::vector<std::vector<float>> got, st, got2, st2;
  run_mixed(*e, seqs, 48, got, st);
  run_mixed(*plain, seqs, 48, got2, st2);
  int differs_without = 0;
  for (int i = 0; i < S; i++) {
    SCOPED_TRACE(testing::Message() << GetParam() << " sequence " << i << " (" << seqs[i].size() << " tokens)");
    std::vector<float> ref, ref_state;
    run_alone(*e, seqs[i], ref, ref_state);
    ASSERT_EQ(got[i].size(), ref.size());
    EXPECT_EQ(std::memcmp(got[i].data(), ref.data(), ref.size() * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(st[i].data(), ref_state.data(), ref_state.size() * sizeof(float)), 0);
    // token by token: the M == 1 path
    StatePool pool = e->make_pool(1);
    Workspace ws;
    for (size_t t = 0; t < seqs[i].size(); t++) {
      BatchEntry b{0, {seqs[i].data() + t, 1}, Logits::Last};
      e->forward({&b, 1}, pool, ws);
      ASSERT_EQ(std::memcmp(ws.logits(0), ref.data() + t * V, V * sizeof(float)), 0) << "token " << t;
    }
    differs_without += std::memcmp(got2[i].data(), ref.data(), ref.size() * sizeof(float)) != 0;
  }
  // the check has teeth: without the option, batching changes some sequence's bits
  EXPECT_GT(differs_without, 0);
}

TEST_P(EngineBatch, LastLogitsAndNoneMixed) {
  auto e = load(GetParam());
  const int V = e->vocab_size();
  auto seqs = sequences(V, 3);
  std::vector<float> ref0, ref1, st0, st1;
  run_alone(*e, seqs[2], ref0, st0);
  run_alone(*e, seqs[3], ref1, st1);
  StatePool pool = e->make_pool(3);
  Workspace ws;
  BatchEntry b[2] = {{2, seqs[2], Logits::None}, {0, seqs[3], Logits::Last}};
  e->forward(b, pool, ws);
  EXPECT_EQ(ws.logits(0), nullptr);
  EXPECT_EQ(ws.logits_rows(1), 1);
  std::vector<float> last(ws.logits(1), ws.logits(1) + V), ref(ref1.end() - V, ref1.end());
  EXPECT_LE(tol_excess(last, ref, tol::batch_vs_alone), 0.0);
  if (e->config().arch == Arch::RWKV2)  // exp(W_k x) amplifies another product's rounding (tol table)
    EXPECT_LE(rel_norm_err(pool.snapshot(2), st0), tol::rwkv2_state_batch_vs_alone.rel);
  else
    EXPECT_LE(tol_excess(pool.snapshot(2), st0, tol::batch_vs_alone), 0.0);
  EXPECT_EQ(pool.snapshot(1), e->state_layout().initial);  // untouched slot
}

TEST_P(EngineBatch, SnapshotRestoreIsBitIdentical) {
  auto e = load(GetParam());
  const int V = e->vocab_size();
  auto seqs = sequences(V, 5);
  StatePool pool = e->make_pool(2);
  Workspace ws;
  BatchEntry pre{1, seqs[3], Logits::None};
  e->forward({&pre, 1}, pool, ws);
  const std::vector<float> snap = pool.snapshot(1);
  std::vector<int32_t> twenty(seqs[1].begin(), seqs[1].begin() + 20);
  auto run20 = [&] {
    std::vector<float> out;
    for (int32_t t : twenty) {  // 20 decode steps
      BatchEntry b{1, {&t, 1}, Logits::Last};
      e->forward({&b, 1}, pool, ws);
      out.insert(out.end(), ws.logits(0), ws.logits(0) + V);
    }
    return out;
  };
  std::vector<float> a = run20();
  pool.restore(1, snap);
  EXPECT_EQ(pool.snapshot(1), snap);
  std::vector<float> b = run20();
  EXPECT_EQ(a, b);  // bit-identical
  // copy slot -> slot, then the same tokens: the same logits and state
  pool.restore(1, snap);
  pool.copy(1, 0);
  BatchEntry c0{0, twenty, Logits::Last}, c1{1, twenty, Logits::Last};
  e->forward({&c0, 1}, pool, ws);
  std::vector<float> l0(ws.logits(0), ws.logits(0) + V);
  e->forward({&c1, 1}, pool, ws);
  EXPECT_EQ(l0, std::vector<float>(ws.logits(0), ws.logits(0) + V));
  EXPECT_EQ(pool.snapshot(0), pool.snapshot(1));
  // named round trip
  StateDict named = pool.to_state_dict(0);
  pool.zero(1);
  pool.from_state_dict(1, named, "named");
  EXPECT_EQ(pool.snapshot(0), pool.snapshot(1));
}

TEST_P(EngineBatch, BadBatchIsAnErrorAndChangesNothing) {
  auto e = load(GetParam());
  const int V = e->vocab_size();
  StatePool pool = e->make_pool(2);
  Workspace ws;
  int32_t ok[2] = {1, 2}, bad[2] = {3, V};
  const std::vector<float> fresh = pool.snapshot(0);
  auto err = [&](std::vector<BatchEntry> b) { return rwkv::test::error_of([&] { e->forward(b, pool, ws); }); };
  EXPECT_NE(err({{0, ok, Logits::Last}, {1, bad, Logits::Last}}).find("vocabulary"), std::string::npos);
  EXPECT_NE(err({{0, ok, Logits::Last}, {0, ok, Logits::Last}}).find("twice"), std::string::npos);
  EXPECT_NE(err({{2, ok, Logits::Last}}).find("slot 2"), std::string::npos);
  EXPECT_NE(err({{1, {ok, size_t(0)}, Logits::Last}}).find("no tokens"), std::string::npos);
  EXPECT_EQ(pool.snapshot(0), fresh);
  EXPECT_EQ(pool.snapshot(1), fresh);
  StatePool other = load(GetParam() == std::string(kModels[3]) ? kModels[0] : kModels[3])->make_pool(1);
  BatchEntry b{0, ok, Logits::Last};
  EXPECT_NE(rwkv::test::error_of([&] { e->forward({&b, 1}, other, ws); }).find("another model"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Versions, EngineBatch, ::testing::ValuesIn(kModels),
                         [](const auto& info) { return std::string(1, "24567"[info.index]); });

}  // namespace
