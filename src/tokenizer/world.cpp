// world.cpp — World trie tokenizer (see world.h). Hand-written (DESIGN.md §3): the official
// algorithm is a byte trie with greedy longest match; no packaged library implements it.
#include "tokenizer/world.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/input_file.h"
#include "tokenizer/py_literal.h"

namespace rwkv {

namespace {
constexpr int64_t kMaxWorldId = int64_t(1) << 24;
}  // namespace

static std::vector<std::pair<int32_t, std::string>> read_vocab(const std::string& path) {
  require_input_file(path, "tokenizer", "vocabulary file");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("tokenizer", "{}: cannot read vocabulary file", path);
  std::vector<std::pair<int32_t, std::string>> vocab;
  std::string line;
  size_t lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::string where = fmt::format("{}:{}", path, lineno);
    size_t a = line.find(' '), b = line.rfind(' ');
    if (a == std::string::npos || b <= a)
      fail("tokenizer", "{}: expected `id literal length`, got '{}'", where, line);
    int64_t id = -1, len = -1;
    try {
      size_t used = 0;
      id = std::stoll(line.substr(0, a), &used);
      if (used != a) id = -1;
      len = std::stoll(line.substr(b + 1), &used);
      if (used != line.size() - b - 1) len = -1;
    } catch (const std::exception&) {
    }
    // ids index tables sized by the largest one: bound them (real vocabularies are < 2^18)
    if (id < 0) fail("tokenizer", "{}: bad token id '{}'", where, line.substr(0, a));
    if (id >= kMaxWorldId)
      fail("tokenizer", "{}: token id '{}' is outside [0, {})", where, line.substr(0, a), kMaxWorldId);
    std::string bytes = parse_py_literal(std::string_view(line).substr(a, b - a), where);
    if (len < 0 || size_t(len) != bytes.size())
      fail("tokenizer", "{}: token is {} bytes but the line says '{}'", where, bytes.size(), line.substr(b + 1));
    if (bytes.empty()) fail("tokenizer", "{}: empty token", where);
    vocab.emplace_back(int32_t(id), std::move(bytes));
  }
  if (vocab.empty()) fail("tokenizer", "{}: no tokens in vocabulary file", path);
  // Tables are indexed by id: ids far beyond the number of lines would size them from a claim.
  int32_t max_id = 0;
  for (auto& [id, b] : vocab) max_id = std::max(max_id, id);
  if (int64_t(max_id) >= int64_t(vocab.size()) + 65536)
    fail("tokenizer", "{}: token id {} is far beyond the {} tokens the file defines (ids must be < tokens + 65536)",
         path, max_id, vocab.size());
  return vocab;
}

WorldTokenizer::WorldTokenizer(const std::string& vocab_path) : name_("world") {
  build(read_vocab(vocab_path));
  if (vocab_path.find("rwkv_vocab_v20230424") == std::string::npos) name_ = vocab_path;
}

WorldTokenizer::WorldTokenizer(const std::vector<std::pair<int32_t, std::string>>& vocab, std::string name)
    : name_(std::move(name)) {
  build(vocab);
}

void WorldTokenizer::build(const std::vector<std::pair<int32_t, std::string>>& vocab) {
  // id -> bytes (a later line with the same id wins), then bytes -> id in first-seen id order
  // (a later id with the same bytes wins), as the official dicts do.
  for (auto& [id, b] : vocab) vocab_size_ = std::max(vocab_size_, id + 1);
  std::vector<const std::string*> id2tok(size_t(vocab_size_), nullptr);
  std::vector<int32_t> order;
  for (auto& [id, b] : vocab) {
    if (!id2tok[size_t(id)]) order.push_back(id);
    id2tok[size_t(id)] = &b;
  }
  tok_off_.assign(size_t(vocab_size_), -1);
  tok_len_.assign(size_t(vocab_size_), 0);
  for (int32_t id : order) {
    tok_off_[size_t(id)] = int64_t(bytes_.size());
    tok_len_[size_t(id)] = uint32_t(id2tok[size_t(id)]->size());
    bytes_ += *id2tok[size_t(id)];
  }
  // Tokens sorted by bytes (stable: for equal bytes the later id in `order` comes last and wins).
  std::vector<int32_t> sorted(order);
  std::stable_sort(sorted.begin(), sorted.end(), [&](int32_t a, int32_t b) { return token_bytes(a) < token_bytes(b); });

  // Breadth-first trie straight from the sorted list: the nodes of depth d+1 are the distinct
  // (d+1)-byte prefixes in sorted order, so each node's children come out consecutive.
  std::vector<Node> nodes(1);
  std::vector<uint16_t> count(1, 0);
  std::vector<uint8_t> label(1, 0);
  std::vector<int32_t> active(sorted), cur(size_t(vocab_size_), 0), next_active;
  for (size_t d = 0; !active.empty(); ++d) {
    int32_t prev_parent = -1, made = -1;
    int prev_byte = -1;
    next_active.clear();
    for (int32_t id : active) {
      std::string_view t = token_bytes(id);
      int32_t p = cur[size_t(id)];
      int b = (unsigned char)t[d];
      if (p != prev_parent || b != prev_byte) {
        made = int32_t(nodes.size());
        nodes.push_back(Node{});
        count.push_back(0);
        label.push_back(uint8_t(b));
        if (count[size_t(p)]++ == 0) nodes[size_t(p)].first = made;
        prev_parent = p;
        prev_byte = b;
      }
      cur[size_t(id)] = made;
      if (t.size() == d + 1) nodes[size_t(made)].token = id;  // equal bytes: the later id wins
      else next_active.push_back(id);
    }
    active.swap(next_active);
  }
  for (int b = 0; b < 256; ++b) root_[b] = -1;
  for (int k = 0; k < count[0]; ++k) root_[label[size_t(nodes[0].first + k)]] = nodes[0].first + k;
  for (size_t i = 1; i < nodes.size(); ++i) {
    Node& n = nodes[i];
    if (count[i] <= 7) {
      n.count = uint8_t(count[i]);
      for (int k = 0; k < count[i]; ++k) n.lab[k] = label[size_t(n.first + k)];
      continue;
    }
    Bitmap m{};
    for (int k = 0; k < count[i]; ++k) {
      uint8_t c = label[size_t(n.first + k)];
      m.w[c >> 6] |= uint64_t(1) << (c & 63);
    }
    for (int w = 1; w < 4; ++w) m.cum[w] = uint8_t(m.cum[w - 1] + __builtin_popcountll(m.w[w - 1]));
    uint32_t row = uint32_t(bitmaps_.size());
    bitmaps_.push_back(m);
    n.count = kBitmap;
    std::memcpy(n.lab, &row, 4);
  }
  nodes_ = std::move(nodes);
  pair_.assign(65536, -1);
  for (int a = 0; a < 256; ++a)
    if (root_[a] >= 0)
      for (int b = 0; b < 256; ++b) pair_[size_t(a) << 8 | size_t(b)] = child(nodes_[size_t(root_[a])], uint8_t(b));
}

void WorldTokenizer::no_token(std::string_view text, size_t pos) const {
  fail("tokenizer", "{}: no token matches the byte 0x{:02x} at offset {}", name_, (unsigned char)text[pos], pos);
}

void WorldTokenizer::encode_append(std::string_view text, std::vector<int32_t>& out) const {
  auto p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  const Node* nodes = nodes_.data();
  size_t i = 0;
  while (i < n) {
    int32_t u = root_[p[i]];
    if (u < 0) no_token(text, i);
    int32_t best = nodes[u].token;
    size_t j = i + 1, best_end = best >= 0 ? j : i;
    if (j < n) {  // the first two bytes in one lookup
      int32_t v = pair_[size_t(p[i]) << 8 | p[j]];
      if (v < 0) goto emit;
      u = v;
      ++j;
      if (nodes[u].token >= 0) {
        best = nodes[u].token;
        best_end = j;
      }
    }
    while (j < n) {
      int32_t v = child(nodes[u], p[j]);
      if (v < 0) break;
      u = v;
      ++j;
      if (nodes[u].token >= 0) {
        best = nodes[u].token;
        best_end = j;
      }
    }
  emit:
    if (best_end == i) no_token(text, i);
    out.push_back(best);
    i = best_end;
  }
}

std::vector<int32_t> WorldTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_append(text, out);
  return out;
}

bool WorldTokenizer::round_trips(const int32_t* ids, size_t n, std::string_view text) const {
  const char* t = text.data();
  size_t pos = 0, len = text.size();
  for (size_t k = 0; k < n; ++k) {
    int32_t id = ids[k];
    if (id < 0 || id >= vocab_size_ || tok_off_[size_t(id)] < 0) return false;
    const char* b = bytes_.data() + tok_off_[size_t(id)];
    uint32_t l = tok_len_[size_t(id)];
    if (l > len - pos) return false;
    for (uint32_t c = 0; c < l; ++c)
      if (b[c] != t[pos + c]) return false;
    pos += l;
  }
  return pos == len;
}

std::string WorldTokenizer::decode(const int32_t* ids, size_t n) const {
  std::string out;
  for (size_t k = 0; k < n; ++k) {
    int32_t id = ids[k];
    if (id < 0 || id >= vocab_size_ || tok_off_[size_t(id)] < 0)
      fail("tokenizer", "{}: token id {} (at position {}) is not in the vocabulary{}", name_, id, k,
           id == 0 ? " (0 is the end-of-document token)" : "");
    out.append(bytes_, size_t(tok_off_[size_t(id)]), tok_len_[size_t(id)]);
  }
  return out;
}

}  // namespace rwkv
