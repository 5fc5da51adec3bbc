// input_file.cpp — see input_file.h.
#include "core/input_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace rwkv {

namespace {
// Opens `path` for reading after naming what is wrong with it, if anything.
std::FILE* open_input(const std::string& path, const char* module, const char* what) {
  struct stat st;
  if (path.empty()) fail(module, "empty path (a {} was expected)", what);
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) fail(module, "{}: no such file (a {} was expected)", path, what);
    if (errno == ENOTDIR) fail(module, "{}: a part of the path is a file, not a directory", path);
    fail(module, "{}: cannot open: {}", path, std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) fail(module, "{}: is a directory (a {} was expected)", path, what);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail(module, "{}: cannot open: {}", path, std::strerror(errno));
  return f;
}
}  // namespace

void require_input_file(const std::string& path, const char* module, const char* what) {
  std::fclose(open_input(path, module, what));
}

std::string read_input_file(const std::string& path, const char* module, const char* what) {
  std::FILE* f = open_input(path, module, what);
  std::string s;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  const bool bad = std::ferror(f);
  const int err = errno;
  std::fclose(f);
  if (bad) fail(module, "{}: read error: {}", path, std::strerror(err));
  return s;
}

}  // namespace rwkv
