// bench_load.cpp — how fast a big checkpoint loads: makes one with `rwkv init` (default
// L24-D2048-V65536, 1.5B parameters, bf16) in a temp folder, then times load_pth and
// load_safetensors (mmap, zero-copy; .pth with and without its CRC-32 check) and reports resident memory before/after the load and
// after touching every page. The temp folder is removed at the end.
//   bench_load [--n_layer 24] [--n_embd 2048] [--vocab_size 65536] [--dtype bf16] [--model FILE]
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "io/model_file.h"
#include "model/config.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static double rss_mib() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

static double secs(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

static void measure(const std::string& what, const std::string& path) {
  double before = rss_mib();
  auto t0 = Clock::now();
  rwkv::StateDict sd = rwkv::load_model_file(path);
  double t_load = secs(t0);
  double after = rss_mib();
  rwkv::ModelConfig c = rwkv::detect_config(sd, path);
  auto t1 = Clock::now();
  uint64_t acc = 0;  // touch one byte per page of every tensor
  for (auto& [k, t] : sd.items) {
    auto p = static_cast<const uint8_t*>(t.data);
    for (size_t i = 0; i < t.nbytes(); i += 4096) acc += p[i];
  }
  double t_touch = secs(t1);
  double touched = rss_mib();
  fmt::print("{:<12} {:>8.1f} ms load  rss {:>7.1f} -> {:>7.1f} MiB  | touch all pages {:>7.1f} ms, rss {:>7.1f} MiB"
             "  ({} params, {:.2f} GB, x{})\n",
             what, t_load * 1e3, before, after, t_touch * 1e3, touched, c.n_params,
             double(fs::file_size(path)) / 1e9, acc % 10);
}

int main(int argc, char** argv) {
  int n_layer = 24, n_embd = 2048, vocab = 65536;
  std::string dtype = "bf16", model;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--n_layer") n_layer = std::stoi(v);
    else if (a == "--n_embd") n_embd = std::stoi(v);
    else if (a == "--vocab_size") vocab = std::stoi(v);
    else if (a == "--dtype") dtype = v;
    else if (a == "--model") model = v;
    else { fmt::print(stderr, "unknown option {}\n", a); return 2; }
  }
  std::random_device rd;
  fs::path dir = fs::temp_directory_path() / fmt::format("rwkv_bench_load_{}_{}", getpid(), rd());
  fs::create_directories(dir);
  int status = 0;
  try {
    std::string pth = model;
    if (pth.empty()) {
      pth = (dir / "rwkv-init.pth").string();
      std::string cmd = fmt::format("{} init --n_layer {} --n_embd {} --vocab_size {} --dtype {} --out {} > /dev/null",
                                    RWKV_BIN, n_layer, n_embd, vocab, dtype, pth);
      auto t = Clock::now();
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("rwkv init failed: " + cmd);
      fmt::print("rwkv init L{}-D{}-V{} ({}): {:.1f} s\n", n_layer, n_embd, vocab, dtype, secs(t));
    }
    rwkv::set_pth_crc_check(false);
    measure(".pth no crc", pth);
    rwkv::set_pth_crc_check(true);
    measure(".pth crc", pth);
    std::string st = (dir / "model.safetensors").string();
    {
      auto t = Clock::now();
      rwkv::save_safetensors(st, rwkv::load_model_file(pth));
      fmt::print("convert to safetensors: {:.1f} s\n", secs(t));
    }
    measure(".safetensors", st);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_load: {}\n", e.what());
    status = 1;
  }
  fs::remove_all(dir);
  return status;
}
