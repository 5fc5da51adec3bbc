// bench_batch_decode.cpp — aggregate decode speed of the engine at batch 1, 4, 16 and 64: B
// sequences, each call one token per sequence (logits of every sequence, greedy next token),
// next to the bounds measured in the same run: batch 1 is bound by reading the weights once
// per token (bandwidth), a batch shares each weight read so it approaches the sgemm bound.
// Also prefill tokens/s (one sequence, one call). Peak RSS at the end.
//   bench_batch_decode [--layers 12] [--embd 768] [--vocab 65536] [--threads 2] [--steps 8]
//                      [--batches 1,4,16,64] [--runs x070:fp32,x070:bf16,x060:fp32]
//                      [--v6_batches 1,16] [--prefill 512]
#include <sys/resource.h>

#include <cstdlib>
#include <sstream>

#include "bench_util.h"
#include "core/threads.h"
#include "engine/engine.h"
#include "ops/cpu/blas_core.h"

using namespace rwkv;
using namespace rwkv::bench;

namespace {

std::vector<int> ints(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) v.push_back(std::atoi(x.c_str()));
  return v;
}

// Aggregate tokens/s of `steps` decode calls with B sequences (best of 3 rounds).
double decode_rate(const Engine& e, int B, int steps) {
  const int V = e.vocab_size();
  StatePool pool = e.make_pool(B);
  Workspace ws;
  std::vector<int32_t> prompt(8), next(B);
  std::vector<BatchEntry> batch(static_cast<size_t>(B));
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < 8; i++) prompt[i] = (b * 131 + i * 7919) % V;
    BatchEntry p{b, prompt, Logits::Last};
    e.forward({&p, 1}, pool, ws);
    next[b] = greedy_token(ws.logits(0), V);
  }
  double best = 0;
  for (int round = 0; round < 3; round++) {
    auto t0 = Clock::now();
    for (int s = 0; s < steps; s++) {
      for (int b = 0; b < B; b++) batch[b] = {b, {&next[b], 1}, Logits::Last};
      e.forward(batch, pool, ws);
      for (int b = 0; b < B; b++) next[b] = greedy_token(ws.logits(b), V);
    }
    best = std::max(best, double(B) * steps / secs(t0));
  }
  return best;
}

double prefill_rate(const Engine& e, int n) {
  StatePool pool = e.make_pool(1);
  Workspace ws;
  std::vector<int32_t> toks(n);
  for (int i = 0; i < n; i++) toks[i] = (i * 7919) % e.vocab_size();
  BatchEntry b{0, toks, Logits::Last};
  double best = 0;
  for (int round = 0; round < 2; round++) {
    pool.zero(0);
    auto t0 = Clock::now();
    e.forward({&b, 1}, pool, ws);
    best = std::max(best, n / secs(t0));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  rwkv::blas_core_startup(argv);  // OpenBLAS kernels chosen from the CPU features, as in rwkv
  int L = 12, C = 768, V = 65536, threads = 2, steps = 8, n_prefill = 512;
  std::string batches = "1,4,16,64", v6_batches = "1,16", runs = "x070:fp32,x070:bf16,x060:fp32";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--layers") L = std::atoi(v.c_str());
    else if (a == "--embd") C = std::atoi(v.c_str());
    else if (a == "--vocab") V = std::atoi(v.c_str());
    else if (a == "--threads") threads = std::atoi(v.c_str());
    else if (a == "--steps") steps = std::atoi(v.c_str());
    else if (a == "--prefill") n_prefill = std::atoi(v.c_str());
    else if (a == "--batches") batches = v;
    else if (a == "--v6_batches") v6_batches = v;
    else if (a == "--runs") runs = v;
    else { std::fprintf(stderr, "unknown flag %s\n", a.c_str()); return 2; }
  }
  set_num_threads(threads);
  print_machine(threads);
  Bandwidth bw;
  bw.measure(5);
  double flops = measure_sgemm(64, C);
  std::printf("machine: %d threads; read bandwidth %.2f GB/s; sgemm (64x%d @ %dx%d) %.1f GFLOP/s\n", threads,
              bw.best / 1e9, C, C, 4 * C, flops / 1e9);
  std::printf("| model | weights | batch | decode tok/s (all sequences) | x batch 1 | bandwidth bound x batch | sgemm bound |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::stringstream rs(runs);
  for (std::string run; std::getline(rs, run, ',');) {
    const std::string ver = run.substr(0, run.find(':')), dts = run.substr(run.find(':') + 1);
    DType dt;
    if (!dtype_from_name(dts, &dt)) { std::fprintf(stderr, "bad dtype in %s\n", run.c_str()); return 2; }
    StateDict sd = ver == "x070" ? random_model(make_cfg(L, C, V)) : random_versioned_model(ver, L, C, V);
    EngineOptions o;
    o.dtype = dt;
    auto e = Engine::from_state_dict(sd, "random-" + ver, o);
    double bytes = 0, mat_params = 0;  // read per token at batch 1; multiplied per token
    for (auto& [name, t] : sd.items) {
      const double el = t.dim() == 2 ? dtype_size(dt) : 4;
      if (name == "emb.weight") { bytes += double(t.shape[1]) * el; continue; }
      bytes += double(t.numel()) * el;
      if (t.dim() >= 2) mat_params += double(t.numel());
    }
    flops = std::max(flops, measure_sgemm(64, C));
    const double sgemm_bound = flops / (2 * mat_params);
    double base = 0;
    for (int B : ints(ver == "x070" ? batches : v6_batches)) {
      bw.measure(1);
      const double r = decode_rate(*e, B, steps);
      if (B == 1) base = r;
      std::printf("| %s L%d-D%d V%d | %s | %d | %.1f | %.2f | %.1f | %.1f |\n", ver.c_str(), L, C, V, dts.c_str(), B, r,
                  base > 0 ? r / base : 0.0, B * bw.best / bytes, sgemm_bound);
      std::fflush(stdout);
    }
    std::printf("| %s | %s | prefill %d tokens | %.1f tok/s | | | %.1f |\n", ver.c_str(), dts.c_str(), n_prefill,
                prefill_rate(*e, n_prefill), sgemm_bound);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak RSS %.0f MiB\n", ru.ru_maxrss / 1024.0);
  return 0;
}
