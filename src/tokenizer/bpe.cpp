// bpe.cpp — the byte-level BPE tokenizer (tokenizer.json): loading, the GPT-2 pre-tokenizer split
// written by hand over Unicode categories (the pattern
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+), merges by rank,
// added tokens matched leftmost-longest, and decoding through the byte-level map.
#include "tokenizer/bpe.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <queue>
#include <sstream>

#include "core/error.h"
#include "core/input_file.h"
#include "tokenizer/bpe_unicode.h"

namespace rwkv {
namespace {

using json = nlohmann::json;

// GPT-2 bytes_to_unicode: printable Latin-1 bytes map to themselves, the rest to 256 + n.
std::array<char32_t, 256> byte_chars() {
  std::array<char32_t, 256> m{};
  int n = 0;
  for (int b = 0; b < 256; b++) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    m[b] = printable ? char32_t(b) : char32_t(256 + n++);
  }
  return m;
}

// Pieces [begin, end) of the GPT-2 split of s.
void gpt2_split(const std::u32string& s, std::vector<std::pair<size_t, size_t>>& out) {
  using unicode::category;
  using unicode::is_whitespace;
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    char32_t c = s[i];
    if (c == '\'' && i + 1 < n) {
      char32_t c1 = s[i + 1];
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        out.emplace_back(i, i + 2);
        i += 2;
        continue;
      }
      if (i + 2 < n) {
        char32_t c2 = s[i + 2];
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
          out.emplace_back(i, i + 3);
          i += 3;
          continue;
        }
      }
    }
    size_t j = i + (c == ' ' ? 1 : 0);
    if (j < n && !is_whitespace(s[j])) {
      auto cat = category(s[j]);
      size_t k = j;
      while (k < n && category(s[k]) == cat && (cat != unicode::kOther || !is_whitespace(s[k]))) k++;
      out.emplace_back(i, k);
      i = k;
      continue;
    }
    // Whitespace: \s+(?!\S) leaves the last space to the word after it; else \s+.
    size_t k = i;
    while (k < n && is_whitespace(s[k])) k++;
    size_t end = (k < n && k - 1 > i) ? k - 1 : k;
    out.emplace_back(i, end);
    i = end;
  }
}

std::string read_text(const std::string& path) {
  return read_input_file(path, "tokenizer", "tokenizer.json file");
}

// A token id from the file: an integer in [0, 2^24) (tables are sized by the largest id; real
// vocabularies are < 2^18), else "[tokenizer] <file>: <what> ...".
int32_t token_id(const nlohmann::json& v, const std::string& path, const std::string& what) {
  constexpr int64_t kMaxId = int64_t(1) << 24;
  if (!v.is_number_integer()) fail("tokenizer", "{}: {} must be an integer token id, got {}", path, what, v.dump());
  const int64_t id = v.is_number_unsigned() ? int64_t(std::min<uint64_t>(v.get<uint64_t>(), uint64_t(kMaxId))) : v.get<int64_t>();
  if (id < 0 || id >= kMaxId) fail("tokenizer", "{}: {} has id {}, outside [0, {})", path, what, v.dump(), kMaxId);
  return int32_t(id);
}

}  // namespace

std::vector<std::string> BpeTokenizer::pre_tokenize(std::string_view text) {
  std::u32string s = unicode::from_utf8(text);
  std::vector<std::pair<size_t, size_t>> pieces;
  gpt2_split(s, pieces);
  std::vector<std::string> out;
  for (auto [b, e] : pieces) out.push_back(unicode::to_utf8(std::u32string_view(s).substr(b, e - b)));
  return out;
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::load(const std::string& path) {
  json j;
  try {
    j = json::parse(read_text(path));
  } catch (const json::exception& e) {
    fail("tokenizer", "{}: not valid JSON: {}", path, e.what());
  }
  auto t = std::unique_ptr<BpeTokenizer>(new BpeTokenizer());
  t->path_ = path;
  auto field = [&](const json& obj, const char* key) -> const json& {
    if (!obj.is_object() || !obj.contains(key)) fail("tokenizer", "{}: missing field '{}'", path, key);
    return obj[key];
  };
  try {
    const json& model = field(j, "model");
    if (model.value("type", std::string("BPE")) != "BPE")
      fail("tokenizer", "{}: model.type '{}' is not supported (expected BPE)", path, model["type"].get<std::string>());
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (model.contains(k) && !model[k].is_null() && model[k] != "")
        fail("tokenizer", "{}: model.{} is not supported", path, k);
    if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"].get<double>() != 0)
      fail("tokenizer", "{}: model.dropout is not supported", path);

    // normalizer: null or NFC
    if (j.contains("normalizer") && !j["normalizer"].is_null()) {
      std::string type = field(j["normalizer"], "type").get<std::string>();
      if (type != "NFC") fail("tokenizer", "{}: normalizer.type '{}' is not supported (null or NFC)", path, type);
      t->nfc_ = true;
    }
    const json& pre = field(j, "pre_tokenizer");
    if (pre.is_null() || field(pre, "type").get<std::string>() != "ByteLevel" || !pre.value("use_regex", true))
      fail("tokenizer", "{}: pre_tokenizer must be ByteLevel with use_regex", path);
    t->add_prefix_space_ = pre.value("add_prefix_space", false);
    if (j.contains("decoder") && !j["decoder"].is_null() && j["decoder"].value("type", "") != "ByteLevel")
      fail("tokenizer", "{}: decoder.type must be ByteLevel", path);

    // vocab
    const json& vocab = field(model, "vocab");
    int32_t max_id = -1;
    for (auto& [tok, idj] : vocab.items()) max_id = std::max(max_id, token_id(idj, path, "model.vocab['" + tok + "']"));
    const json& added = j.contains("added_tokens") ? j["added_tokens"] : json::array();
    for (const json& a : added) max_id = std::max(max_id, token_id(field(a, "id"), path, "an added token"));
    // Tables are indexed by id: ids far beyond the number of tokens would size them from a claim.
    const int64_t n_tokens = int64_t(vocab.size() + added.size());
    if (max_id >= n_tokens + 65536)
      fail("tokenizer", "{}: token id {} is far beyond the {} tokens the file defines (ids must be < tokens + 65536)",
           path, max_id, n_tokens);
    t->id_to_token_.assign(size_t(max_id + 1), std::string());
    t->is_added_.assign(size_t(max_id + 1), 0);
    for (auto& [tok, idj] : vocab.items()) {
      const int32_t id = token_id(idj, path, "model.vocab['" + tok + "']");
      t->id_to_token_[size_t(id)] = tok;
      t->vocab_[tok] = id;
    }
    // byte-level alphabet
    auto bc = byte_chars();
    std::fill(std::begin(t->char_byte_), std::end(t->char_byte_), int16_t(-1));
    for (int b = 0; b < 256; b++) {
      t->char_byte_[bc[b]] = int16_t(b);
      std::string s;
      unicode::append_utf8(s, bc[b]);
      auto it = t->vocab_.find(s);
      t->byte_id_[b] = it == t->vocab_.end() ? -1 : it->second;  // 20B: no 0xC0, 0xC1, 0xF5..0xFF
    }
    // merges: "a b" strings (or [a, b] pairs in newer files), rank = position
    const json& merges = field(model, "merges");
    int32_t rank = 0;
    for (const json& m : merges) {
      std::string a, b;
      if (m.is_string()) {
        std::string s = m.get<std::string>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos) fail("tokenizer", "{}: model.merges[{}] '{}' has no space", path, rank, s);
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else {
        a = m.at(0).get<std::string>();
        b = m.at(1).get<std::string>();
      }
      auto ia = t->vocab_.find(a), ib = t->vocab_.find(b), im = t->vocab_.find(a + b);
      if (ia == t->vocab_.end() || ib == t->vocab_.end() || im == t->vocab_.end())
        fail("tokenizer", "{}: model.merges[{}] '{} {}' uses a token not in model.vocab", path, rank, a, b);
      uint64_t key = (uint64_t(uint32_t(ia->second)) << 32) | uint32_t(ib->second);
      t->merges_.try_emplace(key, Merge{rank, im->second});
      rank++;
    }
    // added tokens
    for (const json& a : added) {
      Added ad{field(a, "content").get<std::string>(), token_id(field(a, "id"), path, "an added token"), a.value("special", false),
               a.value("normalized", !a.value("special", false))};
      if (a.value("lstrip", false) || a.value("rstrip", false) || a.value("single_word", false))
        fail("tokenizer", "{}: added token {} uses lstrip/rstrip/single_word, which is not supported", path, ad.id);
      if (ad.content.empty()) fail("tokenizer", "{}: added token {} is empty", path, ad.id);
      t->id_to_token_[size_t(ad.id)] = ad.content;
      t->added_first_[ad.normalized ? 1 : 0][uint8_t(ad.content[0])] = true;
      t->is_added_[size_t(ad.id)] = 1;
      t->added_.push_back(std::move(ad));
    }
    std::stable_sort(t->added_.begin(), t->added_.end(),
                     [](const Added& x, const Added& y) { return x.content.size() > y.content.size(); });
  } catch (const json::exception& e) {
    fail("tokenizer", "{}: unexpected JSON structure: {}", path, e.what());
  }
  return t;
}

// Splits `piece` on the added tokens of one kind (normalized_pass: the normalized ones, else the
// special ones matched on raw text), leftmost-longest; the text between goes on down the pipeline.
void BpeTokenizer::encode_added(std::string_view piece, bool normalized_pass, std::vector<int32_t>& out) const {
  auto rest = [&](std::string_view s) {
    if (s.empty()) return;
    if (normalized_pass) {
      encode_plain(s, out);
    } else if (nfc_) {
      std::string norm = unicode::to_utf8(unicode::nfc(unicode::from_utf8(s)));
      encode_added(norm, true, out);
    } else {
      encode_added(s, true, out);
    }
  };
  size_t start = 0;
  const bool* first = added_first_[normalized_pass ? 1 : 0];
  for (size_t i = 0; i < piece.size();) {
    if (!first[uint8_t(piece[i])]) {
      i++;
      continue;
    }
    const Added* hit = nullptr;
    for (const Added& a : added_) {  // longest first
      if (a.normalized != normalized_pass) continue;
      if (a.content[0] == piece[i] && piece.compare(i, a.content.size(), a.content) == 0) {
        hit = &a;
        break;
      }
    }
    if (!hit) {
      i++;
      continue;
    }
    rest(piece.substr(start, i - start));
    out.push_back(hit->id);
    i += hit->content.size();
    start = i;
  }
  rest(piece.substr(start));
}

void BpeTokenizer::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
  std::u32string s = unicode::from_utf8(text);
  if (add_prefix_space_ && !s.empty() && s[0] != ' ') s.insert(s.begin(), U' ');
  std::vector<std::pair<size_t, size_t>> pieces;
  gpt2_split(s, pieces);
  std::string word;
  for (auto [b, e] : pieces) {
    word.clear();
    for (size_t k = b; k < e; k++) unicode::append_utf8(word, s[k]);
    bpe_word(word, out);
  }
}

// BPE over the bytes of one pre-tokenized word: repeatedly merge the adjacent pair of lowest rank
// (leftmost on ties), as `tokenizers` does with its priority queue.
void BpeTokenizer::bpe_word(std::string_view bytes, std::vector<int32_t>& out) const {
  constexpr size_t kCacheMaxWord = 64, kCacheMaxEntries = 1 << 18;
  const bool cacheable = bytes.size() <= kCacheMaxWord;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(std::string(bytes));
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t out0 = out.size();
  // A byte without a symbol (never in valid UTF-8) is dropped, as `tokenizers` does without unk.
  std::vector<int32_t> id;
  id.reserve(bytes.size());
  for (char b : bytes)
    if (byte_id_[uint8_t(b)] >= 0) id.push_back(byte_id_[uint8_t(b)]);
  const int n = int(id.size());
  if (n == 0) return;
  std::vector<int> prev(n), next(n);
  for (int k = 0; k < n; k++) {
    prev[k] = k - 1;
    next[k] = k + 1 < n ? k + 1 : -1;
  }
  struct Cand {
    int32_t rank;
    int pos;
    int32_t left, right, merged;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> q;
  auto push = [&](int p) {
    if (p < 0 || next[p] < 0) return;
    auto it = merges_.find((uint64_t(uint32_t(id[p])) << 32) | uint32_t(id[next[p]]));
    if (it != merges_.end()) q.push({it->second.rank, p, id[p], id[next[p]], it->second.merged});
  };
  for (int k = 0; k + 1 < n; k++) push(k);
  while (!q.empty()) {
    Cand c = q.top();
    q.pop();
    int p = c.pos;
    if (id[p] < 0 || next[p] < 0 || id[p] != c.left || id[next[p]] != c.right) continue;  // stale
    int r = next[p];
    id[p] = c.merged;
    id[r] = -1;
    next[p] = next[r];
    if (next[p] >= 0) prev[next[p]] = p;
    push(prev[p]);
    push(p);
  }
  for (int k = 0; k >= 0; k = next[k]) out.push_back(id[k]);
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_.size() >= kCacheMaxEntries) cache_.clear();
    cache_.emplace(std::string(bytes), std::vector<int32_t>(out.begin() + out0, out.end()));
  }
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  encode_added(text, false, out);
  return out;
}

std::string BpeTokenizer::decode(const int32_t* ids, size_t n) const {
  std::string out;
  for (size_t k = 0; k < n; k++) {
    int32_t id = ids[k];
    if (id < 0 || id >= vocab_size() || (id_to_token_[size_t(id)].empty()))
      fail("tokenizer", "{}: id {} is outside the vocabulary (size {})", name(), id, vocab_size());
    const std::string& tok = id_to_token_[size_t(id)];
    if (is_added_[size_t(id)]) {
      out += tok;
      continue;
    }
    for (char32_t c : unicode::from_utf8(tok)) {
      if (c < 512 && char_byte_[c] >= 0) out.push_back(char(char_byte_[c]));
      else unicode::append_utf8(out, c);
    }
  }
  return out;
}

}  // namespace rwkv
