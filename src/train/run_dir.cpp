// run_dir.cpp — see run_dir.h.
#include "train/run_dir.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/model_file.h"

namespace fs = std::filesystem;

namespace rwkv::train {

std::vector<int64_t> list_checkpoints(const std::string& proj_dir, const std::string& ext) {
  std::vector<int64_t> v;
  std::error_code ec;
  for (auto it = fs::directory_iterator(proj_dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind("rwkv", 0) != 0 || name.size() < 4 + ext.size() || name.substr(name.size() - ext.size()) != ext)
      continue;
    // train.py: p.split("-")[1].split(".")[0]
    size_t dash = name.find('-');
    if (dash == std::string::npos) continue;
    std::string rest = name.substr(dash + 1);
    std::string p = rest.substr(0, std::min(rest.find('.'), rest.find('-')));
    if (p == "final") continue;
    if (p == "init") {
      v.push_back(-1);
      continue;
    }
    if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos) continue;
    if (name != "rwkv-" + p + ext) continue;
    v.push_back(std::stoll(p));
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::string checkpoint_path(const std::string& proj_dir, int64_t n, const std::string& ext) {
  return proj_dir + (n < 0 ? "/rwkv-init" + ext : "/rwkv-" + std::to_string(n) + ext);
}

void ensure_writable_dir(const std::string& proj_dir) {
  if (proj_dir.empty()) fail("train", "--proj_dir is empty");
  std::error_code ec;
  if (fs::exists(proj_dir, ec) && !fs::is_directory(proj_dir, ec))
    fail("train", "--proj_dir {}: exists and is not a folder", proj_dir);
  fs::create_directories(proj_dir, ec);
  if (ec) fail("train", "--proj_dir {}: cannot create the folder: {}", proj_dir, ec.message());
  std::string probe = proj_dir + "/.rwkv_write_test." + std::to_string(getpid());
  FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) fail("train", "--proj_dir {}: cannot write there: {}", proj_dir, std::strerror(errno));
  bool ok = std::fputs("ok", f) >= 0;
  ok = (std::fclose(f) == 0) && ok;
  std::remove(probe.c_str());
  if (!ok) fail("train", "--proj_dir {}: cannot write there (disk full?)", proj_dir);
}

ResumeChoice choose_resume(const std::string& proj_dir, const std::string& ext) {
  ResumeChoice c;
  auto v = list_checkpoints(proj_dir, ext);
  if (v.empty()) return c;
  c.found = true;
  c.newest = v.back();
  if (v.size() > 1) c.prev = v[v.size() - 2];
  return c;
}

bool try_load_checkpoint(const std::string& path, StateDict& out, std::string& why) {
  try {
    out = load_model_file(path);
    if (out.size() == 0) {
      why = path + ": holds no tensors";
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    why = e.what();
    return false;
  }
}

void save_checkpoint(const std::string& path, const StateDict& sd) {
  // save_pth is atomic itself; the extra rename keeps that true whatever it does inside.
  std::string tmp = path + ".saving." + std::to_string(getpid());
  try {
    save_pth(tmp, sd);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail("train", "{}: cannot rename the saved checkpoint into place: {}", path, ec.message());
  }
}

}  // namespace rwkv::train
