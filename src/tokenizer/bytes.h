// bytes.h — the byte tokenizer for char-level data: token id = byte value (0..255).
#pragma once
#include "tokenizer/tokenizer.h"

namespace rwkv {

class BytesTokenizer final : public Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(const int32_t* ids, size_t n) const override;
  using Tokenizer::decode;
  int32_t vocab_size() const override { return 256; }
  std::string name() const override { return "bytes"; }
};

}  // namespace rwkv
