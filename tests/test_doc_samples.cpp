// test_doc_samples.cpp — infctx samples from a binidx (train/doc_samples.h): document
// boundaries, the ctx_len_cutoff cut, documents without a target skipped, padded batches.
#include <vector>

#include "data/binidx.h"
#include "test_util.h"
#include "train/doc_samples.h"

using namespace rwkv;
using namespace rwkv::train;

namespace {

// Documents of the given lengths; token j of document i is 100*i + j + 1 (never 0).
std::string write_docs(const test::TempDir& t, const std::vector<int>& lengths) {
  BinidxWriter w(t / "docs");
  for (size_t i = 0; i < lengths.size(); i++) {
    std::vector<uint16_t> d(size_t(lengths[i]));
    for (int j = 0; j < lengths[i]; j++) d[size_t(j)] = uint16_t(100 * i + j + 1);
    w.add_document(d.data(), d.size());
  }
  w.finalize();
  return t / "docs";
}

}  // namespace

TEST(DocSamples, WholeDocumentsAndCutoff) {
  test::TempDir t;
  BinidxReader r(write_docs(t, {5, 1, 12, 2}));
  auto whole = document_samples(r, 0, "docs");
  ASSERT_EQ(whole.size(), 3u);  // the 1-token document has no target
  EXPECT_EQ(whole[0].offset, 0u);
  EXPECT_EQ(whole[0].length, 5u);
  EXPECT_EQ(whole[1].offset, 6u);
  EXPECT_EQ(whole[1].length, 12u);
  EXPECT_EQ(whole[2].length, 2u);
  // cutoff 5: 5 | 12 -> 5, 5, 2 | 2
  auto cut = document_samples(r, 5, "docs");
  ASSERT_EQ(cut.size(), 5u);
  EXPECT_EQ(cut[1].offset, 6u);
  EXPECT_EQ(cut[2].offset, 11u);
  EXPECT_EQ(cut[3].offset, 16u);
  EXPECT_EQ(cut[3].length, 2u);
  // cutoff 4: 12 -> 4, 4, 4; 5 -> 4 + 1 (dropped)
  EXPECT_EQ(document_samples(r, 4, "docs").size(), 5u);
}

TEST(DocSamples, PaddedBatchWithLengths) {
  test::TempDir t;
  BinidxReader r(write_docs(t, {5, 12, 2}));
  auto s = document_samples(r, 0, "docs");
  DocBatch b;
  make_doc_batch(r, s, 2, 2, b);  // samples 2 and 0 (wraps)
  EXPECT_EQ(b.B, 2);
  EXPECT_EQ(b.T, 4);
  EXPECT_EQ(b.lengths, (std::vector<int32_t>{1, 4}));
  EXPECT_EQ(b.tokens, (std::vector<int32_t>{201, 202, 0, 0, 0, 1, 2, 3, 4, 5}));
}

TEST(DocSamples, NoDocumentWithATargetIsAClearError) {
  test::TempDir t;
  BinidxReader r(write_docs(t, {1, 1}));
  std::string e = test::error_of([&] { document_samples(r, 0, "docs"); });
  EXPECT_NE(e.find("[train] docs: no document has 2 or more tokens"), std::string::npos) << e;
}

TEST(DocSamples, EmptyDocumentIsAClearError) {
  test::TempDir t;
  BinidxReader r(write_docs(t, {5, 0, 3}));
  std::string e = test::error_of([&] { document_samples(r, 0, "docs"); });
  EXPECT_NE(e.find("[train] docs: document 1 (at token 5) is empty"), std::string::npos) << e;
}
