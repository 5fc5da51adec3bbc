// bench_make_data.cpp — make-data throughput (MB/s of JSONL text) with 1, 2, ... threads on
// lambada_test.jsonl (1.8 MB; the official Python make_data.py needs about 4 s for it, ~0.45 MB/s).
// The file is passed N times (N_EPOCH, no shuffle) so that the timing is not dominated by start-up.
// Usage: bench_make_data [FILE.jsonl] [passes] [max_threads]   (defaults: lambada, 10, all cores)
#include <omp.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "core/assets.h"
#include "data/make_data.h"

int main(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1] : rwkv::find_asset("lambada_test.jsonl");
  int passes = argc > 2 ? std::atoi(argv[2]) : 10;
  int max_t = argc > 3 ? std::atoi(argv[3]) : std::max(2, omp_get_num_procs());
  auto dir = std::filesystem::temp_directory_path() / ("rwkv_bench_make_data_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  fmt::print("file: {}, {} passes, {} cores\n", path, passes, omp_get_num_procs());
  // build MB/s: wall clock of the tokenize+write phase (best of 3). MB/cpu-s: text per second of
  // CPU time over the whole job (start-up included), i.e. per-core efficiency; on a machine
  // shared with other work the wall-clock speedup understates the scaling, this does not.
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  };
  fmt::print("{:>7} {:>12} {:>9} {:>10} {:>9} {:>9}\n", "threads", "build MB/s", "speedup", "MB/cpu-s", "total s",
             "tokens");
  double base = 0;
  for (int t = 1; t <= max_t; t *= 2) {
    rwkv::MakeDataOptions o;
    o.input = path;
    o.n_epoch = passes;
    o.ctx_len = 4096;
    o.shuffle = false;
    o.threads = t;
    o.progress = false;
    o.out_prefix = (dir / "out").string();
    double best = 1e30, best_cpu = 1e30;
    rwkv::MakeDataResult r;
    for (int rep = 0; rep < 3; ++rep) {  // best of 3: the machine may be shared
      double c0 = cpu_now();
      r = rwkv::make_data(o, nullptr);
      best_cpu = std::min(best_cpu, cpu_now() - c0);
      best = std::min(best, r.build_seconds);
    }
    double mbs = r.text_bytes / 1e6 / best;
    if (t == 1) base = mbs;
    fmt::print("{:>7} {:>12.1f} {:>8.2f}x {:>10.1f} {:>9.2f} {:>9}   ({:.0f}x make_data.py's ~0.45 MB/s)\n", t, mbs,
               mbs / base, r.text_bytes / 1e6 / best_cpu, r.seconds, r.tokens, mbs / 0.45);
    if (t < max_t && t * 2 > max_t) t = max_t / 2;  // always end with max_t
  }
  std::filesystem::remove_all(dir);
  return 0;
}
