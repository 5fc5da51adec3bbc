// runner.h — the architecture-independent model interface used by generation, chat, state files
// and `rwkv forward`: a Runner feeds tokens through one loaded model with a named recurrent state.
// RWKV-7 is implemented in runner_rwkv7.cpp; RWKV-4/5/6 plug in by implementing Runner and
// adding one case to make_runner() in runner.cpp.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/tensor.h"
#include "model/config.h"

namespace rwkv {

struct RunnerOptions {
  // Convert floating-point weights at load (fp32 / bf16 / fp16). Unset: keep them as stored
  // in the file (zero-copy mmap where the file allows); compute is fp32 either way.
  std::optional<DType> dtype;
  int threads = 0;  // <= 0: leave the current thread setting alone
};

// The recurrent state of ONE sequence: named fp32 tensors without a batch dimension, in a
// fixed order. RWKV-7 (x070), per layer i:
//   "state.{i}.att_x" (C)       last input of the time mix (token shift)
//   "state.{i}.wkv"   (H, N, N) WKV state [head, value i, key j]
//   "state.{i}.ffn_x" (C)       last input of the channel mix
// Other architectures choose their own names ("state.{i}.<what>") and shapes; generic code
// (state files, chat /save /load) only copies tensors by name, checking shapes.
using RunnerState = StateDict;

class Runner {
 public:
  virtual ~Runner() = default;
  virtual const ModelConfig& config() const = 0;
  int vocab_size() const { return config().vocab_size; }

  // A fresh all-zero state (what the model starts from before its first token).
  virtual RunnerState zero_state() const = 0;

  // Feeds tokens[0..T) (T >= 1) starting from `state`, which is updated in place and must have
  // zero_state()'s names and shapes. logits: (T, V) when all_logits, else (V,) for the last
  // token; may be null (prefill only). Token ids must be < vocab_size ("[infer] ..." otherwise).
  virtual void forward(const int32_t* tokens, int64_t T, RunnerState& state, float* logits,
                       bool all_logits) = 0;
};

// Builds the runner for a state dict (architecture from detect_config). `source` names the
// file in errors. Throws "[infer] <source>: architecture ... is not supported" for an
// architecture without a runner.
std::unique_ptr<Runner> make_runner(StateDict sd, const std::string& source,
                                    const RunnerOptions& opt = {});
// Loads a .pth / .safetensors model file (mmap) and builds its runner.
std::unique_ptr<Runner> load_runner(const std::string& path, const RunnerOptions& opt = {});

// Applies RunnerOptions::dtype to a state dict: every floating tensor becomes `dt`
// (tensors already in `dt` are kept as they are, zero-copy).
StateDict convert_float_tensors(StateDict sd, DType dt);

// Deep copy of a state (RunnerState tensors share memory on plain copy).
RunnerState clone_state(const RunnerState& s);

// The identity of a model as state files record it: arch, n_layer, n_embd, head_size, vocab.
std::map<std::string, std::string> model_identity(const ModelConfig& cfg);

}  // namespace rwkv

namespace rwkv {
// Per-architecture constructors that make_runner dispatches to (cfg from detect_config).
std::unique_ptr<Runner> make_rwkv7_runner(StateDict sd, const ModelConfig& cfg, const std::string& source);
// RWKV-4 / 5.x / 6.0 (runner_legacy.cpp).
std::unique_ptr<Runner> make_legacy_runner(StateDict sd, const ModelConfig& cfg, const std::string& source);
}  // namespace rwkv
