// test_make_data_errors.cpp — every bad input of make-data is an error naming the file and line,
// with exit status 1 and no output (not even a temp file) left behind.
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/make_data.h"
#include "test_util.h"

using namespace rwkv;
using rwkv::test::read_file;
using rwkv::test::run_cli;
using rwkv::test::TempDir;

namespace {

// Writes `body` as in.jsonl in a fresh folder, runs make-data into that folder, and returns the
// error (stderr); checks the exit status and that only in.jsonl (and `keep`) remain.
std::string fails_with(const std::string& body, const std::string& flags = "") {
  TempDir t;
  std::ofstream(t / "in.jsonl", std::ios::binary) << body;
  std::ofstream(t / "out.bin", std::ios::binary) << "old";  // an earlier output stays untouched
  auto r = run_cli("make-data " + (t / "in.jsonl") + " 2 16 --seed 1 --out " + (t / "out") + " " + flags);
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  std::vector<std::string> left;
  for (auto& e : std::filesystem::directory_iterator(t.path)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"in.jsonl", "out.bin"})) << r.err;
  EXPECT_EQ(read_file(t / "out.bin"), "old");
  return r.err;
}

const std::string good = "{\"text\": \"hello\"}\n";

}  // namespace

TEST(MakeDataErrors, InvalidJsonNamesTheLine) {
  auto err = fails_with(good + good + "{\"text\": \"unterminated}\n" + good);
  EXPECT_NE(err.find("[make-data] "), std::string::npos) << err;
  EXPECT_NE(err.find("in.jsonl:3: invalid JSON"), std::string::npos) << err;
  // The line number is the input's even though the lines are shuffled and blank lines skipped.
  err = fails_with("\n\n" + good + "\n" + good + "not json\n" + good + good);
  EXPECT_NE(err.find("in.jsonl:6: invalid JSON"), std::string::npos) << err;
  err = fails_with(good + "{\"text\": \"a\"} trailing\n");
  EXPECT_NE(err.find("in.jsonl:2: invalid JSON"), std::string::npos) << err;
  err = fails_with(good + "{\"text\": \"raw\ttab\"}\n");  // control characters must be escaped
  EXPECT_NE(err.find("in.jsonl:2: invalid JSON"), std::string::npos) << err;
  err = fails_with(good + "{\"text\": \"\\ud800 lone surrogate\"}\n");
  EXPECT_NE(err.find("in.jsonl:2: invalid JSON"), std::string::npos) << err;
}

TEST(MakeDataErrors, MissingOrNonStringText) {
  auto err = fails_with(good + "{\"txt\": \"a\"}\n");
  EXPECT_NE(err.find("in.jsonl:2: no \"text\" field"), std::string::npos) << err;
  err = fails_with("{\"text\": 5}\n" + good);
  EXPECT_NE(err.find("in.jsonl:1: \"text\" is number, expected a string"), std::string::npos) << err;
  err = fails_with(good + "{\"text\": null}\n");
  EXPECT_NE(err.find("in.jsonl:2: \"text\" is null"), std::string::npos) << err;
  err = fails_with(good + "{\"text\": [\"a\"]}\n");
  EXPECT_NE(err.find("in.jsonl:2: \"text\" is array"), std::string::npos) << err;
  err = fails_with(good + "[\"text\"]\n");
  EXPECT_NE(err.find("in.jsonl:2: expected a JSON object"), std::string::npos) << err;
  err = fails_with(good + "\"text\"\n");
  EXPECT_NE(err.find("in.jsonl:2: expected a JSON object"), std::string::npos) << err;
}

TEST(MakeDataErrors, InvalidUtf8NamesTheLine) {
  auto err = fails_with(good + "{\"text\": \"caf\xe9\"}\n");
  EXPECT_NE(err.find("in.jsonl:2: invalid UTF-8 (byte 0xe9 at column 14)"), std::string::npos) << err;
}

TEST(MakeDataErrors, TextThatDoesNotRoundTrip) {
  // The 20B BPE tokenizer normalizes to NFC: "e" + combining acute comes back as one "é".
  auto err = fails_with(good + "{\"text\": \"cafe\\u0301\"}\n", "--tokenizer 20b");
  EXPECT_NE(err.find("in.jsonl:2: the text does not round-trip"), std::string::npos) << err;
  EXPECT_NE(err.find("from byte 3"), std::string::npos) << err;
}

TEST(MakeDataErrors, UnreadableOrEmptyInput) {
  TempDir t;
  auto r = run_cli("make-data " + (t / "nope.jsonl") + " 1 512");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("nope.jsonl: no such file"), std::string::npos) << r.err;
  r = run_cli("make-data " + t.path + " 1 512");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  auto err = fails_with("\n  \n\t\n");
  EXPECT_NE(err.find("in.jsonl: no non-empty lines"), std::string::npos) << err;
  err = fails_with("");
  EXPECT_NE(err.find("no non-empty lines"), std::string::npos) << err;
}

TEST(MakeDataErrors, BadArguments) {
  auto err = fails_with(good, "--tokenizer nope");
  EXPECT_NE(err.find("unknown tokenizer 'nope'"), std::string::npos) << err;
  TempDir t;
  std::ofstream(t / "in.jsonl") << good;
  auto r = run_cli("make-data " + (t / "in.jsonl") + " 0 512 --out " + (t / "o"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("N_EPOCH must be at least 1"), std::string::npos) << r.err;
  r = run_cli("make-data " + (t / "in.jsonl") + " 1 0 --out " + (t / "o"));
  EXPECT_NE(r.err.find("CTX_LEN must be at least 1"), std::string::npos) << r.err;
  r = run_cli("make-data " + (t / "in.jsonl") + " 1");
  EXPECT_NE(r.status, 0);
  EXPECT_FALSE(std::filesystem::exists(t / "o.bin"));
  // A vocabulary with ids past uint16 cannot go into binidx.
  std::ofstream(t / "big.txt") << "1 'h' 1\n65537 'ello' 4\n";
  r = run_cli("make-data " + (t / "in.jsonl") + " 1 1 --tokenizer " + (t / "big.txt") + " --out " + (t / "o"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("binidx stores uint16 tokens"), std::string::npos) << r.err;
  // A tokenizer without a token for some byte.
  std::ofstream(t / "small.txt") << "1 'h' 1\n2 'e' 1\n3 'l' 1\n";
  r = run_cli("make-data " + (t / "in.jsonl") + " 1 1 --tokenizer " + (t / "small.txt") + " --out " + (t / "o"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("in.jsonl:1: [tokenizer]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no token matches the byte 0x6f at offset 4"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(t / "o.bin"));
  EXPECT_FALSE(std::filesystem::exists(t / "o.idx"));
}

TEST(MakeDataErrors, LargeFileIndexedInChunksKeepsLineNumbers) {
  // Over 8 MB the line index is built by several threads: the counts and line numbers must not
  // depend on where the file was cut.
  TempDir t;
  std::string line = "{\"text\": \"ab\"}\n", half;
  for (int i = 0; i < 300000; ++i) half += line;
  std::ofstream(t / "ok.jsonl", std::ios::binary) << half << "\r\n\r\n" << half;
  MakeDataOptions o;
  o.input = t / "ok.jsonl";
  o.ctx_len = 16;
  o.tokenizer = "bytes";
  o.threads = 2;
  o.progress = false;
  o.out_prefix = t / "ok";
  auto res = make_data(o, nullptr);
  EXPECT_EQ(res.lines, 600000u);
  EXPECT_EQ(res.tokens, 600000u * 3);
  std::ofstream(t / "bad.jsonl", std::ios::binary) << half << "{\"text\": \"caf\xe9\"}\n" << half;
  auto r = run_cli("make-data " + (t / "bad.jsonl") + " 1 16 --tokenizer bytes --threads 2 --out " + (t / "bad"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("bad.jsonl:300001: invalid UTF-8 (byte 0xe9 at column 14)"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(t / "bad.bin"));
}
