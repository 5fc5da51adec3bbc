// world.cpp — World trie tokenizer (see world.h). Hand-written (DESIGN.md §3): the official
// algorithm is a byte trie with greedy longest match; no packaged library implements it.
#include "tokenizer/world.h"

#include <algorithm>
#include <fstream>

#include "core/error.h"
#include "tokenizer/py_literal.h"

namespace rwkv {

static std::vector<std::pair<int32_t, std::string>> read_vocab(const std::string& path) {
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
    if (id < 0 || id > INT32_MAX) fail("tokenizer", "{}: bad token id '{}'", where, line.substr(0, a));
    std::string bytes = parse_py_literal(std::string_view(line).substr(a, b - a), where);
    if (len < 0 || size_t(len) != bytes.size())
      fail("tokenizer", "{}: token is {} bytes but the line says '{}'", where, bytes.size(), line.substr(b + 1));
    if (bytes.empty()) fail("tokenizer", "{}: empty token", where);
    vocab.emplace_back(int32_t(id), std::move(bytes));
  }
  if (vocab.empty()) fail("tokenizer", "{}: no tokens in vocabulary file", path);
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
  nodes_.assign(1, Node{});
  label_.assign(1, 0);
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
        made = int32_t(nodes_.size());
        nodes_.push_back(Node{});
        label_.push_back(uint8_t(b));
        Node& pn = nodes_[size_t(p)];
        if (pn.count == 0) pn.first = made;
        if (pn.count == UINT16_MAX) fail("tokenizer", "{}: trie node with too many children", name_);
        ++pn.count;
        prev_parent = p;
        prev_byte = b;
      }
      cur[size_t(id)] = made;
      if (t.size() == d + 1) nodes_[size_t(made)].token = id;  // equal bytes: the later id wins
      else next_active.push_back(id);
    }
    active.swap(next_active);
  }
  // Dense rows for busy nodes: a scan over more than a few labels costs more than a lookup.
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (n.count <= 6 && i != 0) continue;
    n.dense = int32_t(dense_.size() / 256);
    dense_.resize(dense_.size() + 256, -1);
    for (int k = 0; k < n.count; ++k) dense_[size_t(n.dense) * 256 + label_[size_t(n.first + k)]] = n.first + k;
  }
}

void WorldTokenizer::no_token(std::string_view text, size_t pos) const {
  fail("tokenizer", "{}: no token matches the byte 0x{:02x} at offset {}", name_, (unsigned char)text[pos], pos);
}

void WorldTokenizer::encode_append(std::string_view text, std::vector<int32_t>& out) const {
  auto p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  const Node* nodes = nodes_.data();
  const int32_t* root = dense_.data();  // the root always has dense row 0
  size_t i = 0;
  while (i < n) {
    int32_t u = root[p[i]];
    if (u < 0) no_token(text, i);
    int32_t best = nodes[u].token;
    size_t j = i + 1, best_end = best >= 0 ? j : i;
    while (j < n) {
      int32_t v = child(u, p[j]);
      if (v < 0) break;
      u = v;
      ++j;
      if (nodes[u].token >= 0) {
        best = nodes[u].token;
        best_end = j;
      }
    }
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

std::string_view WorldTokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= vocab_size_ || tok_off_[size_t(id)] < 0) return {};
  return std::string_view(bytes_).substr(size_t(tok_off_[size_t(id)]), tok_len_[size_t(id)]);
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
