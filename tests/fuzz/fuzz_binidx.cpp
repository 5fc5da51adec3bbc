// fuzz_binidx.cpp — libFuzzer harness: a binidx pair. Input: u32 n (little endian), then n bytes
// of .idx, then the .bin. Every document is located and read, and get() reads across them.
#include <cstring>
#include <vector>

#include "data/binidx.h"
#include "fuzz_util.h"

static volatile uint32_t sink;  // keeps the reads from being optimised away

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t n;
  std::memcpy(&n, data, 4);
  if (n > size - 4) n = uint32_t(size - 4);
  const std::string idx = rwkv::fuzz::write_input(data + 4, n, "_binidx.idx");
  rwkv::fuzz::write_input(data + 4 + n, size - 4 - n, "_binidx.bin");
  const std::string prefix = idx.substr(0, idx.size() - 4);
  rwkv::fuzz::refuse_cleanly([&] {
    rwkv::BinidxReader r(prefix);
    uint32_t acc = 0;
    for (size_t i = 0; i < r.num_docs(); i++) {
      const uint16_t* t = r.tokens() + r.doc_offset(i);
      for (uint32_t k = 0, len = r.doc_length(i); k < len; k++) acc += t[k];
    }
    sink = acc;
    std::vector<uint16_t> buf(64);
    const uint64_t total = r.num_tokens();
    for (uint64_t off : {uint64_t(0), total / 2, total})
      rwkv::fuzz::refuse_cleanly([&] { r.get(off, std::min<uint64_t>(64, total - std::min(off, total)), buf.data()); });
  });
  return 0;
}
