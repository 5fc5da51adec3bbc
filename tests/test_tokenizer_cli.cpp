// test_tokenizer_cli.cpp — `rwkv tokenize` end to end: the official cases through --jsonl,
// plain encode/decode, and its errors.
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

using rwkv::test::fixture;
using rwkv::test::run_cli;

TEST(TokenizeCli, JsonlMatchesOfficialCases) {
  std::string path = fixture("tokenizer/world_cases.jsonl");
  auto r = run_cli("tokenize --jsonl " + path);
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream f(path);
  std::istringstream out(r.out);
  std::string want, got;
  size_t n = 0;
  while (std::getline(f, want)) {
    ASSERT_TRUE(std::getline(out, got)) << "output ends at line " << n;
    auto w = nlohmann::json::parse(want), g = nlohmann::json::parse(got);
    EXPECT_EQ(g["ids"], w["ids"]) << "line " << n + 1;
    ++n;
  }
  EXPECT_EQ(n, 229u);
  EXPECT_FALSE(std::getline(out, got));

  // And back: --decode --jsonl turns the ids into the texts again (from stdin).
  auto d = run_cli("tokenize --decode --jsonl", r.out);
  ASSERT_EQ(d.status, 0) << d.err;
  std::ifstream f2(path);
  std::istringstream back(d.out);
  n = 0;
  while (std::getline(f2, want) && std::getline(back, got)) {
    EXPECT_EQ(nlohmann::json::parse(got)["text"], nlohmann::json::parse(want)["text"]) << "line " << n + 1;
    ++n;
  }
  EXPECT_EQ(n, 229u);
}

TEST(TokenizeCli, PlainEncodeAndDecode) {
  auto r = run_cli("tokenize --text 'Hello, world!'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "33155 45 40213 34\n");
  auto d = run_cli("tokenize --decode", "33155 45 40213 34\n");
  ASSERT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(d.out, "Hello, world!");
  auto s = run_cli("tokenize", "hello world");  // stdin, verbatim
  EXPECT_EQ(s.out, "34550 40213\n");
  auto b = run_cli("tokenize --tokenizer bytes --text hi");
  EXPECT_EQ(b.out, "104 105\n");
}

TEST(TokenizeCli, Errors) {
  auto r = run_cli("tokenize --jsonl", "{\"text\": \"a\"}\n\n{\"text\": 5}\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("<stdin>:3: \"text\" is number, expected a string"), std::string::npos) << r.err;
  r = run_cli("tokenize --jsonl", "{\"text\": \"a\"}\n{\"text\": \"a\"\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("<stdin>:2: invalid JSON"), std::string::npos) << r.err;
  r = run_cli("tokenize --jsonl", "{\"txt\": \"a\"}\n");
  EXPECT_NE(r.err.find("<stdin>:1: expected an object with a \"text\" field"), std::string::npos) << r.err;
  r = run_cli("tokenize --decode", "1 2 x");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("expected token ids"), std::string::npos) << r.err;
  r = run_cli("tokenize --decode", "0");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("token id 0"), std::string::npos) << r.err;
  r = run_cli("tokenize --tokenizer nope --text a");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown tokenizer"), std::string::npos) << r.err;
  r = run_cli("tokenize /nonexistent/file.txt");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/nonexistent/file.txt: no such file"), std::string::npos) << r.err;
}
