// world.cpp — World trie tokenizer (see world.h). Hand-written (DESIGN.md §3): the official
// algorithm is a byte trie with greedy longest match; no packaged library implements it.
#include "tokenizer/world.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <unordered_map>

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
  std::vector<int32_t> order;
  std::unordered_map<int32_t, std::string> id2tok;
  for (auto& [id, b] : vocab) {
    if (!id2tok.count(id)) order.push_back(id);
    id2tok[id] = b;
    vocab_size_ = std::max(vocab_size_, id + 1);
  }
  std::map<std::string, int32_t> tok2id;  // sorted: lets the trie be built level by level
  for (int32_t id : order) tok2id[id2tok[id]] = id;

  tok_off_.assign(size_t(vocab_size_), -1);
  tok_len_.assign(size_t(vocab_size_), 0);
  for (int32_t id : order) {
    tok_off_[size_t(id)] = int64_t(bytes_.size());
    tok_len_[size_t(id)] = uint32_t(id2tok[id].size());
    bytes_ += id2tok[id];
  }

  // Pointer trie first, then flattened breadth-first so that siblings are consecutive.
  struct TNode {
    int32_t token = -1;
    std::map<uint8_t, int32_t> kids;
  };
  std::vector<TNode> t(1);
  for (auto& [b, id] : tok2id) {
    int32_t u = 0;
    for (unsigned char c : b) {
      auto it = t[size_t(u)].kids.find(c);
      if (it == t[size_t(u)].kids.end()) {
        t.emplace_back();
        int32_t v = int32_t(t.size() - 1);
        t[size_t(u)].kids[c] = v;
        u = v;
      } else {
        u = it->second;
      }
    }
    t[size_t(u)].token = id;
  }
  nodes_.assign(t.size(), Node{});
  label_.assign(t.size(), 0);
  std::vector<int32_t> queue{0}, newidx(t.size(), -1);
  newidx[0] = 0;
  int32_t next = 1;
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    int32_t old = queue[qi];
    Node& n = nodes_[size_t(newidx[size_t(old)])];
    n.token = t[size_t(old)].token;
    n.first = next;
    n.count = uint16_t(t[size_t(old)].kids.size());
    for (auto& [c, kid] : t[size_t(old)].kids) {
      newidx[size_t(kid)] = next;
      label_[size_t(next)] = c;
      ++next;
      queue.push_back(kid);
    }
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
