// fake_blas_core.cpp — an LD_PRELOAD shim for tests/test_cpu_features.cpp: OpenBLAS's
// openblas_get_corename() says "Prescott" (an old fallback, as on a CPU the library does not know)
// until rwkv has started itself again (RWKV_BLAS_REEXEC set), then the real library's name — so
// that the start-up re-exec of ops/cpu/blas_core.h runs, and is seen to take effect, on any host.
#include <dlfcn.h>

#include <cstdlib>

extern "C" char* openblas_get_corename(void) {
  static char prescott[] = "Prescott";
  if (!std::getenv("RWKV_BLAS_REEXEC")) return prescott;
  using Fn = char* (*)(void);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "openblas_get_corename"));
  return real ? real() : prescott;
}
