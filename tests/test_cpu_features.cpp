// test_cpu_features.cpp — core/cpu_features.h: which OPENBLAS_CORETYPE is forced from the CPU's
// features and the core OpenBLAS picked (never from model numbers), and the startup helper's
// view of this process (ops/cpu/blas_core.h).
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/cpu_features.h"
#include "ops/cpu/blas_core.h"

using namespace rwkv;

namespace {
CpuFeatures avx2_cpu() {
  CpuFeatures f;
  f.vendor = "GenuineIntel";
  f.family = 6;
  f.model = 60;
  f.avx = f.avx2 = f.fma = true;
  return f;
}
// An Intel Xeon OpenBLAS 0.3.21 does not know (family 6 model 207): AVX-512 with BF16, VNNI, AMX.
CpuFeatures xeon_207() {
  CpuFeatures f = avx2_cpu();
  f.model = 207;
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = f.avx512_vnni = true;
  f.avx512_bf16 = f.amx_tile = f.amx_bf16 = true;
  return f;
}
CpuFeatures skylakex_cpu() {  // AVX-512 without BF16
  CpuFeatures f = xeon_207();
  f.model = 85;
  f.avx512_bf16 = f.amx_tile = f.amx_bf16 = false;
  return f;
}
}  // namespace

TEST(BlasCore, UnknownXeonOnPrescottGetsAvx512Kernels) {
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "Prescott", "0.3.21", nullptr), "COOPERLAKE");
  EXPECT_EQ(choose_blas_coretype(skylakex_cpu(), "Prescott", "0.3.21", nullptr), "SKYLAKEX");
  // a library too old to know Cooperlake (or whose version is unknown): SkylakeX
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "Prescott", "0.3.10", nullptr), "SKYLAKEX");
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "Sandybridge", "", nullptr), "SKYLAKEX");
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "Nehalem", "0.3.21", nullptr), "COOPERLAKE");
}

TEST(BlasCore, Avx2OnlyOnAFallbackGetsHaswell) {
  for (const char* old : {"Prescott", "Core2", "Nehalem", "Katmai", "Sandybridge", "Barcelona", "Piledriver"})
    EXPECT_EQ(choose_blas_coretype(avx2_cpu(), old, "0.3.21", nullptr), "HASWELL") << old;
  CpuFeatures no_fma = avx2_cpu();
  no_fma.fma = false;
  EXPECT_EQ(choose_blas_coretype(no_fma, "Prescott", "0.3.21", nullptr), "");
  CpuFeatures sse = avx2_cpu();
  sse.avx = sse.avx2 = sse.fma = false;
  EXPECT_EQ(choose_blas_coretype(sse, "Prescott", "0.3.21", nullptr), "");
}

TEST(BlasCore, UserSettingIsRespected) {
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "Prescott", "0.3.21", "PRESCOTT"), "");
  EXPECT_EQ(choose_blas_coretype(avx2_cpu(), "Prescott", "0.3.21", "Nehalem"), "");
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "Prescott", "0.3.21", ""), "COOPERLAKE");  // set but empty = unset
}

TEST(BlasCore, Avx2LevelCoreOnAnAvx512CpuIsRaised) {
  // an AMD Zen 5 (AVX-512 with BF16): SkylakeX kernels measured ~1.3-2.3x Haswell's (cpu_features.h)
  CpuFeatures zen5 = xeon_207();
  zen5.vendor = "AuthenticAMD";
  zen5.family = 26;
  zen5.model = 2;
  zen5.amx_tile = zen5.amx_bf16 = false;
  EXPECT_EQ(choose_blas_coretype(zen5, "Haswell", "0.3.21", nullptr), "COOPERLAKE");
  EXPECT_EQ(choose_blas_coretype(zen5, "Zen", "0.3.21", nullptr), "COOPERLAKE");
  EXPECT_EQ(choose_blas_coretype(skylakex_cpu(), "Haswell", "0.3.21", nullptr), "SKYLAKEX");
  EXPECT_EQ(choose_blas_coretype(zen5, "Haswell", "0.3.21", "Haswell"), "");  // unless the user chose it
}

TEST(BlasCore, GoodCoreIsLeftAlone) {
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "SkylakeX", "0.3.21", nullptr), "");
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "Cooperlake", "0.3.21", nullptr), "");
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "SapphireRapids", "0.3.23", nullptr), "");
  EXPECT_EQ(choose_blas_coretype(avx2_cpu(), "Haswell", "0.3.21", nullptr), "");
  EXPECT_EQ(choose_blas_coretype(avx2_cpu(), "Zen", "0.3.21", nullptr), "");
  // a name this code does not know (a newer library's): the library may know better
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "GraniteRapids", "0.3.30", nullptr), "");
  EXPECT_EQ(choose_blas_coretype(xeon_207(), "Unknown", "0.3.21", nullptr), "");
}

TEST(BlasCore, FeaturesWithoutOsSupportForceNothing) {
  // AVX-512 the OS does not save (xgetbv) is reported off by cpu_features(): such a CPU is AVX2 here
  CpuFeatures f = xeon_207();
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = f.avx512_bf16 = false;
  EXPECT_EQ(choose_blas_coretype(f, "Prescott", "0.3.21", nullptr), "HASWELL");
  f.avx512f = f.avx512bw = f.avx512dq = true;  // no VL: not the SkylakeX set
  EXPECT_EQ(choose_blas_coretype(f, "Prescott", "0.3.21", nullptr), "HASWELL");
}

TEST(BlasCore, ThisProcessMatchesTheDecision) {
  // rwkv_tests' main ran blas_core_startup(): the core in use is one the decision accepts as is
  // (unless the user chose one: then that one is in use)
  const CpuFeatures& cpu = cpu_features();
  const char* user = std::getenv("OPENBLAS_CORETYPE");
  if (user && *user && !std::getenv("RWKV_BLAS_REEXEC")) GTEST_SKIP() << "OPENBLAS_CORETYPE set by the user";
  EXPECT_FALSE(cpu.flags().empty());
  const std::string core = blas_core_name();
  const std::string summary = blas_core_summary();
  EXPECT_NE(summary.find("core " + core), std::string::npos) << summary;
  EXPECT_EQ(choose_blas_coretype(cpu, core, blas_version(), nullptr), "") << summary << " | " << cpu.flags();
}

#ifdef RWKV_FAKE_BLAS_CORE
namespace {
std::string run_with_fake_core(const std::string& args) {  // stdout and stderr of `rwkv <args>`
  const std::string cmd = "env -u OPENBLAS_CORETYPE -u RWKV_BLAS_REEXEC LD_PRELOAD=" RWKV_FAKE_BLAS_CORE " " RWKV_BIN
                          " " + args + " 2>&1";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    pclose(p);
  }
  return out;
}
}  // namespace

TEST(BlasCore, StartupReexecsOnceWithTheChosenCore) {
  // OpenBLAS made to report "Prescott": rwkv starts itself again with OPENBLAS_CORETYPE set, once,
  // and the library then really runs the chosen kernels
  const CpuFeatures& cpu = cpu_features();
  const std::string want = choose_blas_coretype(cpu, "Prescott", blas_version(), nullptr);
  if (want.empty()) GTEST_SKIP() << "this CPU has no AVX2: nothing to choose (" << cpu.flags() << ")";
  const std::string out = run_with_fake_core("version");
  EXPECT_NE(out.find("chosen by rwkv from the CPU features; OpenBLAS had picked Prescott"), std::string::npos) << out;
  std::string name = want;  // "COOPERLAKE" -> "core Cooperlake"
  for (size_t i = 1; i < name.size(); i++) name[i] = char(std::tolower(name[i]));
  if (name == "Skylakex") name = "SkylakeX";
  EXPECT_NE(out.find("core " + name + " "), std::string::npos) << out;
  // the arguments survive the exec
  const std::string bad = run_with_fake_core("'no such command'");
  EXPECT_NE(bad.find("unknown command 'no such command'"), std::string::npos) << bad;
}
#endif
