// cli_util.h — helpers shared by subcommands: CLI11 parsing with the project's error format.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "io/model_file.h"

namespace rwkv::cli {

// A message with every run of more than 20 digits cut to its first 12 and its length
// ("100000000000...(300 digits)"), so that a pasted or absurd number cannot flood the terminal.
inline std::string shorten_long_numbers(const std::string& s) {
  std::string r;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') j++;
    if (j - i > 20) r += s.substr(i, 12) + "...(" + std::to_string(j - i) + " digits)";
    else r += s.substr(i, j - i);
    if (j < s.size()) r += s[j];
    i = j + 1;
  }
  return r;
}

// Parses argv with `app`; on --help prints help and returns 0 via *exit_code; on a bad flag
// prints "rwkv <cmd>: error: [cli] <CLI11's message, long numbers shortened>" and returns 2 (a
// usage error, as Python's argparse in the official scripts). Returns true when the command
// should run.
inline bool parse(CLI::App& app, int argc, char** argv, int* exit_code) {
  try {
    app.parse(argc, argv);
    return true;
  } catch (const CLI::CallForHelp& e) {
    *exit_code = app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    *exit_code = app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    *exit_code = app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: error: [cli] %s\nRun with --help for more information.\n", argc > 0 ? argv[0] : "rwkv",
                 shorten_long_numbers(e.what()).c_str());
    *exit_code = 2;
  }
  return false;
}

// --skip_crc: load .pth files without checking each record's CRC-32 (the check reads every
// byte at load: ~0.9 s for a 3 GB file on 2 cores, against ~30 ms for the zero-copy load).
inline void add_skip_crc(CLI::App& app) {
  app.add_flag_callback("--skip_crc", [] { set_pth_crc_check(false); },
                        "load .pth files without checking their CRC-32 (faster start; a corrupt byte goes unnoticed)");
}

}  // namespace rwkv::cli
