// runner_rwkv7.cpp — the Runner for RWKV-7 (x070): wraps Rwkv7Model / rwkv7_forward and maps
// Rwkv7State to the named per-layer state tensors "state.{i}.att_x|wkv|ffn_x".
#include "core/error.h"
#include "infer/runner.h"
#include "model/rwkv7.h"
#include "model/rwkv7_block.h"

namespace rwkv {
namespace {

class Rwkv7Runner final : public Runner {
 public:
  Rwkv7Runner(StateDict sd, const std::string& source) : m_(Rwkv7Model::from_state_dict(std::move(sd), source)) {}

  const ModelConfig& config() const override { return m_.cfg; }

  RunnerState zero_state() const override {
    const ModelConfig& c = m_.cfg;
    RunnerState s;
    for (int i = 0; i < c.n_layer; i++) {
      s.items.emplace_back(fmt::format("state.{}.att_x", i), Tensor::zeros(DType::F32, {c.n_embd}));
      s.items.emplace_back(fmt::format("state.{}.wkv", i),
                           Tensor::zeros(DType::F32, {c.n_head, c.head_size, c.head_size}));
      s.items.emplace_back(fmt::format("state.{}.ffn_x", i), Tensor::zeros(DType::F32, {c.n_embd}));
    }
    return s;
  }

  void forward(const int32_t* tokens, int64_t T, RunnerState& state, float* logits, bool all_logits) override {
    const ModelConfig& c = m_.cfg;
    RWKV_CHECK(T >= 1, "forward of {} tokens", T);
    for (int64_t t = 0; t < T; t++)
      if (tokens[t] < 0 || tokens[t] >= c.vocab_size)
        fail("infer", "token id {} is outside the model's vocabulary [0, {})", tokens[t], c.vocab_size);
    if (int(state.size()) != 3 * c.n_layer) fail("infer", "state has {} tensors, the model needs {}", state.size(), 3 * c.n_layer);
    const size_t C = c.n_embd, HNN = size_t(c.n_head) * c.head_size * c.head_size;
    views_.resize(c.n_layer);
    for (int i = 0; i < c.n_layer; i++)  // the model reads and writes the state tensors in place
      views_[i] = {part(state, 3 * i, C), part(state, 3 * i + 1, HNN), part(state, 3 * i + 2, C)};
    rwkv7_forward(m_, tokens, T, views_.data(), logits, all_logits);
  }

  const Rwkv7Model& model() const { return m_; }

 private:
  static float* part(RunnerState& s, size_t k, size_t numel) {
    Tensor& t = s.items[k].second;
    if (t.dtype != DType::F32 || size_t(t.numel()) != numel)
      fail("infer", "state tensor '{}' is {} {}, expected fp32 with {} elements", s.items[k].first,
           dtype_name(t.dtype), shape_str(t.shape), numel);
    return t.ptr<float>();
  }
  Rwkv7Model m_;
  std::vector<Rwkv7LayerStateView> views_;
};

}  // namespace

std::unique_ptr<Runner> make_rwkv7_runner(StateDict sd, const ModelConfig& cfg, const std::string& source) {
  return std::make_unique<Rwkv7Runner>(std::move(sd), source);
}

}  // namespace rwkv
