// fuzz_safetensors.cpp — libFuzzer harness: a safetensors file through load_safetensors (header
// JSON, dtypes, shapes, data offsets), then every tensor's bytes are read.
#include <map>

#include "fuzz_util.h"
#include "io/model_file.h"

static volatile uint8_t sink;  // keeps the reads from being optimised away

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string p = rwkv::fuzz::write_input(data, size, ".safetensors");
  rwkv::fuzz::refuse_cleanly([&] {
    std::map<std::string, std::string> meta;
    rwkv::StateDict sd = rwkv::load_safetensors(p, &meta);
    uint8_t acc = 0;
    for (auto& [k, t] : sd.items)
      for (size_t i = 0, n = t.nbytes(); i < n; i++) acc ^= static_cast<const uint8_t*>(t.data)[i];
    sink = acc;
  });
  return 0;
}
