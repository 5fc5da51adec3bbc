// team.h — one parallel region held across a run of short parallel steps. A decode step is ~50
// products of 5-50 µs with serial work between them; libgomp's fork/join of a 2-thread region
// costs ~2.3 µs on the 2-vCPU host of docs/inference.md, where a cache-line round trip between
// the cores takes ~0.1 µs. team_scope(body) opens one OpenMP region for the whole body: thread 0
// runs body, the others wait on a mailbox (spinning), and each team_run inside posts its step
// there. Outside a scope team_run is a plain `omp parallel` region, so callers need not know. With
// more threads than cores the scope is not held (its threads spin between steps).
#pragma once
#include <omp.h>

#include <exception>
#include <memory>
#include <type_traits>

namespace rwkv {

namespace team_detail {
using Step = void (*)(void* ctx, int t);
bool held();                                     // this thread is thread 0 of a scope
int size();                                      // that scope's threads
void run(Step step, void* ctx);                  // step(ctx, t) on every thread of the scope
void scope(void (*body)(void*), void* ctx);      // see team_scope
}  // namespace team_detail

// Threads a team_run from this thread uses: the scope's team on its thread 0, 1 inside any other
// parallel region (a worker's step, an omp region), else omp_get_max_threads().
inline int team_threads() {
  if (team_detail::held()) return team_detail::size();
  return omp_in_parallel() ? 1 : omp_get_max_threads();
}

// fn(t) for every t in [0, team_threads()) at once, fn(0) on this thread; returns when all are
// done (an exception from any thread is rethrown here). Inside fn, omp_get_thread_num() == t
// and omp_get_num_threads() == team_threads() (core/steal_ranges.h reads them), except where an
// omp region outside a scope gets fewer threads than asked (OMP_DYNAMIC, a thread limit): the
// missing t then run after their own on the threads it got, so every t still runs once.
template <class F>
void team_run(F&& fn) {
  if (team_detail::held())
    return team_detail::run([](void* c, int t) { (*static_cast<std::remove_reference_t<F>*>(c))(t); },
                            const_cast<void*>(static_cast<const void*>(std::addressof(fn))));
  const int nt = team_threads();
  if (nt == 1) return fn(0);
  std::exception_ptr err;  // the first thrown (an exception must not leave the omp region)
#pragma omp parallel num_threads(nt)
  for (int t = omp_get_thread_num(); t < nt; t += omp_get_num_threads()) {
    try {
      fn(t);
    } catch (...) {
#pragma omp critical(rwkv_team_run_error)
      if (!err) err = std::current_exception();
    }
  }
  if (err) std::rethrow_exception(err);
}

// body() with the OpenMP threads held for it as one team (see the header comment); inside a
// parallel region, or with one thread, body() alone. Exceptions from body propagate.
template <class F>
void team_scope(F&& body) {
  team_detail::scope([](void* c) { (*static_cast<std::remove_reference_t<F>*>(c))(); },
                     const_cast<void*>(static_cast<const void*>(std::addressof(body))));
}

}  // namespace rwkv
