// engine.h — the one runtime every user of a model goes through (generate, chat, forward, state
// files, benchmarks; later serve and eval). An Engine is a loaded model of any version; it runs
// a batch of sequences in one call: every projection of the call's tokens is ONE matrix product
// (weights read once per call), the recurrence runs per sequence on its StatePool slot.
// Batch 1 x 1 token takes the GEMV decode path. Reentrant: a forward writes only the pool's
// slots of the batch and the caller's Workspace; loading changes no global setting.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/tensor.h"
#include "engine/batch.h"
#include "engine/state_pool.h"
#include "engine/strategy.h"
#include "engine/workspace.h"
#include "model/model.h"

namespace rwkv {

struct EngineOptions {
  // Convert floating-point weights at load (fp32 / bf16 / fp16). Unset: keep them as stored in
  // the file (zero-copy mmap where the file allows); compute is fp32 either way.
  std::optional<DType> dtype;
  // A pip-package strategy string (engine/strategy.h): per layer, the weights' float type or int8
  // ("i8", ops/mm8.h, quantized at load unless the file is already int8). Only cpu stages run; a
  // cuda / mps / dml stage is refused naming it. Not together with `dtype`.
  std::optional<Strategy> strategy;
  // Every row's numbers independent of the batch it rides in and of the thread count
  // (ops/row_invariant.h): a sequence gives bit-identical logits alone or among others, in any
  // chunking. Evaluation sets it; big batches run slower (no sgemm).
  bool row_invariant = false;
  ModelOptions model;  // what the file does not say (RWKV-2's K_EPS, ...)
};

class Engine {
 public:
  explicit Engine(std::unique_ptr<Model> m);
  // Any supported version from a .pth / .safetensors file (mmap) or a state dict. `source`
  // names the file in errors ("[model] <source>: ...").
  static std::unique_ptr<Engine> load(const std::string& path, const EngineOptions& opt = {});
  static std::unique_ptr<Engine> from_state_dict(StateDict sd, const std::string& source,
                                                 const EngineOptions& opt = {});

  const ModelConfig& config() const { return model_->config(); }
  int vocab_size() const { return config().vocab_size; }
  const StateLayout& state_layout() const { return model_->state_layout(); }
  bool row_invariant() const { return row_invariant_; }
  // Per layer (n_layer + 1, the last ln_out + head) where it runs and how its weights are kept;
  // empty unless loaded with a strategy.
  const std::vector<LayerPlacement>& placement() const { return placement_; }
  StatePool make_pool(int n_slots) const { return StatePool(state_layout(), n_slots, cpu_allocator(), id_); }

  // Runs every entry's tokens from its slot's state (updated in place). Logits land in `ws`
  // (ws.logits(i)). Checks first, changing nothing on error ("[engine] ..."): slots in the
  // pool and distinct, >= 1 token each, ids < vocab_size, the pool made for this model.
  void forward(std::span<const BatchEntry> batch, StatePool& pool, Workspace& ws) const;

 private:
  std::unique_ptr<Model> model_;
  bool row_invariant_ = false;
  std::vector<LayerPlacement> placement_;
  std::string id_;  // model identity (arch and sizes), given to the pools it makes
};

// The identity of a model as state files record it: arch, n_layer, n_embd, head_size, vocab.
std::map<std::string, std::string> model_identity(const ModelConfig& cfg);

// Applies EngineOptions::dtype to a state dict: every floating tensor becomes `dt` (tensors
// already in `dt` are kept as they are, zero-copy).
StateDict convert_float_tensors(StateDict sd, DType dt);

}  // namespace rwkv
