// engine.cpp — loading, batch checks, and the forward: a call's entries are packed into passes
// of at most ws.max_rows() rows (an entry longer than what is left of a pass continues in the
// next one, its state carried), each pass one Model::forward over the ragged batch.
#include "engine/engine.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "core/error.h"
#include "engine/weight_placement.h"
#include "io/model_file.h"
#include "model/config.h"
#include "ops/cuda_info.h"
#include "ops/row_invariant.h"

namespace rwkv {

StateDict convert_float_tensors(StateDict sd, DType dt) {
  const StateDict plain = without_mm8_companions(sd);  // int8 scales stay fp32 (model/weights.h)
  for (auto& [name, t] : sd.items)
    if (is_float(t.dtype) && t.dtype != dt && plain.has(name)) t = t.to(dt);
  return sd;
}

std::map<std::string, std::string> model_identity(const ModelConfig& cfg) {
  return {{"arch", arch_name(cfg.arch)},
          {"n_layer", std::to_string(cfg.n_layer)},
          {"n_embd", std::to_string(cfg.n_embd)},
          {"head_size", std::to_string(cfg.head_size)},
          {"vocab_size", std::to_string(cfg.vocab_size)}};
}

Engine::Engine(std::unique_ptr<Model> m) : model_(std::move(m)) {
  RWKV_CHECK(model_ != nullptr, "Engine without a model");
  for (auto& [k, v] : model_identity(config())) id_ += k + "=" + v + " ";
}

// Every stage of a strategy must be one this engine runs: cpu. The error names the stage.
static void check_strategy_devices(const Strategy& s) {
  for (size_t i = 0; i < s.stages.size(); i++) {
    const StrategyStage& st = s.stages[i];
    if (st.device == "cpu") continue;
    std::string why;
    if (st.device.rfind("cuda", 0) == 0)
      why = !cuda_compiled()           ? "this build has no CUDA backend (nvcc was not found when it was built)"
            : cuda_device_count() == 0 ? "no CUDA device is visible"
                                       : "the engine runs models on the CPU only so far";
    else
      why = "device '" + st.device + "' is not supported (cpu; cuda later)";
    fail("engine", "strategy '{}': stage {} '{}' cannot run: {}; use a cpu stage", s.text, i + 1, st.text, why);
  }
}

std::unique_ptr<Engine> Engine::from_state_dict(StateDict sd, const std::string& source, const EngineOptions& opt) {
  std::vector<LayerPlacement> placement;
  if (opt.strategy) {
    if (opt.dtype) fail("engine", "{}: give either a dtype or a strategy, not both", source);
    check_strategy_devices(*opt.strategy);
    const ModelConfig cfg = detect_config(without_mm8_companions(sd), source);
    placement = opt.strategy->plan(cfg.n_layer);
    for (const LayerPlacement& p : placement)
      if (p.quantized() && cfg.arch == Arch::RWKV2)
        fail("engine", "{}: int8 and q4 weights are for RWKV-4, 5, 6 and 7; this is an {} model (use fp32/bf16/fp16)", source,
             arch_name(cfg.arch));
    sd = place_weights(std::move(sd), placement, source);
  }
  if (opt.dtype) {
    DType dt = *opt.dtype;
    if (dt != DType::F32 && dt != DType::BF16 && dt != DType::F16)
      fail("engine", "{}: --dtype must be fp32, bf16 or fp16, got {}", source, dtype_name(dt));
    sd = convert_float_tensors(std::move(sd), dt);
  }
  auto e = std::make_unique<Engine>(make_model(std::move(sd), source, opt.model));
  e->row_invariant_ = opt.row_invariant;
  e->placement_ = std::move(placement);
  return e;
}

std::unique_ptr<Engine> Engine::load(const std::string& path, const EngineOptions& opt) {
  return from_state_dict(load_model_file(path), path, opt);
}

void Engine::forward(std::span<const BatchEntry> batch, StatePool& pool, Workspace& ws) const {
  const StateLayout& lay = state_layout();
  const int V = vocab_size();
  const int n = int(batch.size());
  if (pool.owner() != id_ || pool.slot_floats() != lay.floats)
    fail("engine", "the state pool was made for another model ({}), this model is {}",
         pool.owner().empty() ? "unnamed" : pool.owner(), id_);
  // ---- checks (nothing changes on error) and the logits layout ----
  ws.first_row_.assign(n, 0);
  ws.rows_.assign(n, 0);
  int64_t R = 0;
  std::vector<int> slots(n);
  for (int i = 0; i < n; i++) {
    const BatchEntry& e = batch[i];
    if (e.tokens.empty()) fail("engine", "batch entry {} (slot {}) has no tokens", i, e.slot);
    if (e.slot < 0 || e.slot >= pool.size())
      fail("engine", "batch entry {} names slot {}, the pool has slots 0..{}", i, e.slot, pool.size() - 1);
    for (size_t t = 0; t < e.tokens.size(); t++)
      if (e.tokens[t] < 0 || e.tokens[t] >= V)
        fail("engine", "token id {} (entry {}, position {}) is outside the model's vocabulary [0, {})", e.tokens[t], i,
             t, V);
    slots[i] = e.slot;
    ws.first_row_[i] = R;
    ws.rows_[i] = e.logits == Logits::All ? int64_t(e.tokens.size()) : e.logits == Logits::Last ? 1 : 0;
    R += ws.rows_[i];
  }
  std::sort(slots.begin(), slots.end());
  for (int i = 1; i < n; i++)
    if (slots[i] == slots[i - 1]) fail("engine", "slot {} appears twice in one batch", slots[i]);
  ws.V_ = V;
  const size_t need = size_t(R) * V * sizeof(float);
  if (ws.logits_.bytes() < need) ws.logits_ = Buffer(*ws.alloc_, need);
  float* logits = ws.logits_.as<float>();

  // ---- passes of at most max_rows rows ----
  const RowInvariantScope row_invariant(row_invariant_);
  const int64_t cap = ws.max_rows();
  ws.done_.assign(n, 0);
  std::vector<SeqRun>& runs = ws.runs_;
  int first = 0;  // first entry with tokens left
  while (first < n) {
    ws.arena_.reset();
    ws.tokens_.clear();
    ws.logit_rows_.clear();
    ws.logit_dest_.clear();
    runs.clear();
    int64_t M = 0;
    for (int i = first; i < n && M < cap; i++) {
      const BatchEntry& e = batch[i];
      const int64_t len = int64_t(e.tokens.size()), k = std::min(len - ws.done_[i], cap - M);
      if (k <= 0) continue;
      const int64_t t0 = ws.done_[i];
      ws.tokens_.insert(ws.tokens_.end(), e.tokens.begin() + t0, e.tokens.begin() + t0 + k);
      runs.push_back({M, k, pool.slot(e.slot)});
      if (e.logits == Logits::All) {
        for (int64_t t = 0; t < k; t++) {
          ws.logit_rows_.push_back(M + t);
          ws.logit_dest_.push_back(ws.first_row_[i] + t0 + t);
        }
      } else if (e.logits == Logits::Last && t0 + k == len) {
        ws.logit_rows_.push_back(M + k - 1);
        ws.logit_dest_.push_back(ws.first_row_[i]);
      }
      ws.done_[i] += k;
      M += k;
    }
    while (first < n && ws.done_[first] == int64_t(batch[first].tokens.size())) first++;
    // Logits straight into place when this pass's rows land contiguously (the usual case),
    // else through scratch.
    const int64_t Rp = int64_t(ws.logit_rows_.size());
    bool direct = true;
    for (int64_t r = 1; r < Rp && direct; r++) direct = ws.logit_dest_[r] == ws.logit_dest_[0] + r;
    float* out = Rp == 0 ? nullptr : direct ? logits + ws.logit_dest_[0] * V : ws.arena_.floats(size_t(Rp) * V);
    ModelBatch mb;
    mb.tokens = ws.tokens_.data();
    mb.M = M;
    mb.runs = runs;
    mb.logit_rows = ws.logit_rows_.data();
    mb.R = Rp;
    mb.logits = out;
    model_->forward(mb, ws.arena_);
    if (!direct)
      for (int64_t r = 0; r < Rp; r++)
        std::memcpy(logits + ws.logit_dest_[r] * V, out + r * V, sizeof(float) * V);
  }
}

}  // namespace rwkv
