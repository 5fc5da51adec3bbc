// runner.h — one sequence at a time with the state as named tensors: a thin wrapper of the
// Engine for tools and tests that hold states by name (`rwkv forward`, fixture comparisons).
// Everything runs through Engine::forward on a one-slot StatePool.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "engine/engine.h"

namespace rwkv {

// The recurrent state of ONE sequence: named fp32 tensors without a batch dimension, in the
// model's StateLayout order (e.g. RWKV-7 per layer i: "state.{i}.att_x" (C), "state.{i}.wkv"
// (H, N, N) [head, value i, key j], "state.{i}.ffn_x" (C)).
using RunnerState = StateDict;

class Runner {
 public:
  explicit Runner(std::unique_ptr<Engine> e);
  const Engine& engine() const { return *e_; }
  const ModelConfig& config() const { return e_->config(); }
  int vocab_size() const { return config().vocab_size; }

  RunnerState zero_state() const;  // the fresh state
  // Feeds tokens[0..T) (T >= 1) from `state` (updated; names and shapes as zero_state()).
  // logits: (T, V) when all_logits, else (V,) for the last token; may be null.
  void forward(const int32_t* tokens, int64_t T, RunnerState& state, float* logits, bool all_logits);

 private:
  std::unique_ptr<Engine> e_;
  StatePool pool_;
  Workspace ws_;
};

std::unique_ptr<Runner> make_runner(StateDict sd, const std::string& source, const EngineOptions& opt = {});
std::unique_ptr<Runner> load_runner(const std::string& path, const EngineOptions& opt = {});

// Deep copy of a state (RunnerState tensors share memory on plain copy).
RunnerState clone_state(const RunnerState& s);

}  // namespace rwkv
