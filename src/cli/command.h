// command.h — subcommand registry: each src/cli/cmd_*.cpp registers one `rwkv <name>` with
//   static rwkv::cli::Command reg{"name", "one-line summary", run_fn};
// main() dispatches on argv[1]. run_fn gets argv with argv[0] = "rwkv name".
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace rwkv::cli {

using RunFn = int (*)(int argc, char** argv);

struct Command {
  Command(const char* name, const char* summary, RunFn fn);
};

struct CommandInfo {
  std::string name, summary;
  RunFn fn;
};
std::vector<CommandInfo>& commands();

}  // namespace rwkv::cli
