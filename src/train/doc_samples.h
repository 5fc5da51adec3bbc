// doc_samples.h — whole documents as training samples (for --train_type infctx): the document
// boundaries of a binidx .idx, documents longer than ctx_len_cutoff tokens cut into separate
// samples, and a batch of micro_bsz samples padded to the longest with per-sample lengths (the
// masked rows of train/bptt.h).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace rwkv {
class BinidxReader;
}

namespace rwkv::train {

// tokens [offset, offset + length) of the dataset; length >= 2 (at least one target).
struct DocSample {
  uint64_t offset = 0;
  uint32_t length = 0;
};

// Every document in file order, cut into pieces of ctx_len_cutoff tokens (0: not cut); pieces
// of fewer than 2 tokens (no target) are skipped. Throws "[train] <name>: ..." for an empty
// document (0 tokens: a broken .idx) and when no sample is left.
std::vector<DocSample> document_samples(const BinidxReader& data, uint64_t ctx_len_cutoff,
                                        const std::string& name);

struct DocBatch {
  int B = 0, T = 0;               // T: the longest sample's targets
  std::vector<int32_t> tokens;    // (B, T+1), padded with token 0
  std::vector<int32_t> lengths;   // (B) targets of each sample (length - 1)
};

// Samples first, first+1, ... (wrapping around) for micro_bsz rows.
void make_doc_batch(const BinidxReader& data, std::span<const DocSample> samples, uint64_t first,
                    int micro_bsz, DocBatch& out);

}  // namespace rwkv::train
