// bench_sampling.cpp — what choosing a token costs next to computing its logits, at V = 65,536:
// the decoder's whole per-token work outside the forward (out-of-vocabulary and banned logits,
// occurrence penalties, softmax, top-p / top-k, temperature, the draw, detokenizing, stop
// strings: Decoder::sample + accept) with the chat defaults, the generate defaults and greedy,
// timed over logits the model really produced, and the decode forward (batch 1, one token) of a
// random RWKV-7 model. Prints each per-token time and its share of the forward's. The model's
// logits are flat (random weights: top-p keeps thousands of tokens, the costly case); --sharpen S
// also times them multiplied by S, peaked like a trained model's.
//   bench_sampling [--layers 12] [--embd 768] [--vocab 65536] [--threads 2] [--tokens 64]
//                  [--rounds 5] [--dtype bf16|fp32] [--sharpen 0]
// Times are the median of the rounds (the machine's neighbours come and go).
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_util.h"
#include "core/threads.h"
#include "engine/engine.h"
#include "infer/decoder.h"
#include "infer/generate.h"
#include "tokenizer/tokenizer_for_model.h"

using namespace rwkv;
using namespace rwkv::bench;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Seconds per token of Decoder::sample + accept over the recorded logits (a new decoder when a stop
// string ends one), median of `rounds`; *kept gets the mean number of tokens top-p / top-k keep.
double sampling_time(const GenerateConfig& cfg, const Tokenizer& tok, const std::vector<float>& logits, int V,
                     int rounds, double* kept) {
  const int n = int(logits.size() / size_t(V));
  std::vector<double> t;
  Rng rng(42);
  for (int r = 0; r < rounds; r++) {
    auto t0 = Clock::now();
    auto dec = std::make_unique<Decoder>(cfg, tok, V, rng);
    for (int i = 0; i < n; i++) {
      const int32_t token = dec->sample(logits.data() + size_t(i) * V);
      if (dec->is_stop_token(token)) continue;
      dec->accept(token);
      if (dec->stopped()) dec = std::make_unique<Decoder>(cfg, tok, V, rng);
    }
    t.push_back(secs(t0) / n);
  }
  std::vector<float> p;
  double sum = 0;
  const float temp = cfg.args.temperature;
  for (int i = 0; i < n; i++) {
    sampling_probs(logits.data() + size_t(i) * V, V, temp, cfg.args.top_p, cfg.args.top_k, p);
    sum += double(std::count_if(p.begin(), p.end(), [](float x) { return x > 0; }));
  }
  *kept = sum / n;
  return median(t);
}

}  // namespace

int main(int argc, char** argv) {
  int L = 12, C = 768, V = 65536, threads = 2, n_tokens = 64, rounds = 5;
  double sharpen = 0;
  std::string dtype = "bf16";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--layers") L = v;
    else if (a == "--embd") C = v;
    else if (a == "--vocab") V = v;
    else if (a == "--threads") threads = v;
    else if (a == "--tokens") n_tokens = v;
    else if (a == "--rounds") rounds = v;
    else if (a == "--dtype") dtype = argv[i + 1];
    else if (a == "--sharpen") sharpen = std::atof(argv[i + 1]);
    else { std::fprintf(stderr, "unknown flag %s\n", a.c_str()); return 2; }
  }
  if (dtype != "bf16" && dtype != "fp32") { std::fprintf(stderr, "--dtype: bf16 or fp32\n"); return 2; }
  set_num_threads(threads);
  auto e = Engine::from_state_dict(
      convert_float_tensors(random_model(make_cfg(L, C, V)), dtype == "fp32" ? DType::F32 : DType::BF16), "random");
  auto tok = make_tokenizer_for_model("", V);

  // forward: the decode steps, recording each step's logits
  StatePool pool = e->make_pool(1);
  Workspace ws;
  std::vector<int32_t> prompt(16);
  for (int i = 0; i < 16; i++) prompt[i] = (i * 7919) % V;
  BatchEntry b{0, prompt, Logits::Last};
  e->forward({&b, 1}, pool, ws);
  std::vector<float> logits(size_t(n_tokens) * V);
  std::vector<double> fwd;
  for (int r = 0; r < rounds; r++) {
    auto t0 = Clock::now();
    for (int i = 0; i < n_tokens; i++) {
      const float* lg = ws.logits(0);
      if (r == 0) std::copy(lg, lg + V, logits.begin() + size_t(i) * V);
      int32_t next = int32_t((std::max_element(lg, lg + V) - lg + i * 131) % V);  // varied tokens
      BatchEntry d{0, {&next, 1}, Logits::Last};
      e->forward({&d, 1}, pool, ws);
    }
    fwd.push_back(secs(t0) / n_tokens);
  }
  const double f = median(fwd);
  std::printf("L%d-D%d V%d %s, %d threads: forward %.2f ms/token (median of %d rounds of %d tokens)\n", L, C, V,
              dtype.c_str(), threads, f * 1e3, rounds, n_tokens);

  GenerateConfig chat = chat_defaults(), gen, greedy;
  greedy.args.temperature = 0;
  const std::pair<const char*, const GenerateConfig*> cfgs[] = {
      {"chat defaults (top_p 0.3, penalties 0.5, ban 0, stop \\n\\n)", &chat},
      {"generate defaults (top_p 0.85, penalties 0.2)", &gen},
      {"greedy (temperature 0)", &greedy}};
  for (int pass = 0; pass < (sharpen > 0 ? 2 : 1); pass++) {
    if (pass == 1) {
      for (float& x : logits) x = float(x * sharpen);
      std::printf("logits x %.1f (peaked, as a trained model's):\n", sharpen);
    } else {
      std::printf("the model's logits:\n");
    }
    for (auto& [name, cfg] : cfgs) {
      double kept = 0;
      const double s = sampling_time(*cfg, *tok, logits, V, rounds, &kept);
      std::printf("  %-62s sampling %7.3f ms/token = %5.2f%% of the forward (keeps %.0f tokens)\n", name,
                  s * 1e3, 100 * s / f, kept);
    }
  }
  return 0;
}
