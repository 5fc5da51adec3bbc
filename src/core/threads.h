// threads.h — the CPU thread count used by OpenMP loops and OpenBLAS.
#pragma once

namespace rwkv {

// n <= 0: all cores (or $OMP_NUM_THREADS). Applies to OpenMP and to BLAS.
void set_num_threads(int n);
int num_threads();

}  // namespace rwkv
