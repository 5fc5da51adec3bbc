// bpe.h — byte-level BPE tokenizer read from a Hugging Face tokenizer.json (the GPT-NeoX 20B
// tokenizer of the Pile-era RWKV models, 20B_tokenizer.json). Encoding follows the `tokenizers`
// pipeline: split on special added tokens, NFC normalizer, split on normalized added tokens,
// ByteLevel pre-tokenizer (GPT-2 split), BPE merges by rank. No special tokens are added.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace rwkv {

class BpeTokenizer : public Tokenizer {
 public:
  // Throws "[tokenizer] <path>: ..." naming the field at fault for anything unsupported.
  static std::unique_ptr<BpeTokenizer> load(const std::string& path);

  std::vector<int32_t> encode(std::string_view text) const override;
  // Added tokens (special ones included) decode to their content; others through the byte map.
  std::string decode(const int32_t* ids, size_t n) const override;
  using Tokenizer::decode;
  int32_t vocab_size() const override { return int32_t(id_to_token_.size()); }
  std::string name() const override { return "bpe:" + path_; }

  // The pre-tokenizer alone (GPT-2 split of already normalized text), for tests.
  static std::vector<std::string> pre_tokenize(std::string_view text);

 private:
  struct Added {
    std::string content;
    int32_t id;
    bool special, normalized;
  };
  struct Merge {
    int32_t rank, merged;
  };
  void encode_added(std::string_view piece, bool normalized_pass, std::vector<int32_t>& out) const;
  void encode_plain(std::string_view text, std::vector<int32_t>& out) const;
  void bpe_word(std::string_view bytes, std::vector<int32_t>& out) const;

  std::string path_;
  bool nfc_ = false, add_prefix_space_ = false;
  std::vector<std::string> id_to_token_;  // byte-level strings (added tokens: raw content)
  std::vector<int8_t> is_added_;          // per id
  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> rank, result
  std::vector<Added> added_;                    // longest first
  bool added_first_[2][256] = {};               // [normalized pass][byte]: an added token starts so
  int32_t byte_id_[256];                        // id of each single byte's symbol
  int16_t char_byte_[512];                      // byte-level char (code point < 512) -> byte
  mutable std::mutex cache_mu_;                 // words seen before -> their ids
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace rwkv
