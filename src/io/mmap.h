// mmap.h — read-only memory map of a whole file (zero-copy loading of models and binidx).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace rwkv {

struct MappedFile {
  std::string path;
  const uint8_t* data = nullptr;
  size_t size = 0;
  ~MappedFile();
};

// Maps `path` read-only; throws "[io] <path>: ..." when it cannot be opened.
std::shared_ptr<MappedFile> map_file(const std::string& path);

}  // namespace rwkv
