// steal_ranges.h — a loop over [0, n) split over the threads of a parallel region as contiguous
// parts, one per thread, each walked front to back; a thread whose part is done takes the back
// half of the largest part left. Every thread streams one long run (decode reads weights at the
// memory's rate only in long runs) and the threads still finish together, which neither a static
// split (one thread late by a few µs keeps the other waiting) nor dynamic blocks (each block a
// fresh stream) give.
#pragma once
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

namespace rwkv {

class StealRanges {
 public:
  // Parts of [0, n) (n < 2^32) for nt threads; construct before the parallel region, run() inside it.
  StealRanges(int64_t n, int nt) : nt_(nt) {
    if (nt > kInline) heap_ = std::make_unique<Part[]>(size_t(nt));
    parts_ = nt > kInline ? heap_.get() : inline_;
    for (int t = 0; t < nt; t++) parts_[t].v.store(pack(n * t / nt, n * (t + 1) / nt), std::memory_order_relaxed);
  }

  // f(u0, u1) for consecutive pieces of at most `chunk` units of this thread's part, then of the
  // parts it takes from others. Called by every thread of the region (omp_get_thread_num() < nt).
  template <class F>
  void run(int64_t chunk, F&& f) {
    const int nt = nt_, me = omp_get_thread_num();
    // a part, a piece at a time from its front (a thief may move its end meanwhile)
    auto walk = [&](std::atomic<uint64_t>& part) {
      uint64_t v = part.load(std::memory_order_acquire);
      for (;;) {
        const int64_t lo = lo_of(v), hi = hi_of(v);
        if (lo >= hi) return;
        const int64_t u1 = std::min(hi, lo + chunk);
        if (!part.compare_exchange_weak(v, pack(u1, hi), std::memory_order_acq_rel)) continue;
        f(lo, u1);
        v = part.load(std::memory_order_acquire);
      }
    };
    std::atomic<uint64_t>& mine = parts_[me].v;
    walk(mine);
    if (me == 0)  // the parts of threads the region did not get, if it got fewer than nt
      for (int t = omp_get_num_threads(); t < nt; t++) walk(parts_[t].v);
    for (;;) {  // the back half of the largest part left, while it is worth more than two pieces
      int victim = 0;
      int64_t most = 0;
      for (int t = 0; t < nt; t++) {
        const uint64_t w = parts_[t].v.load(std::memory_order_acquire);
        if (hi_of(w) - lo_of(w) > most) most = hi_of(w) - lo_of(w), victim = t;
      }
      if (most < 2 * chunk) return;  // what is left its owner finishes within two pieces
      std::atomic<uint64_t>& theirs = parts_[victim].v;
      uint64_t w = theirs.load(std::memory_order_acquire);
      const int64_t lo = lo_of(w), hi = hi_of(w), mid = lo + (hi - lo) / 2;
      if (hi - lo < 2 * chunk || !theirs.compare_exchange_strong(w, pack(lo, mid), std::memory_order_acq_rel)) continue;
      mine.store(pack(mid, hi), std::memory_order_release);
      walk(mine);
    }
  }

 private:
  static uint64_t pack(int64_t lo, int64_t hi) { return uint64_t(lo) << 32 | uint64_t(hi); }
  static int64_t lo_of(uint64_t v) { return int64_t(v >> 32); }
  static int64_t hi_of(uint64_t v) { return int64_t(v & 0xffffffffu); }
  struct alignas(64) Part {  // one cache line each: an owner's steps stay in its own core's cache
    std::atomic<uint64_t> v{0};
  };
  static constexpr int kInline = 8;  // parts kept in the object (no allocation per product)
  int nt_;
  Part inline_[kInline];
  std::unique_ptr<Part[]> heap_;
  Part* parts_;
};

}  // namespace rwkv
