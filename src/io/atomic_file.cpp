// atomic_file.cpp — temp file + fsync + rename; stale temps of killed runs removed.
#include "io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace rwkv {

namespace fs = std::filesystem;

namespace {
// "[io] out/x.pth: cannot write: the folder 'out' does not exist" and the like.
[[noreturn]] void fail_open(const std::string& path, int err) {
  const fs::path parent = fs::path(path).parent_path();
  if (err == ENOTDIR) fail("io", "{}: cannot write: a part of the path is a file, not a folder", path);
  if (err == ENOENT && !parent.empty()) fail("io", "{}: cannot write: the folder '{}' does not exist", path, parent.string());
  if (err == EISDIR) fail("io", "{}: cannot write: is a folder", path);
  fail("io", "{}: cannot write: {}", path, std::strerror(err));
}
}  // namespace

void remove_stale_temps(const std::string& path) {
  const fs::path p(path);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  const std::string stem = p.filename().string() + ".tmp.";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= stem.size() || name.compare(0, stem.size(), stem) != 0) continue;
    const std::string digits = name.substr(stem.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = pid_t(std::stol(digits));
    if (pid <= 0 || pid == getpid()) continue;
    if (kill(pid, 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  struct stat st;
  if (stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) fail_open(path_, EISDIR);
  remove_stale_temps(path_);
  tmp_ = path_ + ".tmp." + std::to_string(getpid());
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) fail_open(path_, errno);
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
}

AtomicFile::~AtomicFile() {
  if (f_) std::fclose(f_);
  if (!committed_) std::remove(tmp_.c_str());
}

void AtomicFile::write(const void* p, size_t n) {
  if (n && std::fwrite(p, 1, n, f_) != n) fail("io", "{}: write failed: {}", path_, std::strerror(errno));
  offset_ += n;
}

void AtomicFile::sync() {
  if (!f_) return;
  if (std::fflush(f_) != 0 || fsync(fileno(f_)) != 0) fail("io", "{}: write failed: {}", path_, std::strerror(errno));
  const int r = std::fclose(f_);
  f_ = nullptr;
  if (r != 0) fail("io", "{}: write failed: {}", path_, std::strerror(errno));
}

void AtomicFile::commit() {
  sync();
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    fail("io", "{}: cannot replace it with the new file: {}", path_, std::strerror(errno));
  committed_ = true;
  fsync_parent_dir(path_);
}

void write_file_atomic(const std::string& path, std::string_view content) {
  AtomicFile f(path);
  f.write(content);
  f.commit();
}

void fsync_parent_dir(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data itself is already synced
  ::fsync(fd);
  ::close(fd);
}

}  // namespace rwkv
