// cpu_features.cpp — cpuid/xgetbv feature detection and the OpenBLAS core decision
// (see cpu_features.h for the rule and the measurement behind it).
#include "core/cpu_features.h"

#include <strings.h>

#include <cstdio>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define RWKV_X86 1
#endif

namespace rwkv {

std::string CpuFeatures::flags() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx, "avx");
  add(avx2, "avx2");
  add(fma, "fma");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512dq, "avx512dq");
  add(avx512_bf16, "avx512_bf16");
  add(avx512_vnni, "avx512_vnni");
  add(amx_tile, "amx_tile");
  add(amx_bf16, "amx_bf16");
  return s.empty() ? "none" : s;
}

namespace {

#ifdef RWKV_X86
CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
  const unsigned max_leaf = a;
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  f.vendor = vendor;
  __get_cpuid(1, &a, &b, &c, &d);
  const unsigned base_family = (a >> 8) & 0xf;
  f.family = int(base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family);
  f.model = int(((a >> 4) & 0xf) | (base_family >= 6 ? ((a >> 16) & 0xf) << 4 : 0));
  const bool osxsave = c & (1u << 27), cpu_avx = c & (1u << 28), cpu_fma = c & (1u << 12);
  unsigned long long xcr0 = 0;
  if (osxsave) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  const bool os_ymm = (xcr0 & 0x6) == 0x6;            // SSE + AVX state
  const bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;  // opmask + upper ZMM + ZMM16-31
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;      // XTILECFG + XTILEDATA
  f.avx = cpu_avx && os_ymm;
  f.fma = cpu_fma && os_ymm;
  if (max_leaf >= 7) {
    __get_cpuid_count(7, 0, &a, &b, &c, &d);
    f.avx2 = (b & (1u << 5)) && os_ymm;
    f.avx512f = (b & (1u << 16)) && os_zmm;
    f.avx512dq = (b & (1u << 17)) && os_zmm;
    f.avx512bw = (b & (1u << 30)) && os_zmm;
    f.avx512vl = (b & (1u << 31)) && os_zmm;
    f.avx512_vnni = (c & (1u << 11)) && os_zmm;
    f.amx_bf16 = (d & (1u << 22)) && os_amx;
    f.amx_tile = (d & (1u << 24)) && os_amx;
    unsigned a1 = 0, b1, c1, d1;
    __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
    f.avx512_bf16 = (a1 & (1u << 5)) && os_zmm;
  }
  __get_cpuid(0x80000000, &a, &b, &c, &d);
  if (a >= 0x80000004) {
    unsigned r[12];
    for (unsigned i = 0; i < 3; i++) __get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
    char brand[49] = {};
    std::memcpy(brand, r, 48);
    std::string s = brand;
    const size_t lo = s.find_first_not_of(' '), hi = s.find_last_not_of(' ');
    f.model_name = lo == std::string::npos ? "" : s.substr(lo, hi - lo + 1);
  }
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

// ISA level of an OpenBLAS x86 core name: 1 SSE-era, 2 AVX, 3 AVX2, 4 AVX-512; 0 unknown.
int core_level(const std::string& core) {
  static const char* const sse[] = {"Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2",
                                    "Penryn", "Dunnington", "Nehalem", "Athlon", "Opteron", "Opteron_SSE3",
                                    "Barcelona", "Nano", "Bobcat"};
  static const char* const avx[] = {"Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Excavator"};
  static const char* const avx2[] = {"Haswell", "Zen"};
  static const char* const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
  auto in = [&](const auto& names) {
    for (const char* n : names)
      if (strcasecmp(n, core.c_str()) == 0) return true;
    return false;
  };
  return in(sse) ? 1 : in(avx) ? 2 : in(avx2) ? 3 : in(avx512) ? 4 : 0;
}

bool version_at_least(const std::string& v, int major, int minor, int patch) {
  int a = 0, b = 0, c = 0;
  if (std::sscanf(v.c_str(), "%d.%d.%d", &a, &b, &c) < 2) return false;
  return a != major ? a > major : b != minor ? b > minor : c >= patch;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

std::string choose_blas_coretype(const CpuFeatures& cpu, const std::string& blas_core,
                                 const std::string& blas_version, const char* user_coretype) {
  if (user_coretype && *user_coretype) return "";
  const int have = core_level(blas_core);
  if (have == 0) return "";  // a name we do not know: the library may know better
  if (cpu.avx512() && have < 4)
    return cpu.avx512_bf16 && version_at_least(blas_version, 0, 3, 11) ? "COOPERLAKE" : "SKYLAKEX";
  if (cpu.avx2 && cpu.fma && have < 3) return "HASWELL";
  return "";
}

}  // namespace rwkv
