// blas_core.cpp — the start-up re-exec that sets OPENBLAS_CORETYPE, and what to print about it
// (see blas_core.h).
#include "ops/cpu/blas_core.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/cpu_features.h"

extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);

namespace rwkv {

namespace {
constexpr const char* kMarker = "RWKV_BLAS_REEXEC";
}  // namespace

std::string blas_version() {  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "0.3.21"
  const char* cfg = openblas_get_config();
  if (!cfg || std::strncmp(cfg, "OpenBLAS ", 9) != 0) return "";
  std::string v = cfg + 9;
  return v.substr(0, v.find(' '));
}

std::string blas_core_name() {
  const char* c = openblas_get_corename();
  return c ? c : "unknown";
}

void blas_core_startup(char** argv) {
  if (std::getenv(kMarker)) return;  // this is the re-executed program
  const std::string core = blas_core_name();
  const std::string want = choose_blas_coretype(cpu_features(), core, blas_version(), std::getenv("OPENBLAS_CORETYPE"));
  if (want.empty()) return;
  if (setenv("OPENBLAS_CORETYPE", want.c_str(), 1) != 0 || setenv(kMarker, core.c_str(), 1) != 0) return;
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // exec failed (no /proc?): carry on with the library's choice
  unsetenv(kMarker);
}

std::string blas_core_summary() {
  std::string s = "OpenBLAS " + blas_version() + ", core " + blas_core_name();
  const char* user = std::getenv("OPENBLAS_CORETYPE");
  const char* had = std::getenv(kMarker);
  if (had)
    s += std::string(" (chosen by rwkv from the CPU features; OpenBLAS had picked ") + had + ")";
  else if (user && *user) {  // the user's choice stands; say when the CPU could do better
    const std::string better = choose_blas_coretype(cpu_features(), blas_core_name(), blas_version(), nullptr);
    s += std::string(" (OPENBLAS_CORETYPE=") + user + (better.empty() ? "" : "; this CPU's features allow " + better) + ")";
  }
  else
    s += " (OpenBLAS's choice)";
  return s;
}

}  // namespace rwkv
