// threads.h — the CPU thread count used by OpenMP loops and OpenBLAS.
#pragma once

namespace rwkv {

// n <= 0: all cores (or $OMP_NUM_THREADS); n > 4 x the cores (and > 8) throws "[cli] --threads ...".
// Sets the OpenMP pool; OpenBLAS stays at one thread
// and its GEMMs are split over the OpenMP threads (ops/cpu/sgemm.h).
void set_num_threads(int n);
int num_threads();

}  // namespace rwkv
