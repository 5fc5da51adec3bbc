// fuzz_pth.cpp — libFuzzer harness: a .pth (zip records + pickle) through load_pth, then every
// tensor's bytes are read (an out-of-bounds view would show up under ASan or as a crash).
#include "fuzz_util.h"
#include "io/model_file.h"

static volatile uint8_t sink;  // keeps the reads from being optimised away

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string p = rwkv::fuzz::write_input(data, size, ".pth");
  rwkv::fuzz::refuse_cleanly([&] {
    rwkv::StateDict sd = rwkv::load_pth(p);
    uint8_t acc = 0;
    for (auto& [k, t] : sd.items)
      for (size_t i = 0, n = t.nbytes(); i < n; i++) acc ^= static_cast<const uint8_t*>(t.data)[i];
    sink = acc;
  });
  return 0;
}
