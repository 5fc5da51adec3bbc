// bench_tokenizer.cpp — World tokenizer throughput (MB/s of UTF-8 text, one thread) on the
// texts of lambada_test.jsonl: encode, decode, and the round-trip check make-data does.
// Usage: bench_tokenizer [FILE.jsonl] [repeats]   (default: assets lambada_test.jsonl, 20)
#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/assets.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/world.h"

int main(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1] : rwkv::find_asset("lambada_test.jsonl");
  int reps = argc > 2 ? std::atoi(argv[2]) : 20;
  std::vector<std::string> texts;
  size_t bytes = 0;
  {
    std::ifstream f(path);
    std::string line;
    while (std::getline(f, line))
      if (!line.empty()) {
        texts.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
        bytes += texts.back().size();
      }
  }
  auto t0 = std::chrono::steady_clock::now();
  auto tok = rwkv::make_tokenizer("world");
  double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto& world = dynamic_cast<rwkv::WorldTokenizer&>(*tok);
  fmt::print("file: {} ({} texts, {:.2f} MB of text)\nvocabulary load: {:.1f} ms\n", path, texts.size(),
             bytes / 1e6, load_s * 1e3);

  std::vector<int32_t> ids;
  size_t ntok = 0;
  // Per-core throughput uses the thread's CPU time (robust on a shared machine); wall time too.
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  };
  auto time = [&](const char* what, auto&& body) {
    auto a = std::chrono::steady_clock::now();
    double c0 = cpu_now();
    for (int r = 0; r < reps; ++r) body();
    double c = cpu_now() - c0;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
    fmt::print("{:<28} {:8.1f} MB/s per core (CPU time; {:.1f} MB/s wall), {:.2f} ms per pass\n", what,
               bytes * double(reps) / c / 1e6, bytes * double(reps) / s / 1e6, c / reps * 1e3);
  };
  time("encode", [&] {
    ntok = 0;
    for (auto& t : texts) {
      ids.clear();
      world.encode_append(t, ids);
      ntok += ids.size();
    }
  });
  std::vector<std::vector<int32_t>> all;
  for (auto& t : texts) all.push_back(world.encode(t));
  size_t check = 0;
  time("decode", [&] {
    for (auto& v : all) check += world.decode(v).size();
  });
  time("encode + decode + compare", [&] {
    for (auto& t : texts) {
      ids.clear();
      world.encode_append(t, ids);
      check += world.decode(ids) == t;
    }
  });
  fmt::print("tokens: {} ({:.2f} bytes/token)\n", ntok, double(bytes) / double(ntok));
  return check == 0;  // keeps the work observable
}
