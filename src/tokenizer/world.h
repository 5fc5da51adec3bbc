// world.h — the RWKV "World" tokenizer: greedy longest match over the UTF-8 bytes of the text
// against the vocabulary rwkv_vocab_v20230424.txt (lines `id repr(str|bytes) byte_length`),
// exactly as RWKV-LM's TRIE_TOKENIZER. Id 0 (end of document) is not in the vocabulary.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace rwkv {

class WorldTokenizer final : public Tokenizer {
 public:
  // Reads a World-format vocabulary; throws "[tokenizer] <file>:<line>: ..." on a bad line.
  explicit WorldTokenizer(const std::string& vocab_path);
  // From (id, bytes) pairs (tests, other vocabularies); `name` is returned by name().
  WorldTokenizer(const std::vector<std::pair<int32_t, std::string>>& vocab, std::string name);

  std::vector<int32_t> encode(std::string_view text) const override;
  // Appends to `out` (no clear): the allocation-free form make-data uses.
  void encode_append(std::string_view text, std::vector<int32_t>& out) const;
  std::string decode(const int32_t* ids, size_t n) const override;
  using Tokenizer::decode;
  int32_t vocab_size() const override { return vocab_size_; }
  std::string name() const override { return name_; }
  // Bytes of one token (empty view when the id is not in the vocabulary).
  std::string_view token_bytes(int32_t id) const;

 private:
  // Trie in BFS order: a node's children are consecutive nodes [first, first+count) whose
  // edge bytes are label_[first..]. Nodes with many children also get a dense 256-entry row.
  struct Node {
    int32_t token = -1;  // id ending here, -1 if none
    int32_t first = 0;   // index of the first child
    int32_t dense = -1;  // row in dense_ (child index per byte, -1 none), or -1
    uint16_t count = 0;  // number of children
  };
  std::vector<Node> nodes_;
  std::vector<uint8_t> label_;
  std::vector<int32_t> dense_;
  std::string bytes_;                   // all token bytes concatenated
  std::vector<int64_t> tok_off_;        // per id: offset into bytes_, -1 when absent
  std::vector<uint32_t> tok_len_;
  int32_t vocab_size_ = 0;
  std::string name_;

  void build(const std::vector<std::pair<int32_t, std::string>>& vocab);
  int32_t child(int32_t node, uint8_t b) const {
    const Node& n = nodes_[size_t(node)];
    if (n.dense >= 0) return dense_[size_t(n.dense) * 256 + b];
    const uint8_t* l = label_.data() + n.first;
    for (int k = 0; k < n.count; ++k)
      if (l[k] == b) return n.first + k;
    return -1;
  }
  [[noreturn]] void no_token(std::string_view text, size_t pos) const;
};

}  // namespace rwkv
