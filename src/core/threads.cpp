// threads.cpp — the OpenMP thread count (a --threads beyond 4 x the cores is refused: libgomp
// crashed on 100000).
#include "core/threads.h"

#include <omp.h>

#include <algorithm>

#include "core/error.h"

namespace rwkv {

void set_num_threads(int n) {
  const int procs = omp_get_num_procs(), most = std::max(8, 4 * procs);
  if (n > most) fail("cli", "--threads {}: must be at most {} (4 x the {} cores here; 0 = all cores)", n, most, procs);
  if (n <= 0) n = procs;
  omp_set_num_threads(n);  // OpenBLAS stays at one thread: see ops/cpu/sgemm.h
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace rwkv
