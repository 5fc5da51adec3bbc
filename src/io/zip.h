// zip.h — the STORED-only ZIP subset that torch.save writes and reads (hand-written: no packaged
// library writes torch's 64-byte aligned records). Reader: over a memory map, central directory
// with ZIP64 sizes/offsets, entries located zero-copy. Writer: streams records to an AtomicFile,
// pads each local header (an "FB" extra field, as torch does) so record data starts on a
// 64-byte boundary, and switches to ZIP64 fields when a size or offset needs them.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/atomic_file.h"
#include "io/mmap.h"

namespace rwkv {

uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);  // zlib/zip CRC-32

struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;  // into the file
  uint64_t size = 0;
  uint32_t crc = 0;
};

class ZipReader {
 public:
  // Parses the central directory; throws "[<module>] <path>: ..." (not a zip, truncated,
  // compressed entries, records outside the file).
  ZipReader(std::shared_ptr<MappedFile> file, const char* module);
  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;
  const uint8_t* data(const ZipEntry& e) const { return file_->data + e.data_offset; }
  const std::shared_ptr<MappedFile>& file() const { return file_; }

 private:
  std::shared_ptr<MappedFile> file_;
  std::vector<ZipEntry> entries_;
};

class ZipWriter {
 public:
  static constexpr uint64_t kAlign = 64;
  explicit ZipWriter(AtomicFile& out) : out_(out) {}
  // Appends one STORED record; `crc` is crc32 of the data (computed by the caller so that it can
  // be done in parallel).
  void add(const std::string& name, const void* data, uint64_t size, uint32_t crc);
  void add(const std::string& name, const std::string& content) {
    add(name, content.data(), content.size(), crc32(content.data(), content.size()));
  }
  // Writes the central directory and the (ZIP64 and classic) end records.
  void finish();
  // Tests only: write ZIP64 extra fields for every record, as for records past 4 GiB.
  bool force_zip64 = false;

 private:
  struct Rec { std::string name; uint64_t offset, size; uint32_t crc; };
  AtomicFile& out_;
  std::vector<Rec> recs_;
};

}  // namespace rwkv
