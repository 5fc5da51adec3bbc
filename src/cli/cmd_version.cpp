// cmd_version.cpp — `rwkv version`: build information (CUDA compiled in, devices seen).
#include <fmt/format.h>

#include "cli/command.h"
#include "ops/cuda_info.h"

static int run(int, char**) {
  fmt::print("rwkv 0.1.0\n");
  fmt::print("cuda: {}\n", rwkv::cuda_compiled() ? fmt::format("compiled in, {} device(s)", rwkv::cuda_device_count())
                                                 : std::string("not compiled in"));
  return 0;
}

static rwkv::cli::Command reg{"version", "print version and build information", run};
