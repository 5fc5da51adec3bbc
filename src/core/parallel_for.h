// parallel_for.h — loops split over the OpenMP threads only when they are worth it. A small loop
// runs on the calling thread with no OpenMP construct at all: entering even an `if (false)`
// parallel region costs ~3 µs when the previous region had 2 threads (libgomp rebuilds its team),
// ten times a 768-wide elementwise op, and a decode step runs ~300 of them per token.
#pragma once
#include <omp.h>

#include <cstdint>

namespace rwkv {

// True when a loop asked to run in parallel can: more than one thread and not already inside a
// parallel region (where OpenMP would run it on one thread anyway).
inline bool can_split() { return omp_get_max_threads() > 1 && !omp_in_parallel(); }

// f(i) for i in [0, n): split in contiguous equal parts over the threads (as schedule(static))
// when `par`, else a plain loop on this thread.
template <class F>
inline void parallel_for(int64_t n, bool par, F&& f) {
  if (!par || n < 2 || !can_split()) {
    for (int64_t i = 0; i < n; i++) f(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) f(i);
}

// f(i0, i1) over contiguous parts of [0, n) (one per thread when `par`, else the whole range on
// this thread): for element loops that vectorize inside f.
template <class F>
inline void parallel_ranges(int64_t n, bool par, F&& f) {
  if (!par || n < 2 || !can_split()) {
    f(int64_t(0), n);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    f(n * t / nt, n * (t + 1) / nt);
  }
}

// f(i) for every element i of [0, n) as a vectorized loop (omp simd), split over the threads as
// parallel_ranges does when `par`.
template <class F>
inline void parallel_elems(int64_t n, bool par, F&& f) {
  parallel_ranges(n, par, [&](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; i++) f(i);
  });
}

}  // namespace rwkv
