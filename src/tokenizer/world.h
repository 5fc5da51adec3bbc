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
  std::string_view token_bytes(int32_t id) const {
    if (id < 0 || id >= vocab_size_ || tok_off_[size_t(id)] < 0) return {};
    return std::string_view(bytes_.data() + tok_off_[size_t(id)], tok_len_[size_t(id)]);
  }
  // True when the tokens' bytes concatenate to exactly `text` (decode(ids) == text, no copy).
  bool round_trips(const int32_t* ids, size_t n, std::string_view text) const;

 private:
  // Trie in BFS order: a node's children are consecutive nodes [first, first+count). A node
  // with at most 7 children keeps their edge bytes inline (found with one SWAR compare); a busier
  // node points at a 256-bit bitmap whose rank gives the child. 16 bytes a node, cache-friendly.
  static constexpr uint8_t kBitmap = 0xFF;
  struct Node {
    int32_t token = -1;  // id ending here, -1 if none
    int32_t first = 0;   // index of the first child
    uint8_t count = 0;   // children (<= 7, labels in lab[]), or kBitmap (bitmap row in lab[0..3])
    uint8_t lab[7] = {};
  };
  struct Bitmap {
    uint64_t w[4];
    uint8_t cum[4];  // children in the words before w[i]
  };
  std::vector<Node> nodes_;
  std::vector<Bitmap> bitmaps_;
  int32_t root_[256];          // child of the root per byte, -1 none
  std::vector<int32_t> pair_;  // node of each 2-byte prefix (b0 << 8 | b1), -1 none
  std::string bytes_;                   // all token bytes concatenated
  std::vector<int64_t> tok_off_;        // per id: offset into bytes_, -1 when absent
  std::vector<uint32_t> tok_len_;
  int32_t vocab_size_ = 0;
  std::string name_;

  void build(const std::vector<std::pair<int32_t, std::string>>& vocab);
  int32_t child(const Node& n, uint8_t b) const {
    if (n.count != kBitmap) {
      uint64_t v;
      __builtin_memcpy(&v, &n.count, 8);
      v >>= 8;  // the 7 inline labels
      uint64_t x = v ^ (0x0101010101010101ull * b);
      uint64_t t = (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;  // lowest zero byte is exact
      t &= (uint64_t(1) << (8 * n.count)) - 1;
      return t ? n.first + int32_t(__builtin_ctzll(t) >> 3) : -1;
    }
    uint32_t row;
    __builtin_memcpy(&row, n.lab, 4);
    const Bitmap& m = bitmaps_[row];
    uint64_t w = m.w[b >> 6], bit = uint64_t(1) << (b & 63);
    if (!(w & bit)) return -1;
    return n.first + m.cum[b >> 6] + __builtin_popcountll(w & (bit - 1));
  }
  [[noreturn]] void no_token(std::string_view text, size_t pos) const;
};

}  // namespace rwkv
