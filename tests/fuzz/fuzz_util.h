// fuzz_util.h — shared by the libFuzzer harnesses in tests/fuzz: the parsers under test read
// files, so each input is written to a per-process temp file first. A harness may throw only
// rwkv::Error (a clean refusal); any other exception, a crash, a sanitizer report, a leak or a
// timeout is a finding.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "core/error.h"

namespace rwkv::fuzz {

// "/tmp/rwkv_fuzz_<pid><suffix>", rewritten with `size` bytes of `data`.
inline std::string write_input(const uint8_t* data, size_t size, const std::string& suffix) {
  const std::string dir = std::getenv("RWKV_FUZZ_TMP") ? std::getenv("RWKV_FUZZ_TMP") : "/tmp";
  const std::string path = dir + "/rwkv_fuzz_" + std::to_string(getpid()) + suffix;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

// Runs f(); a rwkv::Error is the expected way to refuse bad input.
template <typename F>
void refuse_cleanly(F&& f) {
  try {
    f();
  } catch (const rwkv::Error&) {
  }
}

}  // namespace rwkv::fuzz
