// test_engine_threads.cpp — reentrancy: one engine driven from two threads, each with its own
// workspace and state pool, gives bit for bit what one thread gives running the same calls in
// turn; and a state file written by the code before the engine (tests/data) still loads.
#include <thread>

#include "engine/engine.h"
#include "engine/state_file.h"
#include "infer/session.h"
#include "test_util.h"

using namespace rwkv;

namespace {

// Feeds 3 sequences in mixed calls (a prefill chunk, then decode steps) and returns every
// logit produced plus the final states.
std::vector<float> workload(const Engine& e, uint32_t seed) {
  const int V = e.vocab_size();
  StatePool pool = e.make_pool(3);
  Workspace ws;
  std::vector<float> out;
  std::vector<int32_t> toks(40);
  for (size_t i = 0; i < toks.size(); i++) toks[i] = int32_t((seed * 2654435761u + i * 40503u) % V);
  for (int step = 0; step < 12; step++) {
    std::span<const int32_t> t(toks);
    BatchEntry b[3] = {{2, t.subspan(step, 1), Logits::Last},
                       {0, t.subspan(step, step % 3 == 0 ? 9 : 1), Logits::All},
                       {1, t.subspan(39 - step, 1), Logits::Last}};
    e.forward(b, pool, ws);
    for (int k = 0; k < 3; k++) out.insert(out.end(), ws.logits(k), ws.logits(k) + ws.logits_rows(k) * V);
  }
  for (int s = 0; s < 3; s++) {
    std::vector<float> st = pool.snapshot(s);
    out.insert(out.end(), st.begin(), st.end());
  }
  return out;
}

}  // namespace

TEST(EngineThreads, TwoWorkspacesOnTwoThreadsEqualSerialRuns) {
  for (const char* dir : {"rwkv7-L2-D128-V512", "pip/rwkv6-L2-D128-V512", "pip/rwkv4-L2-D128-V512"}) {
    auto e = Engine::load(rwkv::test::fixture(dir) + "/model.pth");
    const std::vector<float> a = workload(*e, 1), b = workload(*e, 2);
    for (int round = 0; round < 3; round++) {
      std::vector<float> ta, tb;
      std::thread t1([&] { ta = workload(*e, 1); });
      std::thread t2([&] { tb = workload(*e, 2); });
      t1.join();
      t2.join();
      EXPECT_EQ(ta, a) << dir << " thread 1, round " << round;
      EXPECT_EQ(tb, b) << dir << " thread 2, round " << round;
    }
    // a second engine over the same file agrees too
    auto e2 = Engine::load(rwkv::test::fixture(dir) + "/model.pth");
    EXPECT_EQ(workload(*e2, 1), a) << dir;
  }
}

TEST(EngineThreads, StateFileFromBeforeTheEngineLoads) {
  // tests/data/rwkv7-chat-before-engine.state: written by `rwkv chat` (/save) of the commit
  // before the engine, on the rwkv7-L2-D128-V512 fixture model after "User: hello...".
  const std::string path = std::string(RWKV_SOURCE_DIR) + "/tests/data/rwkv7-chat-before-engine.state";
  auto e = Engine::load(rwkv::test::fixture("rwkv7-L2-D128-V512") + "/model.pth");
  Session s(*e);
  s.load(path);
  ASSERT_TRUE(s.has_logits());
  std::vector<float> saved = s.logits();
  StateDict st = s.state();
  EXPECT_EQ(st.size(), e->state_layout().parts.size());
  std::vector<float> lg;
  StateDict raw = read_state_file(path, e->config(), &lg);
  EXPECT_EQ(lg, saved);
  for (auto& [name, t] : st.items) EXPECT_EQ(t.to_f32_vec(), raw.at(name).to_f32_vec()) << name;
  // It continues like a live session would: the next token's logits are finite.
  s.feed(std::vector<int32_t>{5});
  for (float x : s.logits()) ASSERT_TRUE(std::isfinite(x));
}
