// main.cpp — `rwkv` entry point: dispatch to a registered subcommand; library errors
// (rwkv::Error) are printed as "rwkv <cmd>: error: ..." and exit with status 1; a standard-library
// exception is never printed bare ("[memory] out of memory", "[internal] ..."). First of all, the
// OpenBLAS kernels are chosen from the CPU features (ops/cpu/blas_core.h: may start rwkv again).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "cli/command.h"
#include "core/error.h"
#include "ops/cpu/blas_core.h"

namespace rwkv::cli {

std::vector<CommandInfo>& commands() {
  static std::vector<CommandInfo> v;
  return v;
}

Command::Command(const char* name, const char* summary, RunFn fn) {
  commands().push_back({name, summary, fn});
}

}  // namespace rwkv::cli

static void usage(FILE* f) {
  auto cmds = rwkv::cli::commands();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  fmt::print(f, "rwkv — prepare data, train and run RWKV language models\n\nusage: rwkv <command> [options]\n\ncommands:\n");
  for (auto& c : cmds) fmt::print(f, "  {:<12} {}\n", c.name, c.summary);
  fmt::print(f, "\n`rwkv <command> --help` shows a command's options.\n");
}

int main(int argc, char** argv) {
  rwkv::blas_core_startup(argv);  // before any thread and any GEMM
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage(stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string name = argv[1];
  for (auto& c : rwkv::cli::commands()) {
    if (c.name != name) continue;
    std::string self = "rwkv " + name;
    std::vector<char*> args(argv + 1, argv + argc);
    args[0] = self.data();
    try {
      return c.fn(int(args.size()), args.data());
    } catch (const rwkv::Error& e) {
      fmt::print(stderr, "{}: error: {}\n", self, e.what());
      return 1;
    } catch (const std::bad_alloc&) {
      fmt::print(stderr, "{}: error: [memory] out of memory: an allocation failed (a file or flag asks for more "
                         "memory than this machine has)\n", self);
      return 1;
    } catch (const std::length_error& e) {
      fmt::print(stderr, "{}: error: [memory] a size too large to allocate ({})\n", self, e.what());
      return 1;
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}: error: [internal] {}\n", self, e.what());
      return 1;
    }
  }
  fmt::print(stderr, "rwkv: unknown command '{}'\n\n", name);
  usage(stderr);
  return 2;
}
