// runner.cpp — see runner.h.
#include "infer/runner.h"

#include <cstring>

#include "core/error.h"

namespace rwkv {

Runner::Runner(std::unique_ptr<Engine> e) : e_(std::move(e)), pool_(e_->make_pool(1)) {}

RunnerState Runner::zero_state() const {
  StatePool fresh = e_->make_pool(1);
  return fresh.to_state_dict(0);
}

void Runner::forward(const int32_t* tokens, int64_t T, RunnerState& state, float* logits, bool all_logits) {
  RWKV_CHECK(T >= 1, "forward of {} tokens", T);
  pool_.from_state_dict(0, state, "state");
  BatchEntry b{0, {tokens, size_t(T)}, logits ? (all_logits ? Logits::All : Logits::Last) : Logits::None};
  e_->forward({&b, 1}, pool_, ws_);
  const float* s = pool_.slot(0);
  for (const StatePart& p : pool_.layout().parts)
    std::memcpy(state.at(p.name).data, s + p.offset, sizeof(float) * p.numel);
  if (logits) std::memcpy(logits, ws_.logits(0), sizeof(float) * ws_.logits_rows(0) * vocab_size());
}

std::unique_ptr<Runner> make_runner(StateDict sd, const std::string& source, const EngineOptions& opt) {
  return std::make_unique<Runner>(Engine::from_state_dict(std::move(sd), source, opt));
}

std::unique_ptr<Runner> load_runner(const std::string& path, const EngineOptions& opt) {
  return std::make_unique<Runner>(Engine::load(path, opt));
}

RunnerState clone_state(const RunnerState& s) {
  RunnerState r;
  for (auto& [name, t] : s.items) r.items.emplace_back(name, t.clone());
  return r;
}

}  // namespace rwkv
