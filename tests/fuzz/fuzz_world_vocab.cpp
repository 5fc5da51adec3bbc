// fuzz_world_vocab.cpp — libFuzzer harness: a World vocabulary file (rwkv_vocab_v20230424.txt
// format: id, Python str/bytes literal, length) loaded, then a fixed text encoded and decoded.
#include "fuzz_util.h"
#include "tokenizer/world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string p = rwkv::fuzz::write_input(data, size, "_vocab.txt");
  rwkv::fuzz::refuse_cleanly([&] {
    rwkv::WorldTokenizer tok(p);
    auto ids = tok.encode("Hello, world! \xe4\xbd\xa0\xe5\xa5\xbd 123\n\t \xf0\x9f\x98\x80");
    (void)tok.decode(ids);
  });
  return 0;
}
