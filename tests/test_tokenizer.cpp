// test_tokenizer.cpp — World trie tokenizer against the official TRIE_TOKENIZER cases, the byte
// tokenizer, the vocabulary parser and the factory's errors.
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_util.h"
#include "tokenizer/bytes.h"
#include "tokenizer/py_literal.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/world.h"

using namespace rwkv;
using rwkv::test::fixture;
using rwkv::test::error_of;

namespace {

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<Case> world_cases() {
  std::ifstream f(fixture("tokenizer/world_cases.jsonl"));
  std::vector<Case> v;
  std::string line;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line);
    v.push_back({j["text"].get<std::string>(), j["ids"].get<std::vector<int32_t>>()});
  }
  return v;
}

const Tokenizer& world() {
  static auto t = make_tokenizer("world");
  return *t;
}

}  // namespace

TEST(WorldTokenizer, OfficialCasesEncodeAndDecode) {
  auto cases = world_cases();
  ASSERT_EQ(cases.size(), 229u);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(world().encode(cases[i].text), cases[i].ids) << "case " << i << ": " << cases[i].text;
    EXPECT_EQ(world().decode(cases[i].ids), cases[i].text) << "case " << i;
  }
}

TEST(WorldTokenizer, VocabularyFacts) {
  EXPECT_EQ(world().vocab_size(), 65530);
  EXPECT_EQ(world().name(), "world");
  EXPECT_EQ(world().encode(""), std::vector<int32_t>{});
  EXPECT_EQ(world().encode(std::string(1, '\0')), std::vector<int32_t>{1});  // '\x00' is id 1
  EXPECT_EQ(world().encode("\xff"), std::vector<int32_t>{256});             // b'\xff' is id 256
  EXPECT_EQ(world().encode(std::string(128, ' ')), std::vector<int32_t>{65529});
  EXPECT_EQ(world().encode(std::string(129, ' ')), (std::vector<int32_t>{65529, 33}));
}

TEST(WorldTokenizer, DecodeRejectsIdsOutsideTheVocabulary) {
  EXPECT_NE(error_of([] { world().decode(std::vector<int32_t>{0}); }).find("end-of-document"), std::string::npos);
  EXPECT_NE(error_of([] { world().decode(std::vector<int32_t>{33, 65530}); }).find("token id 65530 (at position 1)"),
            std::string::npos);
  EXPECT_NE(error_of([] { world().decode(std::vector<int32_t>{-1}); }).find("[tokenizer]"), std::string::npos);
}

TEST(WorldTokenizer, GreedyLongestMatchBacksOffToTheLastToken) {
  // The walk goes past "abc" to "abcd" (a prefix of "abcde", no token) and must fall back to "abc".
  WorldTokenizer t({{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}, {5, "x"}, {6, "abc"}, {7, "abcde"}}, "small");
  EXPECT_EQ(t.encode("abcdx"), (std::vector<int32_t>{6, 4, 5}));
  EXPECT_EQ(t.encode("abcde"), (std::vector<int32_t>{7}));
  EXPECT_EQ(t.encode("ab"), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(t.vocab_size(), 8);
  std::string err = error_of([&] { t.encode("abz"); });
  EXPECT_NE(err.find("no token matches the byte 0x7a at offset 2"), std::string::npos) << err;
}

TEST(WorldTokenizer, DuplicateBytesKeepTheLaterId) {
  WorldTokenizer t({{1, "a"}, {2, "a"}}, "dup");
  EXPECT_EQ(t.encode("aa"), (std::vector<int32_t>{2, 2}));
  EXPECT_EQ(t.decode(std::vector<int32_t>{1, 2}), "aa");
}

TEST(PyLiteral, ParsesReprOfStrAndBytes) {
  EXPECT_EQ(parse_py_literal(" '\\x00' ", "t"), std::string(1, '\0'));
  EXPECT_EQ(parse_py_literal("b'\\xff'", "t"), "\xff");
  EXPECT_EQ(parse_py_literal("'\\xff'", "t"), "\xc3\xbf");  // str: U+00FF in UTF-8
  EXPECT_EQ(parse_py_literal("\"it's\"", "t"), "it's");
  EXPECT_EQ(parse_py_literal("'\\'\\\\\\n\\t\\r'", "t"), "'\\\n\t\r");
  EXPECT_EQ(parse_py_literal("'\\u4e00'", "t"), "\xe4\xb8\x80");
  EXPECT_EQ(parse_py_literal("'\\U0001f600'", "t"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(parse_py_literal("'你好'", "t"), "你好");
  EXPECT_EQ(parse_py_literal("b'a\\x80b'", "t"), "a\x80" "b");
  EXPECT_NE(error_of([] { parse_py_literal("abc", "f:3"); }).find("f:3: expected a Python str or bytes literal"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_py_literal("'\\x4'", "f:4"); }).find("f:4"), std::string::npos);
  EXPECT_NE(error_of([] { parse_py_literal("'a'b'", "f:5"); }).find("unescaped quote"), std::string::npos);
}

TEST(WorldTokenizer, VocabularyFileErrorsNameTheLine) {
  rwkv::test::TempDir d;
  auto write = [&](const std::string& body) {
    std::ofstream(d / "v.txt", std::ios::binary) << body;
    return d / "v.txt";
  };
  std::string err = error_of([&] { WorldTokenizer t(write("1 'a' 1\n2 'bc' 3\n")); });
  EXPECT_NE(err.find("v.txt:2: token is 2 bytes but the line says '3'"), std::string::npos) << err;
  err = error_of([&] { WorldTokenizer t(write("1 'a' 1\nx 'b' 1\n")); });
  EXPECT_NE(err.find("v.txt:2: bad token id"), std::string::npos) << err;
  // ids that would overflow id + 1 or size a table of gigabytes are refused
  err = error_of([&] { WorldTokenizer t(write("1 'a' 1\n2147483647 'b' 1\n")); });
  EXPECT_NE(err.find("v.txt:2: token id '2147483647' is outside [0, 16777216)"), std::string::npos) << err;
  err = error_of([&] { WorldTokenizer t(write("2000000000 'b' 1\n")); });
  EXPECT_NE(err.find("v.txt:1: token id '2000000000' is outside"), std::string::npos) << err;
  // an id inside [0, 2^24) but far past the file's lines: a 400 MB table from 20 bytes
  err = error_of([&] { WorldTokenizer t(write("1 'a' 1\n16777215 'b' 1\n")); });
  EXPECT_NE(err.find("v.txt: token id 16777215 is far beyond the 2 tokens the file defines"), std::string::npos) << err;
  err = error_of([&] { WorldTokenizer t(write("1 'a' 1\n65537 'b' 1\n")); });  // gaps up to 65536 are fine
  EXPECT_EQ(err, "(no error)");
  err = error_of([&] { WorldTokenizer t(write("1 a 1\n")); });
  EXPECT_NE(err.find("v.txt:1:"), std::string::npos) << err;
  err = error_of([&] { WorldTokenizer t(write("")); });
  EXPECT_NE(err.find("no tokens"), std::string::npos) << err;
  err = error_of([&] { WorldTokenizer t(d / "missing.txt"); });
  EXPECT_NE(err.find("missing.txt: no such file (a vocabulary file was expected)"), std::string::npos) << err;
  // A valid small file through the factory.
  auto t = make_tokenizer(write("1 'a' 1\n2 b'\\xe4' 1\n3 'ab' 2\n"));
  EXPECT_EQ(t->encode("aab\xe4"), (std::vector<int32_t>{1, 3, 2}));
}

TEST(BytesTokenizer, IdsAreBytes) {
  auto t = make_tokenizer("bytes");
  EXPECT_EQ(t->name(), "bytes");
  EXPECT_EQ(t->vocab_size(), 256);
  EXPECT_EQ(t->encode(std::string("a\0\xff", 3)), (std::vector<int32_t>{97, 0, 255}));
  EXPECT_EQ(t->decode(std::vector<int32_t>{104, 105, 0, 255}), std::string("hi\0\xff", 4));
  EXPECT_NE(error_of([&] { t->decode(std::vector<int32_t>{256}); }).find("token id 256"), std::string::npos);
}

TEST(MakeTokenizer, UnknownSpecsAreClearErrors) {
  EXPECT_NE(error_of([] { make_tokenizer("nope"); }).find("unknown tokenizer 'nope'"), std::string::npos);
  EXPECT_NE(error_of([] { make_tokenizer("/nonexistent/vocab.txt"); }).find("unknown tokenizer"), std::string::npos);
  // tokenizer.json files go to the BPE tokenizer.
  EXPECT_EQ(make_tokenizer(rwkv::test::asset("20B_tokenizer.json"))->name().substr(0, 4), "bpe:");
  EXPECT_EQ(make_tokenizer("20b")->vocab_size(), make_tokenizer(rwkv::test::asset("20B_tokenizer.json"))->vocab_size());
}
