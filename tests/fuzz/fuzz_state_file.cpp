// fuzz_state_file.cpp — libFuzzer harness: a state file (safetensors + metadata) read for the
// RWKV-7 L2-D128-V512 fixture model's configuration (names, shapes, identity checked).
#include <vector>

#include "engine/state_file.h"
#include "fuzz_util.h"

static volatile float sink;  // keeps the reads from being optimised away

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const rwkv::ModelConfig cfg = [] {
    rwkv::ModelConfig c;
    c.arch = rwkv::Arch::RWKV7;
    c.n_layer = 2;
    c.n_embd = 128;
    c.vocab_size = 512;
    c.head_size = 64;
    c.n_head = 2;
    c.dim_att = 128;
    c.dim_ffn = 512;
    return c;
  }();
  const std::string p = rwkv::fuzz::write_input(data, size, "_state.safetensors");
  rwkv::fuzz::refuse_cleanly([&] {
    std::vector<float> logits;
    rwkv::StateDict sd = rwkv::read_state_file(p, cfg, &logits);
    float acc = 0;
    for (auto& [k, t] : sd.items)
      if (t.dtype == rwkv::DType::F32)
        for (int64_t i = 0, n = t.numel(); i < n; i++) acc += t.ptr<float>()[i];
    sink = acc;
  });
  return 0;
}
