// cmd_version.cpp — `rwkv version`: build information (CUDA compiled in, devices seen), the CPU's
// features and the OpenBLAS kernels in use (ops/cpu/blas_core.h).
#include <fmt/format.h>

#include "cli/command.h"
#include "core/cpu_features.h"
#include "ops/cpu/blas_core.h"
#include "ops/cuda_info.h"

static int run(int, char**) {
  fmt::print("rwkv 0.1.0\n");
  fmt::print("cuda: {}\n", rwkv::cuda_compiled() ? fmt::format("compiled in, {} device(s)", rwkv::cuda_device_count())
                                                 : std::string("not compiled in"));
  const rwkv::CpuFeatures& cpu = rwkv::cpu_features();
  fmt::print("cpu: {} ({} family {} model {}): {}\n", cpu.model_name.empty() ? "unknown" : cpu.model_name,
             cpu.vendor, cpu.family, cpu.model, cpu.flags());
  fmt::print("blas: {}\n", rwkv::blas_core_summary());
  return 0;
}

static rwkv::cli::Command reg{"version", "print version and build information", run};
