// doc_samples.cpp — documents of a binidx as infctx samples and padded batches (see doc_samples.h).
#include "train/doc_samples.h"

#include <algorithm>

#include "core/error.h"
#include "data/binidx.h"

namespace rwkv::train {

std::vector<DocSample> document_samples(const BinidxReader& data, uint64_t ctx_len_cutoff,
                                        const std::string& name) {
  std::vector<DocSample> out;
  for (size_t i = 0; i < data.num_docs(); i++) {
    const uint64_t off = data.doc_offset(i), len = data.doc_length(i);
    if (len == 0)
      fail("train", "{}: document {} (at token {}) is empty: a document needs at least one token, and two for a "
           "target (remake the data with `rwkv make-data`)", name, i, off);
    const uint64_t piece = ctx_len_cutoff > 0 ? ctx_len_cutoff : std::max<uint64_t>(len, 1);
    for (uint64_t p = 0; p < len; p += piece) {
      const uint64_t n = std::min(piece, len - p);
      if (n >= 2) out.push_back({off + p, uint32_t(n)});
    }
  }
  if (out.empty())
    fail("train", "{}: no document has 2 or more tokens (a sample needs at least one target)", name);
  return out;
}

void make_doc_batch(const BinidxReader& data, std::span<const DocSample> samples, uint64_t first,
                    int micro_bsz, DocBatch& out) {
  RWKV_CHECK(!samples.empty() && micro_bsz > 0, "{} samples, micro_bsz {}", samples.size(), micro_bsz);
  out.B = micro_bsz;
  out.T = 0;
  for (int b = 0; b < micro_bsz; b++)
    out.T = std::max(out.T, int(samples[(first + uint64_t(b)) % samples.size()].length) - 1);
  out.tokens.assign(size_t(out.B) * size_t(out.T + 1), 0);
  out.lengths.resize(size_t(out.B));
  std::vector<uint16_t> buf;
  for (int b = 0; b < micro_bsz; b++) {
    const DocSample& s = samples[(first + uint64_t(b)) % samples.size()];
    buf.resize(s.length);
    data.get(s.offset, s.length, buf.data());
    std::copy(buf.begin(), buf.end(), out.tokens.begin() + ptrdiff_t(size_t(b) * size_t(out.T + 1)));
    out.lengths[size_t(b)] = int32_t(s.length) - 1;
  }
}

}  // namespace rwkv::train
