// bench_decode_cpu.cpp — CPU inference speed of an RWKV-7 model next to the machine's limits
// measured in the same run (printed first: CPU model, ISA flags, OpenBLAS core, read bandwidth of
// the --threads threads at 256 MiB / 512 MiB / 1 GiB, bench_util.h): decode (batch 1, one token
// at a time) tokens/s vs the memory-bandwidth bound (bytes of weights read per token / measured
// read bandwidth; decode is the best of 5 rounds, the bandwidth the best pass over the run, one
// right before each round), and prefill tokens/s (best of 4) vs the measured FLOP/s of the GEMM
// that serves it (2 * matrix params FLOPs per token): sgemm, or for bf16 weights the bf16 path of
// ops/gemv.h linear_forward_any (oneDNN bf16 x bf16 where ops/cpu/bf16_gemm.h runs).
//   bench_decode_cpu [--layers 12] [--embd 768] [--vocab 65536] [--threads 2] [--decode 32]
//                    [--prefill 512] [--model FILE]   (default: random weights, L12-D768 V65536)
//                    [--dtype all|LIST]  (default all = fp32,bf16,int8,q4; LIST: comma-separated of fp32, bf16,
//                    int8 (the pip package's fp32i8, ops/mm8.h), bf16i8, q4 (strategy 'cpu fp32q4', ops/q4.h), bf16q4)
//                    [--max_rows 256] (tokens per pass)
//                    [--save FILE]  write the random model in bf16 (.pth / .safetensors) and exit
#include <immintrin.h>
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/threads.h"
#include "engine/engine.h"
#include "engine/weight_placement.h"
#include "io/model_file.h"
#include "model/rwkv7_params.h"
#include "ops/cpu/bf16_gemm.h"
#include "ops/cpu/sgemm.h"
#include "bench_util.h"
#include "ops/cpu/blas_core.h"

using namespace rwkv;
using namespace rwkv::bench;
int main(int argc, char** argv) {
  rwkv::blas_core_startup(argv);  // OpenBLAS kernels chosen from the CPU features, as in rwkv
  int L = 12, C = 768, V = 65536, threads = 2, n_decode = 32, n_prefill = 512, max_rows = 256;
  std::string model, save, dtypes = "all";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (a == "--layers") L = v;
    else if (a == "--embd") C = v;
    else if (a == "--vocab") V = v;
    else if (a == "--threads") threads = v;
    else if (a == "--decode") n_decode = v;
    else if (a == "--prefill") n_prefill = v;
    else if (a == "--max_rows") max_rows = v;
    else if (a == "--model") model = argv[i + 1];
    else if (a == "--save") save = argv[i + 1];
    else if (a == "--dtype") dtypes = argv[i + 1];
    else { std::fprintf(stderr, "unknown flag %s\n", a.c_str()); return 2; }
  }
  set_num_threads(threads);
  StateDict base = model.empty() ? random_model(make_cfg(L, C, V)) : load_model_file(model);
  if (!save.empty()) {
    save_model_file(save, convert_float_tensors(std::move(base), DType::BF16));
    std::printf("wrote %s (bf16, L%d-D%d V%d)\n", save.c_str(), L, C, V);
    return 0;
  }

  print_machine(threads);
  Bandwidth bw;
  bw.measure(5);
  const int Tg = std::min(n_prefill, 256);
  double flops_peak = measure_sgemm(Tg, C);  // best seen; measured again next to each prefill
  // bf16 weights' prefill GEMM (ops/gemv.h linear_forward_any): its own bound
  double bf16_peak = measure_bf16_linear(Tg, C);
  const char* bf16_lib = bf16_gemm_available() ? "oneDNN bf16 x bf16" : "widened bf16 + sgemm";
  std::printf("read bandwidth (%d threads, best pass so far): %s\nsgemm (%dx%d @ %dx%d) %.1f GFLOP/s; bf16 weights (%s) %.1f GFLOP/s\n",
              threads, bw.report().c_str(), Tg, C, C, 4 * C, flops_peak / 1e9, bf16_lib, bf16_peak / 1e9);

  std::vector<std::string> kinds;
  for (size_t p = 0; p <= dtypes.size();) {
    size_t q = dtypes.find(',', p);
    if (q == std::string::npos) q = dtypes.size();
    const std::string k = dtypes.substr(p, q - p);
    if (k == "all") kinds.insert(kinds.end(), {"fp32", "bf16", "int8", "q4"});
    else if (k == "fp32" || k == "bf16" || k == "int8" || k == "bf16i8" || k == "q4" || k == "bf16q4") kinds.push_back(k);
    else { std::fprintf(stderr, "unknown --dtype %s\n", k.c_str()); return 2; }
    p = q + 1;
  }
  for (const std::string& k : kinds) {
    const char* kind = k.c_str();
    // the weights as the engine keeps them (converted here once, so that their bytes can be counted)
    const char* strategy = k == "int8" ? "cpu fp32i8" : k == "bf16i8" ? "cpu bf16i8" : k == "q4" ? "cpu fp32q4"
                         : k == "bf16q4" ? "cpu bf16q4" : nullptr;
    StateDict conv = strategy ? place_weights(base, Strategy::parse(strategy).plan(detect_config(base, "random").n_layer), "random")
                              : convert_float_tensors(base, k == "fp32" ? DType::F32 : DType::BF16);
    auto e = Engine::from_state_dict(conv, model.empty() ? "random" : model);
    const ModelConfig& c = e->config();
    StatePool pool = e->make_pool(1);
    Workspace ws(max_rows);
    const float* logits = nullptr;  // (V) of the last token fed
    auto feed = [&](const int32_t* t, int n) {
      BatchEntry b{0, {t, size_t(n)}, Logits::Last};
      e->forward({&b, 1}, pool, ws);
      logits = ws.logits(0);
    };
    // bytes read per decoded token: every tensor once (int8: q and its four scale vectors; q4: the
    // nibbles and their fp16 scales and offsets), except the embedding (one row) and the RWKV-7
    // LoRA factors held in fp32 with exact bf16 values, whose decode copies are bf16 (model/rwkv7.cpp);
    // matrix parameters (for the sgemm bound) counted on the float model
    double bytes = 0, mat_params = 0;
    for (auto& [name, t] : conv.items) {
      if (name == "emb.weight") { bytes += double(t.numel() / t.shape[0]) * dtype_size(t.dtype); continue; }
      const std::string leaf = name.substr(name.rfind('.') + 1);
      const bool lora = name.find(".att.") != std::string::npos && leaf.size() == 2 && std::string("wagv").find(leaf[0]) != std::string::npos &&
                        (leaf[1] == '1' || leaf[1] == '2');
      if (lora && t.dtype == DType::F32 && all_bf16_exact(t.ptr<float>(), t.numel())) { bytes += double(t.numel()) * 2; continue; }
      bytes += double(t.nbytes());
    }
    for (auto& [name, t] : base.items)
      if (name != "emb.weight" && t.dim() == 2 && t.shape[0] > 1 && t.shape[1] > 1 && name.find("r_k") == std::string::npos)
        mat_params += double(t.numel());
    std::vector<int32_t> toks(n_prefill);
    for (int i = 0; i < n_prefill; i++) toks[i] = (i * 7919) % c.vocab_size;
    // prefill
    feed(toks.data(), std::min(n_prefill, 16));  // warm-up
    pool.zero(0);
    // the GEMM that serves this dtype's prefill: bf16 weights and the bf16 stages' int8 / q4 the
    // bf16 one (ops/cpu/bf16_gemm.h), fp32 and the fp32 stages' int8 / q4 sgemm
    const bool bf16_w = k == "bf16" || k == "bf16i8" || k == "bf16q4";
    if (bf16_w) bf16_peak = std::max(bf16_peak, measure_bf16_linear(Tg, C));
    else flops_peak = std::max(flops_peak, measure_sgemm(Tg, C));
    double pf = 0;  // best of 4: the first pays for touching new scratch memory
    Clock::time_point t0;
    for (int rep = 0; rep < 4; rep++) {
      pool.zero(0);
      t0 = Clock::now();
      feed(toks.data(), n_prefill);
      pf = std::max(pf, n_prefill / secs(t0));
    }
    // decode: best of 5 rounds of n_decode tokens (the machine's neighbours come and go)
    int32_t tok = 1;
    for (int i = 0; i < 3; i++) feed(&tok, 1);
    double dec = 0;
    for (int round = 0; round < 5; round++) {
      bw.measure(2);  // the bound uses the best bandwidth seen, including right next to decoding
      t0 = Clock::now();
      for (int i = 0; i < n_decode; i++) {
        tok = greedy_token(logits, c.vocab_size);
        feed(&tok, 1);
      }
      dec = std::max(dec, n_decode / secs(t0));
    }
    double dec_bound = bw.best / bytes, pf_bound = (bf16_w ? bf16_peak : flops_peak) / (2.0 * mat_params);
    std::printf("L%d-D%d V%d %s weights (%.0f MB): decode %.2f tok/s = %.0f%% of the bandwidth bound %.2f tok/s "
                "(%.2f GB/s); prefill %.1f tok/s = %.0f%% of the %s bound %.1f tok/s\n",
                c.n_layer, c.n_embd, c.vocab_size, kind, bytes / 1e6, dec, 100 * dec / dec_bound,
                dec_bound, bw.best / 1e9, pf, 100 * pf / pf_bound, bf16_w ? "bf16 GEMM" : "sgemm", pf_bound);
    std::fflush(stdout);
  }
  std::printf("read bandwidth (%d threads, best of %d passes over the run): %s\n", threads, bw.passes_done,
              bw.report().c_str());
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak RSS %.2f GB (all the runs above: the random model and each converted copy)\n", ru.ru_maxrss / 1e6);
  return 0;
}
