// blas_core.h — which OpenBLAS kernel set runs sgemm (ops/cpu/sgemm.h), chosen once at start-up
// of every program that multiplies matrices (rwkv, rwkv_tests, the benches).
//
// OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded, so the only way to change its kernels
// is to start the program again with the variable set: blas_core_startup() does that (execv of
// /proc/self/exe with the same argv and environment plus OPENBLAS_CORETYPE and the marker
// RWKV_BLAS_REEXEC=<the core OpenBLAS had picked>). The started program sees the variables and goes
// on: it never loops, and both stay set so that a child rwkv starts with the chosen core at once.
// The decision is core/cpu_features.h's (features only; a user's OPENBLAS_CORETYPE is respected).
#pragma once
#include <string>

namespace rwkv {

// Call first thing in main(), before any thread is started or any GEMM runs. Returns when the core
// stays as it is (or when the exec fails: then the variables are removed again and the library's
// choice stays); otherwise does not return.
void blas_core_startup(char** argv);

// The core in use, as OpenBLAS names it ("SkylakeX", "Haswell", ...).
std::string blas_core_name();

// The library's version ("0.3.21"; "" if it does not say).
std::string blas_version();

// One line for `rwkv version` and the benches: library, core in use and who chose it, e.g.
// "OpenBLAS 0.3.21 DYNAMIC_ARCH, core SkylakeX (chosen by rwkv from the CPU features; OpenBLAS had picked Prescott)".
std::string blas_core_summary();

}  // namespace rwkv
