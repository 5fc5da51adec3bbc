// infer_flags.h — flags shared by the commands that run a model (generate, chat, forward, eval,
// serve): model loading (--model, --dtype, --strategy, --threads, --tokenizer, --k_eps) and the sampler (official
// PIPELINE_ARGS names).
#pragma once
#include <CLI/CLI.hpp>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "core/error.h"
#include "infer/generate.h"
#include "core/threads.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_for_model.h"

namespace rwkv::cli {

struct InferFlags {
  std::string model, dtype, strategy, tokenizer;  // tokenizer empty: from the model's vocabulary size
  int threads = 0;
  double k_eps = -1;  // RWKV-2 K_EPS (< 0: the model's default)
  int64_t seed = -1;
  GenerateConfig gen;

  void add_model(CLI::App& app) {
    app.add_option("--model", model, "model file (.pth or .safetensors)")->required();
    add_weights(app);
    app.add_option("--threads", threads, "CPU threads (default: all cores)");
    app.add_option("--tokenizer", tokenizer,
                   "world, bytes, 20b, or a vocab .txt / tokenizer.json path (default: from the model's "
                   "vocabulary size: 65536 world, 50277 20b)");
    add_k_eps(app);
    add_skip_crc(app);
  }
  // --dtype and --strategy: how the weights are kept (EngineOptions::dtype / strategy).
  void add_weights(CLI::App& app) {
    app.add_option("--dtype", dtype,
                   "convert weights at load: fp32, bf16, fp16, or int8 / fp32i8 / bf16i8 / fp16i8, q4 / fp32q4 / "
                   "bf16q4 / fp16q4 (shorthand for --strategy 'cpu fp32i8' ...) (default: as stored)");
    app.add_option("--strategy", strategy,
                   "the rwkv pip package's strategy, e.g. 'cpu fp32i8' or 'cpu fp32 *6 -> cpu fp32i8': per layer "
                   "(ln_out+head counting as the last) the weights' type, int8 with i8, 4-bit with q4 (cpu stages only)");
  }
  void add_k_eps(CLI::App& app) {
    app.add_option("--k_eps", k_eps,
                   "RWKV-2 only: K_EPS of the WKV denominator (default 1e-8 for Pile models as their README asks, "
                   "1e-16 for the enwik8 head-QK model; the Pile code as shipped: 1e-9)");
  }
  // EngineOptions from --dtype and --k_eps ("[cli] ..." for a bad value).
  EngineOptions engine_options() const {
    EngineOptions o;
    if (!strategy.empty() && !dtype.empty()) fail("cli", "--dtype and --strategy: give one of them");
    std::string s = strategy;
    if (const std::string q = quantized_stage_dtype(dtype); !q.empty()) s = "cpu " + q;
    if (!s.empty()) {
      o.strategy = Strategy::parse(s);
    } else if (!dtype.empty()) {
      DType d;
      if (!dtype_from_name(dtype, &d) || (d != DType::F32 && d != DType::BF16 && d != DType::F16))
        fail("cli", "--dtype must be fp32, bf16, fp16, int8, fp32i8, bf16i8, fp16i8, q4, fp32q4, bf16q4 or fp16q4, got '{}'", dtype);
      o.dtype = d;
    }
    if (k_eps >= 0) {
      if (!std::isfinite(k_eps) || k_eps > 1) fail("cli", "--k_eps must be in [0, 1], got {}", k_eps);
      o.model.k_eps = float(k_eps);
    }
    return o;
  }
  void add_sampler(CLI::App& app) {
    SamplerArgs& a = gen.args;
    app.add_option("--temperature", a.temperature, "sampling temperature (0 = greedy)")->capture_default_str();
    app.add_option("--top_p", a.top_p, "top-p cutoff in [0, 1]")->capture_default_str();
    app.add_option("--top_k", a.top_k, "keep the k most likely tokens (0 = off)")->capture_default_str();
    app.add_option("--alpha_frequency", a.alpha_frequency, "frequency penalty")->capture_default_str();
    app.add_option("--alpha_presence", a.alpha_presence, "presence penalty")->capture_default_str();
    app.add_option("--alpha_decay", a.alpha_decay, "decay of the penalties per token")->capture_default_str();
    app.add_option("--token_ban", a.token_ban, "token ids never sampled (comma-separated or repeated)")->delimiter(',');
    app.add_option("--token_stop", a.token_stop, "token ids that end generation")->delimiter(',');
    app.add_option("--stop", gen.stop, "stop string (repeatable); the output ends before it");
    app.add_option("--seed", seed, "random seed (default: random); the same seed gives the same text");
    app.add_option("--chunk_len", a.chunk_len, "prompt chunk length for prefill")->capture_default_str();
  }

  // Sets the CPU threads (--threads; a CLI-wide setting, not the engine's), then loads.
  // row_invariant: EngineOptions::row_invariant (eval: the same numbers at any batch size).
  std::unique_ptr<Engine> load(bool row_invariant = false) const {
    if (threads > 0) set_num_threads(threads);
    EngineOptions o = engine_options();
    o.row_invariant = row_invariant;
    return Engine::load(model, o);
  }
  // --tokenizer, or the one the model's vocabulary implies; refused when it does not fit the model.
  std::unique_ptr<Tokenizer> make_tok(const Engine& r) const { return make_tokenizer_for_model(tokenizer, r.vocab_size()); }
  uint32_t seed_value() const {
    if (seed >= 0) return uint32_t(seed & 0xffffffff);
    return std::random_device{}();
  }
};

}  // namespace rwkv::cli
