// fuzz_tokenizer_json.cpp — libFuzzer harness: a Hugging Face tokenizer.json (BPE model, merges,
// added tokens, normalizer, pre-tokenizer) loaded, then a fixed text encoded and decoded.
#include "fuzz_util.h"
#include "tokenizer/bpe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string p = rwkv::fuzz::write_input(data, size, "_tokenizer.json");
  rwkv::fuzz::refuse_cleanly([&] {
    auto tok = rwkv::BpeTokenizer::load(p);
    auto ids = tok->encode("Hello, world!  It's 2026.\n\tCaf\xc3\xa9 <|endoftext|> \xe4\xbd\xa0\xe5\xa5\xbd");
    (void)tok->decode(ids);
  });
  return 0;
}
