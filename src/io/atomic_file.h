// atomic_file.h — write a file through "<path>.tmp.<pid>" and rename it into place, so a crash
// never leaves a half-written output. Destroying an uncommitted AtomicFile removes the temp.
#pragma once
#include <cstdio>
#include <string>
#include <string_view>

namespace rwkv {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // opens the temp file; throws "[io] ..." on failure
  ~AtomicFile();                          // removes the temp file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* p, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  uint64_t offset() const { return offset_; }
  FILE* file() { return f_; }
  void commit();  // flush, fsync, rename over the final path
  const std::string& path() const { return path_; }

 private:
  std::string path_, tmp_;
  FILE* f_ = nullptr;
  uint64_t offset_ = 0;
  bool committed_ = false;
};

// Whole-file convenience: atomically replaces `path` with `content`.
void write_file_atomic(const std::string& path, std::string_view content);

}  // namespace rwkv
