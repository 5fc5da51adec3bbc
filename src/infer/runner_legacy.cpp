// runner_legacy.cpp — Runners for RWKV-4 (v4), RWKV-5 (x050/x051/x052) and RWKV-6 (x060): thin
// wrappers of Rwkv4Model / Rwkv5Model / Rwkv6Model, whose forward works on the named state
// directly (state.{i}.att_x|att_aa|att_bb|att_pp|ffn_x for v4, state.{i}.att_x|wkv|ffn_x for v5/6).
#include "core/error.h"
#include "infer/runner.h"
#include "model/rwkv4.h"
#include "model/rwkv5.h"
#include "model/rwkv6.h"

namespace rwkv {
namespace {

template <class Model>
class LegacyRunner final : public Runner {
 public:
  explicit LegacyRunner(std::unique_ptr<Model> m) : m_(std::move(m)) {}
  const ModelConfig& config() const override { return m_->config(); }
  RunnerState zero_state() const override { return m_->zero_state(); }
  void forward(const int32_t* tokens, int64_t T, RunnerState& state, float* logits, bool all_logits) override {
    RWKV_CHECK(T >= 1, "forward of {} tokens", T);
    m_->forward(tokens, T, state, logits, all_logits);
  }

 private:
  std::unique_ptr<Model> m_;
};

template <class Model>
std::unique_ptr<Runner> wrap(StateDict sd, const ModelConfig& cfg, const std::string& source) {
  return std::make_unique<LegacyRunner<Model>>(Model::from_state_dict(std::move(sd), source, cfg));
}

}  // namespace

std::unique_ptr<Runner> make_legacy_runner(StateDict sd, const ModelConfig& cfg, const std::string& source) {
  switch (cfg.arch) {
    case Arch::RWKV4: return wrap<Rwkv4Model>(std::move(sd), cfg, source);
    case Arch::RWKV5:
    case Arch::RWKV5_1:
    case Arch::RWKV5_2: return wrap<Rwkv5Model>(std::move(sd), cfg, source);
    case Arch::RWKV6: return wrap<Rwkv6Model>(std::move(sd), cfg, source);
    default: fail("infer", "{}: architecture {} is not an RWKV-4/5/6 model", source, arch_name(cfg.arch));
  }
}

}  // namespace rwkv
