// test_steal_ranges.cpp — core/steal_ranges.h: every unit of [0, n) done exactly once, in pieces of
// at most `chunk` consecutive units, for teams of 1-5 threads (also when the region gets fewer
// threads than the parts were cut for), and a thread that stalls has its part taken by the others.
#include <omp.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/steal_ranges.h"

using namespace rwkv;

TEST(StealRanges, EveryUnitOnceInPiecesOfAtMostChunk) {
  for (int team : {1, 2, 3, 5})
    for (int extra : {0, 2, 7})  // parts cut for more threads than the region gets (past 8: on the heap)
      for (int64_t n : {0, 1, 5, 100, 1000, 12345})
        for (int64_t chunk : {1, 3, 64}) {
          const int nt = team + extra;
          std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
          std::atomic<bool> bad_piece{false};
          StealRanges parts(n, nt);
#pragma omp parallel num_threads(team)
          parts.run(chunk, [&](int64_t u0, int64_t u1) {
            if (u0 >= u1 || u1 - u0 > chunk || u0 < 0 || u1 > n) bad_piece = true;
            for (int64_t u = u0; u < u1 && u < n && u >= 0; u++) hits[size_t(u)]++;
          });
          EXPECT_FALSE(bad_piece) << "team " << team << " parts " << nt << " n " << n << " chunk " << chunk;
          int64_t wrong = 0;
          for (auto& h : hits) wrong += h.load() != 1;
          EXPECT_EQ(wrong, 0) << "team " << team << " parts " << nt << " n " << n << " chunk " << chunk;
        }
}

TEST(StealRanges, StalledThreadsPartIsTakenByTheOthers) {
  const int64_t n = 4000;
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  std::atomic<int64_t> by_first{0};
  std::atomic<int> team{0};
  StealRanges parts(n, 2);
#pragma omp parallel num_threads(2)
  {
    team = omp_get_num_threads();
    bool stalled = false;
    parts.run(1, [&](int64_t u0, int64_t u1) {
      if (omp_get_thread_num() == 0) {
        if (!stalled) std::this_thread::sleep_for(std::chrono::milliseconds(300));
        stalled = true;
        by_first += u1 - u0;
      }
      for (int64_t u = u0; u < u1; u++) hits[size_t(u)]++;
    });
  }
  if (team < 2) GTEST_SKIP() << "the region got one thread";
  int64_t wrong = 0;
  for (auto& h : hits) wrong += h.load() != 1;
  EXPECT_EQ(wrong, 0);
  // thread 0 owned [0, 2000); stalled in its first unit, it is left a few units of it at most
  EXPECT_LT(by_first.load(), 50) << "thread 0 did " << by_first.load() << " of 4000 units";
}
