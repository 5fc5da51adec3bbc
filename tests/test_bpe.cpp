// test_bpe.cpp — the 20B byte-level BPE tokenizer: every fixture case of the official
// `tokenizers` output encodes exactly and decodes back (to its NFC form), the GPT-2 split, NFC,
// and clear errors for bad ids and unsupported tokenizer.json files.
#include <tuple>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_util.h"
#include "tokenizer/bpe.h"
#include "tokenizer/bpe_unicode.h"

namespace {

using rwkv::BpeTokenizer;
namespace uc = rwkv::unicode;

const BpeTokenizer& tok20b() {
  static auto t = BpeTokenizer::load(rwkv::test::asset("20B_tokenizer.json"));
  return *t;
}

std::string nfc8(const std::string& s) { return uc::to_utf8(uc::nfc(uc::from_utf8(s))); }

TEST(Bpe, FixtureCasesEncodeAndDecode) {
  const auto& t = tok20b();
  EXPECT_EQ(t.vocab_size(), 50277);
  std::ifstream f(rwkv::test::fixture("tokenizer/bpe20b_cases.jsonl"));
  std::string line;
  int n = 0, raw_roundtrip = 0;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line);
    std::string text = j["text"];
    std::vector<int32_t> ids = j["ids"];
    EXPECT_EQ(t.encode(text), ids) << "case " << n << ": " << text.substr(0, 80);
    std::string back = t.decode(ids);
    EXPECT_EQ(back, nfc8(text)) << "case " << n;  // the tokenizer normalises to NFC first
    raw_roundtrip += back == text;
    n++;
  }
  EXPECT_EQ(n, 170);
  EXPECT_EQ(raw_roundtrip, 169);  // all but the one decomposed "e + U+0301" case
}

TEST(Bpe, AddedTokens) {
  const auto& t = tok20b();
  EXPECT_EQ(t.encode("<|endoftext|>"), (std::vector<int32_t>{0}));
  EXPECT_EQ(t.decode({0, 1}), "<|endoftext|><|padding|>");
  // 30 spaces: leftmost-longest added token (24 spaces, id 50254), then 6 (id 50272).
  EXPECT_EQ(t.encode(std::string(30, ' ')), (std::vector<int32_t>{50254, 50272}));
  EXPECT_EQ(t.decode(t.encode("a" + std::string(30, ' ') + "b")), "a" + std::string(30, ' ') + "b");
}

TEST(Bpe, Gpt2Split) {
  using V = std::vector<std::string>;
  EXPECT_EQ(BpeTokenizer::pre_tokenize("Hello world's end"), (V{"Hello", " world", "'s", " end"}));
  EXPECT_EQ(BpeTokenizer::pre_tokenize("I'LL we'll 'x"), (V{"I", "'", "LL", " we", "'ll", " '", "x"}));
  EXPECT_EQ(BpeTokenizer::pre_tokenize("a  b\n\n c "), (V{"a", " ", " b", "\n\n", " c", " "}));
  EXPECT_EQ(BpeTokenizer::pre_tokenize("x\ty 12ab?!.. \xC3\xA9t\xC3\xA9"),
            (V{"x", "\t", "y", " 12", "ab", "?!..", " \xC3\xA9t\xC3\xA9"}));
  EXPECT_EQ(BpeTokenizer::pre_tokenize("\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C"),  // 你好，
            (V{"\xE4\xBD\xA0\xE5\xA5\xBD", "\xEF\xBC\x8C"}));
  EXPECT_EQ(BpeTokenizer::pre_tokenize("\xE2\x85\xA0\xE2\x85\xA1 x"), (V{"\xE2\x85\xA0\xE2\x85\xA1", " x"}));  // Nl
}

TEST(Bpe, Nfc) {
  auto nfc = [](std::u32string s) { return uc::nfc(s); };
  EXPECT_EQ(nfc(U"e\u0301"), U"\u00e9");
  EXPECT_EQ(nfc(U"\u1100\u1161\u11a8"), U"\uac01");  // Hangul L V T
  EXPECT_EQ(nfc(U"\uac00\u11a8"), U"\uac01");        // LV + T
  EXPECT_EQ(nfc(U"\u1e0b\u0323"), U"\u1e0d\u0307");  // reorder, then compose with the 2nd mark
  EXPECT_EQ(nfc(U"q\u0307\u0323"), U"q\u0323\u0307");  // canonical order only
  EXPECT_EQ(nfc(U"\u212b"), U"\u00c5");              // singleton
  EXPECT_EQ(nfc(U"\u0344"), U"\u0308\u0301");        // non-starter decomposition never recomposes
  EXPECT_EQ(nfc(U"\u0cc6\u0cc2\u0cd5"), U"\u0ccb");   // two-step composition
}

TEST(Bpe, Utf8RoundTripsInvalidBytes) {
  std::string bad = "ok\xBF\xC3(\xED\xA0\x80z";  // stray byte, truncated, surrogate
  EXPECT_EQ(uc::to_utf8(uc::from_utf8(bad)), bad);
  const auto& t = tok20b();
  EXPECT_EQ(t.decode(t.encode(bad)), bad);
  // Bytes that never occur in UTF-8 have no symbol in the 20B vocabulary: dropped, as upstream.
  EXPECT_EQ(t.decode(t.encode("a\xFF\xC0" "b")), "ab");
}

TEST(Bpe, BadInput) {
  const auto& t = tok20b();
  EXPECT_THROW(t.decode({50277}), rwkv::Error);
  EXPECT_THROW(t.decode({-1}), rwkv::Error);
  rwkv::test::TempDir d;
  std::string p = d / "wp.json";
  std::ofstream(p) << R"({"model": {"type": "WordPiece", "vocab": {}}, "pre_tokenizer": null})";
  try {
    BpeTokenizer::load(p);
    ADD_FAILURE() << "no error";
  } catch (const rwkv::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.type"), std::string::npos) << e.what();
  }
  // token ids from the file: negative (wrote before the table), huge (a gigantic table), not
  // integers (undefined casts) — each a clear error naming the file
  auto with_ids = [&](const std::string& name, const std::string& vocab_id, const std::string& added_id) {
    std::ofstream(d / name) << R"({"model": {"type": "BPE", "vocab": {"a": )" << vocab_id
                            << R"(}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}, "added_tokens": [{"id": )"
                            << added_id << R"(, "content": "<x>"}]})";
    return d / name;
  };
  for (auto [v, a, want] : {std::tuple{"0", "-1", "an added token has id -1"},
                            {"0", "2147483647", "an added token has id 2147483647"},
                            {"0", "1.5", "an added token must be an integer token id"},
                            {"-3", "1", "model.vocab['a'] has id -3"},
                            {"0", "16777215", "token id 16777215 is far beyond the 2 tokens the file defines"},
                            {"99999999999", "1", "model.vocab['a'] has id 99999999999"}}) {
    const std::string f = with_ids("ids.json", v, a);
    std::string e = rwkv::test::error_of([&] { BpeTokenizer::load(f); });
    EXPECT_NE(e.find(want), std::string::npos) << e;
    EXPECT_NE(e.find("ids.json"), std::string::npos) << e;
  }
  std::ofstream(d / "bad.json") << "{not json";
  EXPECT_THROW(BpeTokenizer::load(d / "bad.json"), rwkv::Error);
  EXPECT_THROW(BpeTokenizer::load(d / "missing.json"), rwkv::Error);
}

}  // namespace
