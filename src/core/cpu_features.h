// cpu_features.h — what this x86 CPU can run (cpuid + what the OS saves: xgetbv), and the pure
// decision of which OpenBLAS kernel set (OPENBLAS_CORETYPE) to force, from those features only.
//
// Why: a DYNAMIC_ARCH OpenBLAS (Debian's 0.3.21) picks its kernels from a table of CPU model
// numbers; a CPU newer than the table gets an old fallback (an Intel Xeon family 6 model 207:
// "Prescott" SSE3 kernels, sgemm 40 GFLOP/s instead of 243 with SkylakeX). The rule here never
// looks at model numbers: it compares the ISA level of the core OpenBLAS picked with the best
// level the CPU and OS support, and forces the better one when OpenBLAS fell short:
//   - OPENBLAS_CORETYPE set by the user: respected, nothing forced.
//   - AVX-512 F/BW/VL/DQ usable: "SKYLAKEX", or "COOPERLAKE" when AVX512_BF16 is there too and the
//     library knows that name (0.3.11 on; the same choice OpenBLAS makes by features for a CPU it
//     cannot place; its sgemm kernels are SkylakeX's, it adds the bf16 ones).
//   - else AVX2 + FMA usable: "HASWELL".
//   - a core OpenBLAS named that we do not know (a newer library's name): left alone.
//   - a core at AVX2 level (Haswell, Zen) on an AVX-512 CPU is raised too, whatever the vendor.
//     Measured on an AMD EPYC Zen 5 (family 26, AVX-512 with BF16), where 0.3.21 picks "Haswell":
//     OpenBLAS sgemm (A @ B^T, fp32) on one thread, 9 rounds with the three cores interleaved,
//     median GFLOP/s Haswell / SkylakeX / Cooperlake, shape M x N x K:
//       16x768x768 31 / 39 / 43     64x3072x768 46 / 72 / 70     128x768x3072 58 / 78 / 77
//       128x65536x768 43 / 76 / 74  256x3072x768 49 / 105 / 110  512x3072x768 50 / 96 / 98
//     (2 threads through ops/cpu/sgemm.h on the busy 2-core host: 256x3072x768 38 / 75 / 54,
//     512x3072x768 43 / 76 / 67 — noisier, same order). SkylakeX and Cooperlake share their sgemm
//     kernels: the differences between them are noise.
#pragma once
#include <string>

namespace rwkv {

struct CpuFeatures {
  std::string vendor;      // "GenuineIntel", "AuthenticAMD", ...
  std::string model_name;  // the brand string ("AMD EPYC 9B45 ..."), empty if none
  int family = 0, model = 0;  // display only: never used to decide
  // usable: the CPU has it and the OS saves the registers it needs (xgetbv)
  bool avx = false, avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_bf16 = false, avx512_vnni = false;
  bool amx_tile = false, amx_bf16 = false;
  bool avx512() const { return avx512f && avx512bw && avx512vl && avx512dq; }
  // "avx2 fma avx512f ... amx_bf16": the flags above that are set, for printing
  std::string flags() const;
};

// This CPU (cpuid; all false on a non-x86 build).
const CpuFeatures& cpu_features();

// The OPENBLAS_CORETYPE to force (e.g. "SKYLAKEX"), or "" to leave the library's choice.
// blas_core: openblas_get_corename() ("Prescott", "Haswell", ...); blas_version: e.g. "0.3.21"
// (from openblas_get_config(); "" if unknown: then no name newer than SkylakeX is used);
// user_coretype: getenv("OPENBLAS_CORETYPE") (nullptr when unset).
std::string choose_blas_coretype(const CpuFeatures& cpu, const std::string& blas_core,
                                 const std::string& blas_version, const char* user_coretype);

}  // namespace rwkv
