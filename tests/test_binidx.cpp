// test_binidx.cpp — binidx reader on the official files (make_data.py output, the training
// run's data), get() across document boundaries, the writer's byte identity and atomicity,
// and the reader's errors.
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/binidx.h"
#include "test_util.h"

using namespace rwkv;
using rwkv::test::fixtures_dir;
using rwkv::test::read_file;
using rwkv::test::TempDir;
using rwkv::test::error_of;

namespace {

// Every document is contiguous, in order, ends in token 0, and the sizes add up.
void check_layout(const BinidxReader& r) {
  uint64_t off = 0;
  for (size_t i = 0; i < r.num_docs(); ++i) {
    ASSERT_EQ(r.doc_offset(i), off) << "doc " << i;
    ASSERT_GT(r.doc_length(i), 0u);
    off += r.doc_length(i);
    ASSERT_EQ(r.tokens()[off - 1], 0) << "doc " << i << " does not end in token 0";
  }
  EXPECT_EQ(off, r.num_tokens());
}

}  // namespace

TEST(Binidx, ReadsTrainingRunData) {
  BinidxReader r(fixtures_dir() + "/traj-demo-L4-D256-bytes/data");
  EXPECT_EQ(r.num_tokens(), 296553u);
  EXPECT_EQ(r.num_docs(), 182u);
  check_layout(r);
  for (uint64_t i = 0; i < r.num_tokens(); ++i) ASSERT_LT(r.tokens()[i], 256) << "byte data";
}

TEST(Binidx, ReadsMakeDataOutput) {
  BinidxReader r(fixtures_dir() + "/make-data/demo");
  EXPECT_EQ(r.num_tokens(), 66833u);
  EXPECT_EQ(r.num_docs(), 182u);
  check_layout(r);
  EXPECT_EQ(r.doc_length(0), 790u);
  EXPECT_EQ(r.doc_length(181), 121u);
  // A window over the end of document 4, all of the documents 5..6 and the start of 7, built
  // again from the documents one by one.
  uint64_t from = r.doc_offset(5) - 10, len = r.doc_length(5) + r.doc_length(6) + 20;
  std::vector<uint16_t> got(len), want;
  r.get(from, len, got.data());
  const uint16_t* t = r.tokens();
  want.insert(want.end(), t + r.doc_offset(4) + r.doc_length(4) - 10, t + r.doc_offset(4) + r.doc_length(4));
  for (size_t d : {5u, 6u}) want.insert(want.end(), t + r.doc_offset(d), t + r.doc_offset(d) + r.doc_length(d));
  want.insert(want.end(), t + r.doc_offset(7), t + r.doc_offset(7) + 10);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got[9], 0);  // end of document 4
}

TEST(Binidx, GetAcrossDocumentBoundaries) {
  BinidxReader r(fixtures_dir() + "/traj-demo-L4-D256-bytes/data");
  const uint16_t* all = r.tokens();
  for (size_t d : {1u, 2u, 100u, 181u}) {
    uint64_t b = r.doc_offset(d);  // first token of document d; b-1 is the 0 ending d-1
    std::vector<uint16_t> got(129);
    r.get(b - 64, 129, got.data());
    EXPECT_EQ(got[63], 0) << "end of document " << d - 1;
    for (size_t k = 0; k < got.size(); ++k) ASSERT_EQ(got[k], all[b - 64 + k]);
    EXPECT_EQ(got[64], all[b]);
  }
  // A window spanning several short documents, and the very end.
  std::vector<uint16_t> big(5000);
  r.get(r.doc_offset(10) - 1, big.size(), big.data());
  EXPECT_EQ(std::vector<uint16_t>(all + r.doc_offset(10) - 1, all + r.doc_offset(10) - 1 + 5000), big);
  std::vector<uint16_t> tail(3);
  r.get(r.num_tokens() - 3, 3, tail.data());
  EXPECT_EQ(tail[2], 0);
  r.get(r.num_tokens(), 0, tail.data());  // empty read at the end is fine
  EXPECT_NE(error_of([&] { r.get(r.num_tokens() - 2, 3, tail.data()); }).find("past the end (296553 tokens)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { r.get(uint64_t(-1), 2, tail.data()); }).find("[binidx]"), std::string::npos);
  EXPECT_NE(error_of([&] { r.doc_length(182); }).find("document 182 out of range"), std::string::npos);
}

TEST(Binidx, WriterIsByteIdenticalToMakeDataPy) {
  std::string ref = fixtures_dir() + "/make-data/demo";
  BinidxReader r(ref);
  TempDir t;
  {
    BinidxWriter w(t / "demo");
    for (size_t i = 0; i < r.num_docs(); ++i) w.add_document(r.tokens() + r.doc_offset(i), r.doc_length(i));
    w.finalize();
  }
  EXPECT_EQ(read_file(t / "demo.bin"), read_file(ref + ".bin"));
  EXPECT_EQ(read_file(t / "demo.idx"), read_file(ref + ".idx"));
}

TEST(Binidx, WriterLeavesNothingBehindWithoutFinalize) {
  TempDir t;
  {
    BinidxWriter w(t / "x");
    uint16_t toks[3] = {5, 6, 0};
    w.add_document(toks, 3);
  }
  EXPECT_TRUE(std::filesystem::is_empty(t.path));
  {
    BinidxWriter w(t / "y");  // empty dataset: valid files, zero documents
    w.finalize();
  }
  BinidxReader r(t / "y");
  EXPECT_EQ(r.num_docs(), 0u);
  EXPECT_EQ(r.num_tokens(), 0u);
  EXPECT_NE(error_of([] { BinidxWriter w("/nonexistent/dir/x"); }).find("cannot write"), std::string::npos);
}

TEST(Binidx, ReaderErrors) {
  TempDir t;
  std::string idx = read_file(fixtures_dir() + "/make-data/demo.idx");
  std::string bin = read_file(fixtures_dir() + "/make-data/demo.bin");
  auto put = [&](const std::string& name, const std::string& idx_bytes, const std::string& bin_bytes) {
    std::ofstream(t / (name + ".idx"), std::ios::binary) << idx_bytes;
    std::ofstream(t / (name + ".bin"), std::ios::binary) << bin_bytes;
    return t / name;
  };
  auto err = [&](const std::string& prefix) { return error_of([&] { BinidxReader r(prefix); }); };
  EXPECT_NE(err(t / "missing").find("missing.idx: no such file"), std::string::npos);
  std::ofstream(t / "onlyidx.idx", std::ios::binary) << idx;
  EXPECT_NE(err(t / "onlyidx").find("onlyidx.bin: no such file"), std::string::npos);
  std::string bad = idx;
  bad[0] = 'X';
  EXPECT_NE(err(put("magic", bad, bin)).find("bad magic"), std::string::npos);
  bad = idx;
  bad[9] = 2;
  EXPECT_NE(err(put("version", bad, bin)).find("version 2 not supported"), std::string::npos);
  bad = idx;
  bad[17] = 4;
  EXPECT_NE(err(put("dtype", bad, bin)).find("dtype code 4 not supported"), std::string::npos);
  EXPECT_NE(err(put("trunc", idx.substr(0, idx.size() - 8), bin)).find("but the header says 182 items"),
            std::string::npos);
  EXPECT_NE(err(put("odd", idx, bin + "x")).find("odd size"), std::string::npos);
  EXPECT_NE(err(put("short", idx, bin.substr(0, bin.size() - 2))).find("item 181"), std::string::npos);
  EXPECT_NE(err(put("short", "", bin)).find("bad magic"), std::string::npos);
}
