// model_file.cpp — choose the .pth or safetensors reader/writer for a path.
#include "io/model_file.h"

#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace rwkv {

static bool has_st_ext(const std::string& path) {
  return path.size() >= 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0;
}

StateDict load_model_file(const std::string& path) {
  unsigned char head[9] = {};
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("io", "{}: cannot open", path);
  size_t got = std::fread(head, 1, 9, f);
  std::fclose(f);
  if (got >= 2 && head[0] == 'P' && head[1] == 'K') return load_pth(path);
  if (has_st_ext(path) || (got == 9 && head[8] == '{')) return load_safetensors(path);
  return load_pth(path);  // names what is wrong ("not a zip archive")
}

void save_model_file(const std::string& path, const StateDict& sd) {
  if (has_st_ext(path)) save_safetensors(path, sd);
  else save_pth(path, sd);
}

}  // namespace rwkv
