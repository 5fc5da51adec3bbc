// test_team.cpp — core/team.h: inside team_scope every team_run step runs once on each thread of
// the team (thread ids and team size as OpenMP reports them), steps see what thread 0 wrote
// before them and thread 0 sees what they wrote; exceptions from a worker's step, thread 0's step
// and the body reach the caller and leave the threads usable; a team_run from inside a step, or
// a scope inside another parallel region, runs on the calling thread alone; and the decode
// products (q4, bf16, fp32 x @ W) give the same bits inside a scope as outside one.
#include <omp.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "core/team.h"
#include "ops/gemv.h"
#include "ops/q4.h"

using namespace rwkv;

namespace {
// the OpenMP team size this process runs with, at least 2 for these tests
struct TwoThreads {
  int saved = omp_get_max_threads();
  TwoThreads() { omp_set_num_threads(std::max(2, saved)); }
  ~TwoThreads() { omp_set_num_threads(saved); }
};
}  // namespace

TEST(Team, EveryStepOnceOnEachThreadWithTheirIds) {
  TwoThreads two;
  const int nt = omp_get_max_threads();
  std::vector<int> data(1000, 0);
  int sizes_seen = 0;
  team_scope([&] {
    sizes_seen = team_threads();
    for (int step = 0; step < 1000; step++) {
      data[size_t(step)] = step;  // written by thread 0 before the step
      std::vector<std::atomic<int>> ran(static_cast<size_t>(nt));
      std::atomic<int> bad{0};
      team_run([&](int t) {
        if (t != omp_get_thread_num() || omp_get_num_threads() != nt || data[size_t(step)] != step) bad++;
        ran[size_t(t)]++;
      });
      ASSERT_EQ(bad.load(), 0) << "step " << step;
      for (int t = 0; t < nt; t++) ASSERT_EQ(ran[size_t(t)].load(), 1) << "step " << step << " thread " << t;
    }
  });
  EXPECT_EQ(sizes_seen, nt);
  EXPECT_EQ(team_threads(), nt);  // outside: the OpenMP default again
}

TEST(Team, WorkersWritesAreSeenAfterTheStep) {
  TwoThreads two;
  const int nt = omp_get_max_threads();
  team_scope([&] {
    for (int step = 0; step < 2000; step++) {
      std::vector<int64_t> out(size_t(nt) * 16, -1);  // a cache line per thread
      team_run([&](int t) { out[size_t(t) * 16] = int64_t(step) * 100 + t; });
      for (int t = 0; t < nt; t++) ASSERT_EQ(out[size_t(t) * 16], int64_t(step) * 100 + t);
    }
  });
}

TEST(Team, ExceptionsReachTheCallerAndTheTeamGoesOn) {
  TwoThreads two;
  int after = 0;
  team_scope([&] {
    EXPECT_THROW(team_run([](int t) { if (t == 1) throw std::runtime_error("worker"); }), std::runtime_error);
    EXPECT_THROW(team_run([](int t) { if (t == 0) throw std::runtime_error("thread 0"); }), std::runtime_error);
    std::atomic<int> ran{0};
    team_run([&](int) { ran++; });  // the team still runs steps
    after = ran.load();
  });
  EXPECT_EQ(after, omp_get_max_threads());
  EXPECT_THROW(team_scope([] { throw std::invalid_argument("body"); }), std::invalid_argument);
  // outside a scope (a plain omp region) a worker's exception reaches the caller too
  EXPECT_THROW(team_run([](int t) { if (t == 1) throw std::runtime_error("worker"); }), std::runtime_error);
  std::atomic<int> ran{0};
  team_scope([&] { team_run([&](int) { ran++; }); });  // a new scope after one that threw
  EXPECT_EQ(ran.load(), omp_get_max_threads());
}

TEST(Team, NestedRunsAndScopesUseTheCallingThreadAlone) {
  TwoThreads two;
  std::atomic<int> inner{0}, inner_size{0};
  team_scope([&] {
    team_run([&](int) {
      team_run([&](int t) { inner += t == 0; });  // from a step: this thread only
      inner_size += team_threads();
    });
    team_scope([&] { inner += 100 * (team_threads() == omp_get_max_threads()); });  // already held: body alone
  });
  const int nt = omp_get_max_threads();
  EXPECT_EQ(inner.load(), nt + 100);
  EXPECT_EQ(inner_size.load(), nt);
  std::atomic<int> in_region{0};
#pragma omp parallel num_threads(2)
  team_scope([&] { team_run([&](int t) { in_region += t == 0 && team_threads() == 1; }); });
  EXPECT_EQ(in_region.load(), 2);
}

TEST(Team, ProductsGiveTheSameBitsInAScope) {
  TwoThreads two;
  // a q4 and a bf16 decode product (their row splits go through team_run) inside and outside
  const int64_t N = 3072, K = 768;
  std::vector<float> W(static_cast<size_t>(N * K)), x(static_cast<size_t>(K));
  for (size_t i = 0; i < W.size(); i++) W[i] = float(int(i * 2654435761u % 2001) - 1000) * 1e-4f;
  for (size_t i = 0; i < x.size(); i++) x[i] = float(int(i * 40503u % 201) - 100) * 1e-2f;
  std::vector<uint8_t> q(size_t(N * K / 2));
  std::vector<uint16_t> d(size_t(N * K / 32)), m(size_t(N * K / 32)), wb(W.size());
  q4_quantize(q.data(), d.data(), m.data(), W.data(), N, K);
  std::vector<uint8_t> packed(size_t(N * q4_row_bytes(K)));
  q4_pack(packed.data(), q.data(), d.data(), m.data(), N, K);
  const Q4Weight w4{packed.data(), N, K};
  for (size_t i = 0; i < W.size(); i++) wb[i] = f32_to_bf16(W[i]);
  const size_t n_out = static_cast<size_t>(N);
  std::vector<float> y4(n_out), yb(n_out), s4(n_out), sb(n_out);
  q4_forward(y4.data(), x.data(), w4, 1);
  gemv_forward(yb.data(), x.data(), wb.data(), DType::BF16, N, K);
  team_scope([&] {
    q4_forward(s4.data(), x.data(), w4, 1);
    gemv_forward(sb.data(), x.data(), wb.data(), DType::BF16, N, K);
  });
  EXPECT_EQ(y4, s4);
  EXPECT_EQ(yb, sb);
  // x @ W for fp32 W (K, N) row-major (RWKV-6's LoRAs): many column tiles, and few (split over k)
  for (int64_t n : {int64_t(768), int64_t(64)}) {
    const size_t nn = static_cast<size_t>(n);
    std::vector<float> yp(nn), sp(nn);
    gemv_plain_forward(yp.data(), x.data(), W.data(), K, n);
    team_scope([&] { gemv_plain_forward(sp.data(), x.data(), W.data(), K, n); });
    EXPECT_EQ(yp, sp) << "N " << n;
  }
}
