// binidx.h — Megatron "MMIDIDX" v1 indexed dataset (.bin tokens + .idx index), uint16 tokens,
// as RWKV-LM's make_data.py writes and its dataset.py reads.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rwkv {

struct MappedFile;

// mmap reader. Errors: "[binidx] <file>: ..." (missing file, bad magic/version/dtype, sizes).
class BinidxReader {
 public:
  explicit BinidxReader(const std::string& prefix);  // reads prefix.idx and prefix.bin
  size_t num_docs() const;
  uint64_t num_tokens() const;                        // total tokens in .bin
  uint64_t doc_offset(size_t i) const;                // token offset of document i
  uint32_t doc_length(size_t i) const;                // tokens in document i
  const uint16_t* tokens() const;                     // all tokens (num_tokens())
  // tokens[offset, offset+length) across document boundaries, as
  // MMapIndexedDataset.get(idx=0, offset, length). Throws when out of range.
  void get(uint64_t offset, uint64_t length, uint16_t* out) const;

 private:
  std::shared_ptr<MappedFile> idx_, bin_;
  const int32_t* sizes_ = nullptr;
  const int64_t* pointers_ = nullptr;  // byte offsets
  size_t n_docs_ = 0;
  std::string prefix_;
};

// Streaming writer: documents are appended to prefix.bin, the index is written at finalize().
// Both files go through temp files; nothing is left behind unless finalize() succeeds, and an
// existing pair under the same prefix is replaced as a pair (the old one survives any failure).
class BinidxWriter {
 public:
  explicit BinidxWriter(const std::string& prefix);
  ~BinidxWriter();
  void add_document(const uint16_t* tokens, size_t n);
  void finalize();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The pair is replaced as one: see BinidxWriter::finalize. While "<prefix>.binidx-replace"
// exists the two final names may not match; recover_binidx_pair() completes the replacement it
// describes (returns false when there is none). Readers and writers call it before anything else.
std::string binidx_marker_path(const std::string& prefix);
bool recover_binidx_pair(const std::string& prefix);

}  // namespace rwkv
