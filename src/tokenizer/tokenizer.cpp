// tokenizer.cpp — the byte tokenizer and make_tokenizer(), the one place a spec
// ("world", "bytes", a vocabulary file) becomes a Tokenizer.
#include "tokenizer/tokenizer.h"

#include <filesystem>

#include "core/assets.h"
#include "core/error.h"
#include "tokenizer/bpe.h"
#include "tokenizer/bytes.h"
#include "tokenizer/world.h"

namespace rwkv {

std::vector<int32_t> BytesTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out(text.size());
  for (size_t i = 0; i < text.size(); ++i) out[i] = (unsigned char)text[i];
  return out;
}

std::string BytesTokenizer::decode(const int32_t* ids, size_t n) const {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] > 255)
      fail("tokenizer", "bytes: token id {} (at position {}) is not a byte (0..255)", ids[i], i);
    out[i] = char(ids[i]);
  }
  return out;
}

std::unique_ptr<Tokenizer> make_tokenizer(const std::string& spec) {
  if (spec == "world") return std::make_unique<WorldTokenizer>(find_asset("rwkv_vocab_v20230424.txt"));
  if (spec == "bytes") return std::make_unique<BytesTokenizer>();
  if (spec == "20b" || spec == "20B") return BpeTokenizer::load(find_asset("20B_tokenizer.json"));
  namespace fs = std::filesystem;
  if (!fs::exists(spec))
    fail("tokenizer", "unknown tokenizer '{}': expected world, bytes, 20b, or the path of a "
         "vocabulary file (World .txt or tokenizer.json)", spec);
  auto ext = fs::path(spec).extension().string();
  if (ext == ".json") return BpeTokenizer::load(spec);
  return std::make_unique<WorldTokenizer>(spec);
}

}  // namespace rwkv
