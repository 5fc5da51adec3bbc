// atomic_file.h — write a file through "<path>.tmp.<pid>" and rename it into place, so a crash
// never leaves a half-written output. Destroying an uncommitted AtomicFile removes the temp;
// temps left by a killed earlier run (same name pattern, a PID that no longer runs) are removed
// when the next AtomicFile for that path opens. Errors name the final path, never the temp.
#pragma once
#include <cstdio>
#include <string>
#include <string_view>

namespace rwkv {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // opens the temp file; throws "[io] ..." on failure
  ~AtomicFile();                          // removes the temp file unless committed or released
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* p, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  uint64_t offset() const { return offset_; }
  FILE* file() { return f_; }
  void commit();  // sync(), then rename over the final path and fsync the folder
  // Flushes, fsyncs and closes the temp file without renaming it (for files replaced as a set:
  // the caller renames temp_path() itself and then calls release()).
  void sync();
  void release() { committed_ = true; }  // the temp is the caller's now: not removed
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return tmp_; }

 private:
  std::string path_, tmp_;
  FILE* f_ = nullptr;
  uint64_t offset_ = 0;
  bool committed_ = false;
};

// Whole-file convenience: atomically replaces `path` with `content`.
void write_file_atomic(const std::string& path, std::string_view content);

// fsync of the folder holding `path`, so that a rename in it survives a power loss.
void fsync_parent_dir(const std::string& path);

// Removes "<path>.tmp.<pid>" files whose process is gone (kill(pid, 0) fails with ESRCH).
void remove_stale_temps(const std::string& path);

}  // namespace rwkv
