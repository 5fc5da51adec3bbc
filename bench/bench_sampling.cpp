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
// Each round times the forward, then each sampling setting (both see the same neighbours on a
// shared machine); printed: the median of the rounds, and the best.
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

// Seconds per token of Decoder::sample + accept over the recorded logits (a new decoder when a
// stop string ends one).
double sampling_time(const GenerateConfig& cfg, const Tokenizer& tok, const std::vector<float>& logits, int V) {
  const int n = int(logits.size() / size_t(V));
  Rng rng(42);
  auto t0 = Clock::now();
  auto dec = std::make_unique<Decoder>(cfg, tok, V, rng);
  for (int i = 0; i < n; i++) {
    const int32_t token = dec->sample(logits.data() + size_t(i) * V);
    if (dec->is_stop_token(token)) continue;
    dec->accept(token);
    if (dec->stopped()) dec = std::make_unique<Decoder>(cfg, tok, V, rng);
  }
  return secs(t0) / n;
}

// The mean number of tokens top-p / top-k keep (before penalties).
double mean_kept(const GenerateConfig& cfg, const std::vector<float>& logits, int V) {
  const int n = int(logits.size() / size_t(V));
  std::vector<float> p;
  double sum = 0;
  for (int i = 0; i < n; i++) {
    sampling_probs(logits.data() + size_t(i) * V, V, cfg.args.temperature, cfg.args.top_p, cfg.args.top_k, p);
    sum += double(std::count_if(p.begin(), p.end(), [](float x) { return x > 0; }));
  }
  return sum / n;
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

  GenerateConfig chat = chat_defaults(), gen, greedy;
  greedy.args.temperature = 0;
  const std::pair<const char*, const GenerateConfig*> cfgs[] = {
      {"chat defaults (top_p 0.3, penalties 0.5, ban 0, stop \\n\\n)", &chat},
      {"generate defaults (top_p 0.85, penalties 0.2)", &gen},
      {"greedy (temperature 0)", &greedy}};
  const int n_sets = sharpen > 0 ? 2 : 1, n_cfg = 3;

  // Rounds: the forward over n_tokens decode steps (recording each step's logits in the first),
  // then every sampling setting over the recorded logits, so both see the same neighbours.
  StatePool pool = e->make_pool(1);
  Workspace ws;
  std::vector<int32_t> prompt(16);
  for (int i = 0; i < 16; i++) prompt[i] = (i * 7919) % V;
  BatchEntry b{0, prompt, Logits::Last};
  e->forward({&b, 1}, pool, ws);
  std::vector<std::vector<float>> logits(size_t(n_sets), std::vector<float>(size_t(n_tokens) * V));
  std::vector<double> fwd;
  std::vector<std::vector<double>> smp(size_t(n_sets * n_cfg));
  for (int r = 0; r < rounds; r++) {
    auto t0 = Clock::now();
    for (int i = 0; i < n_tokens; i++) {
      const float* lg = ws.logits(0);
      if (r == 0) std::copy(lg, lg + V, logits[0].begin() + size_t(i) * V);
      int32_t next = int32_t((std::max_element(lg, lg + V) - lg + i * 131) % V);  // varied tokens
      BatchEntry d{0, {&next, 1}, Logits::Last};
      e->forward({&d, 1}, pool, ws);
    }
    fwd.push_back(secs(t0) / n_tokens);
    if (r == 0 && n_sets == 2)
      for (size_t k = 0; k < logits[0].size(); k++) logits[1][k] = float(logits[0][k] * sharpen);
    for (int set = 0; set < n_sets; set++)
      for (int c = 0; c < n_cfg; c++)
        smp[size_t(set * n_cfg + c)].push_back(sampling_time(*cfgs[c].second, *tok, logits[size_t(set)], V));
  }
  const double f = median(fwd), fbest = *std::min_element(fwd.begin(), fwd.end());
  std::printf("L%d-D%d V%d %s, %d threads: forward %.2f ms/token (median of %d rounds of %d tokens; best %.2f)\n",
              L, C, V, dtype.c_str(), threads, f * 1e3, rounds, n_tokens, fbest * 1e3);
  for (int set = 0; set < n_sets; set++) {
    std::printf(set == 0 ? "the model's logits:\n" : "logits x %.1f (peaked, as a trained model's):\n", sharpen);
    for (int c = 0; c < n_cfg; c++) {
      const std::vector<double>& t = smp[size_t(set * n_cfg + c)];
      const double s = median(t), sbest = *std::min_element(t.begin(), t.end());
      std::printf("  %-62s sampling %6.3f ms/token = %5.2f%% of the forward (best: %6.3f = %5.2f%%; keeps %.0f tokens)\n",
                  cfgs[c].first, s * 1e3, 100 * s / f, sbest * 1e3, 100 * sbest / fbest,
                  mean_kept(*cfgs[c].second, logits[size_t(set)], V));
    }
  }
  return 0;
}
