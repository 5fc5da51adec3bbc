// binidx.cpp — Megatron MMIDIDX v1 reader (mmap) and streaming writer. Hand-written
// (DESIGN.md §3): no packaged library reads this format. Layout of prefix.idx, little endian:
//   "MMIDIDX\0\0" | u64 version=1 | u8 dtype code (8 = uint16) | u64 n (items) | u64 m (doc_idx)
//   | i32 sizes[n] (tokens per item) | i64 pointers[n] (byte offsets into .bin) | i64 doc_idx[m]
// make_data.py writes one item per document and doc_idx = 0..n. prefix.bin holds the tokens.
#include "data/binidx.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/crash_point.h"
#include "core/error.h"
#include "core/input_file.h"
#include "io/atomic_file.h"
#include "io/mmap.h"

namespace rwkv {

namespace fs = std::filesystem;

static constexpr char kMagic[9] = {'M', 'M', 'I', 'D', 'I', 'D', 'X', 0, 0};
static constexpr size_t kHeader = 9 + 8 + 1 + 8 + 8;  // 34
static constexpr uint8_t kDtypeUint16 = 8;

template <typename T>
static T load(const uint8_t* p) {  // the index arrays are not aligned (header is 34 bytes)
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

BinidxReader::BinidxReader(const std::string& prefix) : prefix_(prefix) {
  const std::string ip = prefix + ".idx", bp = prefix + ".bin";
  // An interrupted replacement: finish it, or refuse the pair (never read a mismatched one).
  try {
    recover_binidx_pair(prefix);
  } catch (const Error& e) {
    fail("binidx", "{}: an interrupted make-data left this dataset half replaced ({}); run make-data again",
         prefix, e.what());
  }
  if (!std::filesystem::exists(ip)) fail("binidx", "{}: no such file (expected the index of binidx prefix '{}')", ip, prefix);
  if (!std::filesystem::exists(bp)) fail("binidx", "{}: no such file (expected the tokens of binidx prefix '{}')", bp, prefix);
  idx_ = map_file(ip);
  bin_ = map_file(bp);
  const uint8_t* d = idx_->data;
  if (idx_->size < kHeader || std::memcmp(d, kMagic, 9) != 0)
    fail("binidx", "{}: not a Megatron MMIDIDX index (bad magic)", ip);
  uint64_t version = load<uint64_t>(d + 9);
  if (version != 1) fail("binidx", "{}: version {} not supported (expected 1)", ip, version);
  uint8_t dtype = d[17];
  if (dtype != kDtypeUint16) fail("binidx", "{}: dtype code {} not supported (expected 8 = uint16)", ip, dtype);
  uint64_t n = load<uint64_t>(d + 18), m = load<uint64_t>(d + 26);
  if (n > (uint64_t(1) << 40) || m > (uint64_t(1) << 40) || kHeader + 12 * n + 8 * m != idx_->size)
    fail("binidx", "{}: {} bytes, but the header says {} items and {} doc_idx entries ({} bytes)", ip,
         idx_->size, n, m, kHeader + 12 * n + 8 * m);
  if (bin_->size % 2) fail("binidx", "{}: odd size {} for uint16 tokens", bp, bin_->size);
  n_docs_ = size_t(n);
  sizes_ = reinterpret_cast<const int32_t*>(d + kHeader);
  pointers_ = reinterpret_cast<const int64_t*>(d + kHeader + 4 * n);
  for (size_t i = 0; i < n_docs_; ++i) {
    int32_t s = load<int32_t>(d + kHeader + 4 * i);
    int64_t p = load<int64_t>(d + kHeader + 4 * n + 8 * i);
    if (s < 0 || p < 0 || p % 2 || uint64_t(p) + 2 * uint64_t(s) > bin_->size)
      fail("binidx", "{}: item {} (pointer {}, size {}) lies outside {} ({} bytes)", ip, i, p, s, bp, bin_->size);
  }
}

size_t BinidxReader::num_docs() const { return n_docs_; }
uint64_t BinidxReader::num_tokens() const { return bin_->size / 2; }

uint64_t BinidxReader::doc_offset(size_t i) const {
  if (i >= n_docs_) fail("binidx", "{}: document {} out of range ({} documents)", prefix_, i, n_docs_);
  return uint64_t(load<int64_t>(reinterpret_cast<const uint8_t*>(pointers_ + i))) / 2;
}

uint32_t BinidxReader::doc_length(size_t i) const {
  if (i >= n_docs_) fail("binidx", "{}: document {} out of range ({} documents)", prefix_, i, n_docs_);
  return uint32_t(load<int32_t>(reinterpret_cast<const uint8_t*>(sizes_ + i)));
}

const uint16_t* BinidxReader::tokens() const { return reinterpret_cast<const uint16_t*>(bin_->data); }

void BinidxReader::get(uint64_t offset, uint64_t length, uint16_t* out) const {
  uint64_t base = n_docs_ ? doc_offset(0) : 0;  // MMapIndexedDataset.get(idx=0, ...) starts at item 0
  uint64_t n = num_tokens();
  if (base + offset > n || length > n - (base + offset))
    fail("binidx", "{}: get(offset {}, length {}) past the end ({} tokens)", prefix_, offset, length, n);
  if (length) std::memcpy(out, bin_->data + 2 * (base + offset), 2 * length);
}

struct BinidxWriter::Impl {
  std::string prefix;
  AtomicFile bin;
  std::vector<int32_t> sizes;
  bool done = false;
  explicit Impl(const std::string& p) : prefix(p), bin((recover_binidx_pair(p), p + ".bin")) {}
};

BinidxWriter::BinidxWriter(const std::string& prefix) : impl_(std::make_unique<Impl>(prefix)) {}
BinidxWriter::~BinidxWriter() = default;

void BinidxWriter::add_document(const uint16_t* tokens, size_t n) {
  if (impl_->done) fail("binidx", "{}: add_document after finalize", impl_->prefix);
  if (n > size_t(INT32_MAX)) fail("binidx", "{}: document of {} tokens is too long for the index (int32)", impl_->prefix, n);
  impl_->bin.write(tokens, 2 * n);
  impl_->sizes.push_back(int32_t(n));
}

void BinidxWriter::finalize() {
  Impl& w = *impl_;
  if (w.done) return;
  const uint64_t n = w.sizes.size();
  AtomicFile idx(w.prefix + ".idx");
  std::string head(kMagic, 9);
  auto put = [&](auto v) { head.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(uint64_t(1));
  put(uint8_t(kDtypeUint16));
  put(n);
  put(n + 1);
  idx.write(head);
  idx.write(w.sizes.data(), 4 * n);
  std::vector<int64_t> buf;
  buf.reserve(1 << 16);
  auto flush = [&] { idx.write(buf.data(), 8 * buf.size()); buf.clear(); };
  int64_t addr = 0;
  for (uint64_t i = 0; i < n; ++i) {  // pointers: byte offsets of the items
    buf.push_back(addr);
    addr += 2 * int64_t(w.sizes[i]);
    if (buf.size() == buf.capacity()) flush();
  }
  flush();
  for (uint64_t i = 0; i <= n; ++i) {  // doc_idx: one item per document
    buf.push_back(int64_t(i));
    if (buf.size() == buf.capacity()) flush();
  }
  flush();
  // Replace the pair: both temps complete and on disk, then a marker naming them, then the two
  // renames, then the marker goes. A kill anywhere leaves the old pair (no marker) or a marker
  // from which recover_binidx_pair() finishes the new one; a failure before the marker leaves the
  // old pair untouched.
  w.bin.sync();
  crash_point("binidx:bin-synced");
  idx.sync();
  crash_point("binidx:idx-synced");
  const std::string marker = binidx_marker_path(w.prefix);
  write_file_atomic(marker, fs::path(w.bin.temp_path()).filename().string() + "\n" +
                                fs::path(idx.temp_path()).filename().string() + "\n");
  w.bin.release();
  idx.release();
  crash_point("binidx:marker-written");
  recover_binidx_pair(w.prefix);
  w.done = true;
}

std::string binidx_marker_path(const std::string& prefix) { return prefix + ".binidx-replace"; }

bool recover_binidx_pair(const std::string& prefix) {
  const std::string marker = binidx_marker_path(prefix);
  if (!fs::exists(marker)) return false;
  std::istringstream text(read_input_file(marker, "binidx", "replacement marker"));
  const fs::path dir = fs::path(prefix).parent_path();
  const std::string base = fs::path(prefix).filename().string();
  struct Step { const char* ext; const char* crash_point; std::string temp; };
  Step steps[] = {{".bin", "binidx:bin-renamed", {}}, {".idx", "binidx:idx-renamed", {}}};
  for (Step& s : steps)  // one temp-file name per line, .bin first
    if (!std::getline(text, s.temp) || s.temp.rfind(base + s.ext + ".tmp.", 0) != 0)
      fail("binidx", "{}: not a marker of this dataset (expected the names of its two temp files)", marker);
  for (const Step& s : steps) {
    const fs::path from = dir / s.temp;
    if (fs::exists(from) && std::rename(from.c_str(), (prefix + s.ext).c_str()) != 0)
      fail("binidx", "{}{}: cannot finish replacing the dataset: {}", prefix, s.ext, std::strerror(errno));
    fsync_parent_dir(prefix + s.ext);
    crash_point(s.crash_point);
  }
  if (std::remove(marker.c_str()) != 0) fail("binidx", "{}: cannot remove: {}", marker, std::strerror(errno));
  fsync_parent_dir(marker);
  return true;
}

}  // namespace rwkv
