// mmap.cpp — POSIX mmap wrapper.
#include "io/mmap.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace rwkv {

MappedFile::~MappedFile() {
  if (data && size) munmap(const_cast<uint8_t*>(data), size);
}

std::shared_ptr<MappedFile> map_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("io", "{}: cannot open: {}", path, std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) { close(fd); fail("io", "{}: cannot stat: {}", path, std::strerror(errno)); }
  if (S_ISDIR(st.st_mode)) { close(fd); fail("io", "{}: is a directory, expected a file", path); }
  auto m = std::make_shared<MappedFile>();
  m->path = path;
  m->size = size_t(st.st_size);
  if (m->size) {
    void* p = mmap(nullptr, m->size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { close(fd); fail("io", "{}: mmap failed: {}", path, std::strerror(errno)); }
    m->data = static_cast<const uint8_t*>(p);
  }
  close(fd);
  return m;
}

}  // namespace rwkv
