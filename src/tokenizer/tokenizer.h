// tokenizer.h — the tokenizer interface shared by every tokenizer (World trie, bytes, and later
// the 20B BPE), and the one factory the CLI uses to pick one.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rwkv {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Concatenated bytes of the tokens (may end in an incomplete UTF-8 sequence).
  // Throws "[tokenizer] ..." for an id outside the vocabulary.
  virtual std::string decode(const int32_t* ids, size_t n) const = 0;
  std::string decode(const std::vector<int32_t>& ids) const { return decode(ids.data(), ids.size()); }
  virtual int32_t vocab_size() const = 0;  // largest id + 1
  virtual std::string name() const = 0;    // "world", "bytes", "bpe:<file>"
};

// spec: "world" (assets/rwkv_vocab_v20230424.txt), "bytes", "20b" (assets/20B_tokenizer.json),
// or a file path: a World-format
// vocabulary (.txt) or a Hugging Face tokenizer.json (BPE). Throws "[tokenizer] ..." otherwise.
std::unique_ptr<Tokenizer> make_tokenizer(const std::string& spec);

}  // namespace rwkv
