// assets.cpp — asset lookup (see assets.h for the rule).
#include "core/assets.h"

#include <unistd.h>

#include <filesystem>
#include <vector>

#include "core/error.h"

#ifndef RWKV_SOURCE_DIR
#define RWKV_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;

namespace rwkv {

static std::string exe_dir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  buf[n] = 0;
  return fs::path(buf).parent_path().string();
}

std::string find_asset(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("RWKV_ASSETS"); env && *env) {
    dirs.push_back(env);  // when set, it is the only place looked at
  } else {
    dirs.push_back("assets");
    dirs.push_back(std::string(RWKV_SOURCE_DIR) + "/assets");
    if (auto d = exe_dir(); !d.empty()) dirs.push_back(d + "/assets");
  }
  std::string tried;
  for (auto& d : dirs) {
    fs::path p = fs::path(d) / name;
    if (fs::is_regular_file(p)) return p.string();
    tried += (tried.empty() ? "" : ", ") + p.string();
  }
  fail("assets", "asset '{}' not found (looked in: {}); run scripts/setup.sh to provision assets/, "
       "or set RWKV_ASSETS to a folder that holds it", name, tried);
}

}  // namespace rwkv
