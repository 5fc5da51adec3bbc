// threads.cpp — the OpenMP thread count.
#include "core/threads.h"

#include <omp.h>

namespace rwkv {

void set_num_threads(int n) {
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n);  // OpenBLAS stays at one thread: see ops/cpu/sgemm.h
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace rwkv
