// cli_util.h — helpers shared by subcommands: CLI11 parsing with the project's error format.
#pragma once
#include <CLI/CLI.hpp>

namespace rwkv::cli {

// Parses argv with `app`; on --help prints help and returns 0 via *exit_code; on a bad flag
// prints the CLI11 message and returns 2. Returns true when the command should run.
inline bool parse(CLI::App& app, int argc, char** argv, int* exit_code) {
  try {
    app.parse(argc, argv);
    return true;
  } catch (const CLI::ParseError& e) {
    *exit_code = app.exit(e);
    return false;
  }
}

}  // namespace rwkv::cli
