// test_make_data.cpp — `rwkv make-data` and rwkv::make_data against make_data.py: byte identity
// with the official output, the printed summary, Python-identical shuffling, passes, threads.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "data/binidx.h"
#include "data/make_data.h"
#include "data/make_data_shuffle.h"
#include "test_util.h"

using namespace rwkv;
using rwkv::test::fixture;
using rwkv::test::read_file;
using rwkv::test::run_cli;
using rwkv::test::TempDir;

namespace {

struct Chdir {  // runs a test body inside a folder (make-data writes to the current folder)
  std::filesystem::path old;
  explicit Chdir(const std::string& d) : old(std::filesystem::current_path()) { std::filesystem::current_path(d); }
  ~Chdir() { std::filesystem::current_path(old); }
};

std::string demo_jsonl() { return rwkv::test::asset("demo.jsonl"); }

}  // namespace

TEST(MakeDataCli, DemoIsByteIdenticalToMakeDataPy) {
  TempDir t;
  Chdir cd(t.path);
  auto r = run_cli("make-data " + demo_jsonl() + " 1 512 --no-shuffle");
  ASSERT_EQ(r.status, 0) << r.err;
  // Default prefix: the input's name without extension, in the current folder.
  EXPECT_EQ(read_file(t / "demo.bin"), read_file(fixture("make-data/demo.bin")));
  EXPECT_EQ(read_file(t / "demo.idx"), read_file(fixture("make-data/demo.idx")));
  std::string want = read_file(fixture("make-data/demo_make_data_output.txt"));
  ASSERT_FALSE(want.empty());
  EXPECT_NE(r.out.find(want), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("### Found 182 non-empty lines in " + demo_jsonl()), std::string::npos);
  EXPECT_NE(r.out.find("### Final demo.bin/idx has 66833 tokens, 182 items. Dtype <class 'numpy.uint16'>"),
            std::string::npos);
  EXPECT_NE(r.out.find(std::string(70, '-') + "[demo idx 0 sz 790]\nSystem: You are an AI assistant."),
            std::string::npos);
  EXPECT_NE(r.out.find("[demo idx 181 sz 121]"), std::string::npos);
  // Progress and the summary go to stderr, not into the make_data.py lines.
  EXPECT_NE(r.err.find("make-data: 0.3 MB / 100%"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("182 documents, 66833 tokens"), std::string::npos) << r.err;
  // Nothing else was left in the folder.
  auto n = std::distance(std::filesystem::directory_iterator(t.path), std::filesystem::directory_iterator());
  EXPECT_EQ(n, 2);
}

TEST(MakeDataCli, OutPrefixAndMagicPrimeOfTheResult) {
  TempDir t;
  auto r = run_cli("make-data " + demo_jsonl() + " 1 512 --no-shuffle --threads 2 --out " + (t / "sub/dir/x"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(t / "sub/dir/x.bin"), read_file(fixture("make-data/demo.bin")));
  EXPECT_NE(r.out.find("### Final " + (t / "sub/dir/x") + ".bin/idx has 66833 tokens"), std::string::npos);
  auto m = run_cli("magic-prime --data " + (t / "sub/dir/x") + " --ctx_len 512");
  EXPECT_EQ(m.out, "\n" + read_file(fixture("make-data/demo_make_data_output.txt")));
}

TEST(MakeData, PassesWithoutShuffleRepeatTheFile) {
  TempDir t;
  MakeDataOptions o;
  o.input = demo_jsonl();
  o.n_epoch = 3;
  o.ctx_len = 512;
  o.shuffle = false;
  o.out_prefix = t / "rep";
  o.progress = false;
  auto res = make_data(o, nullptr);
  EXPECT_EQ(res.docs, 3u * 182);
  EXPECT_EQ(res.tokens, 3u * 66833);
  std::string one = read_file(fixture("make-data/demo.bin"));
  EXPECT_EQ(read_file(t / "rep.bin"), one + one + one);
  EXPECT_EQ(res.magic_prime, 389u);  // largest prime = 2 mod 3 below 200499/512 - 1
}

TEST(MakeData, SeededShuffleMatchesPythonRandom) {
  // Python: random.seed(42); then per pass random.shuffle(lines) — as make_data.py with a seed.
  PyRandom py(42);
  std::vector<int> x{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  py.shuffle(x);
  EXPECT_EQ(x, (std::vector<int>{7, 3, 2, 8, 5, 6, 9, 4, 0, 1}));
  PyRandom p0(0);
  std::vector<int> y(20);
  for (int i = 0; i < 20; ++i) y[size_t(i)] = i;
  p0.shuffle(y);
  EXPECT_EQ(y, (std::vector<int>{10, 18, 16, 14, 0, 17, 11, 2, 3, 9, 5, 7, 4, 19, 6, 15, 8, 1, 13, 12}));
  PyRandom big((uint64_t(1) << 40) + 7);  // a seed wider than 32 bits
  std::vector<int> z{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  big.shuffle(z);
  EXPECT_EQ(z, (std::vector<int>{0, 5, 2, 3, 6, 1, 8, 4, 7, 9}));
  PyRandom g(42);
  EXPECT_EQ(g.getrandbits(32), 2746317213u);
  EXPECT_EQ(g.getrandbits(32), 478163327u);
  EXPECT_EQ(g.getrandbits(32), 107420369u);
  EXPECT_EQ(g.getrandbits(40), 303832645883u);
}

TEST(MakeData, SeededRunOrdersDocumentsAsMakeDataPy) {
  TempDir t;
  MakeDataOptions o;
  o.input = demo_jsonl();
  o.n_epoch = 3;
  o.ctx_len = 512;
  o.seed = 42;
  o.progress = false;
  o.threads = 2;
  o.out_prefix = t / "s42";
  auto res = make_data(o, nullptr);
  EXPECT_EQ(res.tokens, 200499u);  // make_data.py with random.seed(42): 200499 tokens
  BinidxReader r(t / "s42"), ref(rwkv::test::fixtures_dir() + "/make-data/demo");
  ASSERT_EQ(r.num_docs(), 546u);
  // The input lines (1-based) make_data.py puts first in each pass, and their sizes.
  std::vector<std::vector<int>> lines{{153, 37, 16, 112, 14}, {109, 110, 116}, {75, 79, 47}};
  std::vector<std::vector<uint32_t>> sizes{{291, 200, 115, 124, 133}, {132, 178, 421}, {457, 382, 291}};
  for (size_t e = 0; e < 3; ++e)
    for (size_t k = 0; k < lines[e].size(); ++k) {
      size_t doc = e * 182 + k;
      EXPECT_EQ(r.doc_length(doc), sizes[e][k]) << "pass " << e << " doc " << k;
      size_t line = size_t(lines[e][k]) - 1;
      ASSERT_EQ(r.doc_length(doc), ref.doc_length(line));
      EXPECT_TRUE(std::equal(r.tokens() + r.doc_offset(doc), r.tokens() + r.doc_offset(doc) + r.doc_length(doc),
                             ref.tokens() + ref.doc_offset(line)));
    }
  // One thread gives the same bytes.
  o.threads = 1;
  o.out_prefix = t / "s42_1";
  make_data(o, nullptr);
  EXPECT_EQ(read_file(t / "s42_1.bin"), read_file(t / "s42.bin"));
  EXPECT_EQ(read_file(t / "s42_1.idx"), read_file(t / "s42.idx"));
}

TEST(MakeData, LinesAsPythonReadsThem) {
  TempDir t;
  // CRLF, a lone CR, blank and whitespace-only lines (skipped), surrounding spaces (stripped),
  // escapes, a non-ASCII text, the bytes tokenizer.
  std::string body = "{\"text\": \"a\"}\r\n\r\n   \t\n  {\"text\": \"b\\n\\u00e9\\ud83d\\ude00\"}  \r{\"x\": 1, \"text\": \"c\"}\n"
                     "{\"text\": \"d\", \"text\": \"e\"}";
  std::ofstream(t / "in.jsonl", std::ios::binary) << body;
  MakeDataOptions o;
  o.input = t / "in.jsonl";
  o.ctx_len = 1;
  o.shuffle = false;
  o.tokenizer = "bytes";
  o.out_prefix = t / "out";
  o.progress = false;
  auto res = make_data(o, nullptr);
  EXPECT_EQ(res.lines, 4u);
  BinidxReader r(t / "out");
  ASSERT_EQ(r.num_docs(), 4u);
  std::vector<uint16_t> got(r.tokens(), r.tokens() + r.num_tokens());
  std::vector<uint16_t> want{'a', 0, 'b', '\n', 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0, 'c', 0, 'e', 0};
  EXPECT_EQ(got, want);  // duplicate keys: the last one wins, as json.loads
}

TEST(MakeData, OfficialTokenizerCasesBecomeDocuments) {
  // world_cases.jsonl has {"text", "ids"} per line: each line becomes one document, ids + [0].
  TempDir t;
  MakeDataOptions o;
  o.input = fixture("tokenizer/world_cases.jsonl");
  o.ctx_len = 16;
  o.shuffle = false;
  o.threads = 2;
  o.progress = false;
  o.out_prefix = t / "cases";
  make_data(o, nullptr);
  BinidxReader r(t / "cases");
  std::ifstream f(o.input);
  std::string line;
  size_t i = 0;
  while (std::getline(f, line)) {
    auto ids = nlohmann::json::parse(line)["ids"].get<std::vector<int32_t>>();
    ids.push_back(0);
    ASSERT_LT(i, r.num_docs());
    std::vector<int32_t> got(r.tokens() + r.doc_offset(i), r.tokens() + r.doc_offset(i) + r.doc_length(i));
    EXPECT_EQ(got, ids) << "line " << i + 1;
    ++i;
  }
  EXPECT_EQ(i, 229u);
  EXPECT_EQ(r.num_docs(), 229u);
}
