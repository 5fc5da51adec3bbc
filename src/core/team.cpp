// team.cpp — the mailbox of core/team.h: thread 0 publishes a step (function, context) by
// bumping a generation counter; the other threads spin on it, run the step, and count
// themselves done. One cache line each way per step.
#include "core/team.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>

namespace rwkv::team_detail {

namespace {
struct Team {
  alignas(64) std::atomic<uint64_t> gen{0};  // steps posted (bumped once more to stop)
  Step step = nullptr;
  void* ctx = nullptr;
  bool stop = false;
  int nt = 1;
  alignas(64) std::atomic<uint64_t> done{0};  // steps finished by the workers, summed
  std::mutex err_mu;
  std::exception_ptr err;  // the first exception of a worker's step
};
thread_local Team* tl_team = nullptr;  // set on thread 0 of a scope

// Spins until ready(); past ~4096 pauses (tens of µs: longer than any gap between the steps of
// a decode step) it yields the core at each check, so that more threads than cores, or a
// loaded machine, still make progress.
template <class Ready>
inline void wait_until(Ready ready) {
  for (int i = 0; !ready(); i++) {
    if (i < 4096) {
#if defined(__x86_64__) || defined(__i386__)
      _mm_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

void keep_error(Team& tm) {
  std::lock_guard<std::mutex> lock(tm.err_mu);
  if (!tm.err) tm.err = std::current_exception();
}

void worker(Team& tm, int me) {
  for (uint64_t seen = 0;;) {
    uint64_t g = seen;
    wait_until([&] { return (g = tm.gen.load(std::memory_order_acquire)) != seen; });
    seen = g;
    if (tm.stop) return;
    try {
      tm.step(tm.ctx, me);
    } catch (...) {
      keep_error(tm);
    }
    tm.done.fetch_add(1, std::memory_order_acq_rel);
  }
}
}  // namespace

bool held() { return tl_team != nullptr; }
int size() { return tl_team->nt; }

void run(Step step, void* ctx) {
  Team& tm = *tl_team;
  const uint64_t g = tm.gen.load(std::memory_order_relaxed) + 1;
  tm.step = step;
  tm.ctx = ctx;
  tm.gen.store(g, std::memory_order_release);
  std::exception_ptr mine;
  tl_team = nullptr;  // a team_run inside the step runs on this thread alone, as on the workers
  try {
    step(ctx, 0);
  } catch (...) {
    mine = std::current_exception();
  }
  tl_team = &tm;
  // every worker has taken each of the g steps once (the workers still read ctx until then)
  const uint64_t want = g * uint64_t(tm.nt - 1);
  wait_until([&] { return tm.done.load(std::memory_order_acquire) == want; });
  if (mine) std::rethrow_exception(mine);
  if (tm.err) {
    std::exception_ptr e = tm.err;
    tm.err = nullptr;
    std::rethrow_exception(e);
  }
}

void scope(void (*body)(void*), void* ctx) {
  // more threads than cores: spinning threads would wait on each other's time slices (3 threads
  // on 2 cores decoded q4 at 106 tok/s held, 243 with a region per product)
  const int nt = omp_get_max_threads();
  if (tl_team || omp_in_parallel() || nt < 2 || nt > omp_get_num_procs()) return body(ctx);
  Team tm;
  std::exception_ptr err;
#pragma omp parallel
  {
    const int me = omp_get_thread_num();
    if (me == 0) {
      tm.nt = omp_get_num_threads();
      tl_team = tm.nt > 1 ? &tm : nullptr;  // a region of one thread: body alone
      try {
        body(ctx);
      } catch (...) {
        err = std::current_exception();
      }
      tl_team = nullptr;
      tm.stop = true;
      tm.gen.fetch_add(1, std::memory_order_release);
    } else {
      worker(tm, me);  // each step thread 0 posts, until the stop
    }
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace rwkv::team_detail
