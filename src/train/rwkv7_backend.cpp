// rwkv7_backend.cpp — the RWKV-7 (x070) model as the trainer sees it: the official parameter
// names and shapes for the flags, the official init, and the forward/backward of
// model/rwkv7_train.h behind the TrainModel interface.
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "train/train_args.h"
#include "train/train_model.h"

// The forward/backward lands in stages; this switch turns the real backend on once
// model/rwkv7_train.cpp is in the library.
#define RWKV_TRAIN_HAVE_MODEL7 1
#if RWKV_TRAIN_HAVE_MODEL7
#include "model/rwkv7_train.h"
#endif
#define RWKV_TRAIN_HAVE_INIT 1
#if RWKV_TRAIN_HAVE_INIT
#include <random>

#include "model/init.h"
#endif

namespace rwkv::train {

namespace {

// LoRA rank as model.py suggests: max(32, int(round(k*sqrt(C)/32)*32)) (round half to even).
int64_t lora_dim(double k, int64_t C) {
  double r = std::nearbyint(k * std::sqrt(double(C)) / 32.0);
  return std::max<int64_t>(32, int64_t(r * 32));
}

NamedShapes rwkv7_shapes(const TrainArgs& a) {
  const int64_t C = a.n_embd, V = a.vocab_size, N = a.head_size, H = a.dim_att / a.head_size, F = 4 * a.n_embd;
  const int64_t Dw = lora_dim(2.5, C), Da = lora_dim(2.5, C), Dv = lora_dim(1.7, C), Dg = lora_dim(5, C);
  NamedShapes v;
  v.push_back({"emb.weight", {V, C}});
  for (int64_t l = 0; l < a.n_layer; l++) {
    std::string b = fmt::format("blocks.{}.", l);
    for (const char* ln : {"ln1", "ln2"}) {
      v.push_back({b + ln + ".weight", {C}});
      v.push_back({b + ln + ".bias", {C}});
    }
    if (l == 0) {
      v.push_back({b + "ln0.weight", {C}});
      v.push_back({b + "ln0.bias", {C}});
    }
    for (const char* x : {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"}) v.push_back({b + "att." + x, {1, 1, C}});
    auto lora = [&](const char* n, int64_t D) {
      v.push_back({b + "att." + n + "1", {C, D}});
      v.push_back({b + "att." + n + "2", {D, C}});
      if (n[0] != 'g') v.push_back({b + "att." + n + "0", {1, 1, C}});
    };
    lora("w", Dw);
    lora("a", Da);
    lora("v", Dv);
    lora("g", Dg);
    v.push_back({b + "att.k_k", {1, 1, C}});
    v.push_back({b + "att.k_a", {1, 1, C}});
    v.push_back({b + "att.r_k", {H, N}});
    for (const char* w : {"receptance", "key", "value", "output"}) v.push_back({b + "att." + w + ".weight", {C, C}});
    v.push_back({b + "att.ln_x.weight", {C}});
    v.push_back({b + "att.ln_x.bias", {C}});
    v.push_back({b + "ffn.x_k", {1, 1, C}});
    v.push_back({b + "ffn.key.weight", {F, C}});
    v.push_back({b + "ffn.value.weight", {C, F}});
  }
  v.push_back({"ln_out.weight", {C}});
  v.push_back({"ln_out.bias", {C}});
  v.push_back({"head.weight", {V, C}});
  return v;
}

#if RWKV_TRAIN_HAVE_MODEL7
// Rwkv7Params (one flat fp32 buffer, official order) behind the TrainModel interface; the
// gradients use the same layout, so ParamSlot offsets serve both.
class Rwkv7Trainable final : public TrainModel {
 public:
  Rwkv7Trainable(const StateDict& sd, const std::string& source)
      : p_(Rwkv7Params::from_state_dict(sd, source)), g_(Rwkv7Params::zeros(p_.cfg)) {
    size_t off = 0;
    for (auto& s : rwkv7_param_specs(p_.cfg)) {
      size_t n = size_t(shape_numel(s.shape));
      slots_.push_back({s.name, s.shape, off, n});
      off += n;
    }
    RWKV_CHECK(off == p_.data.size(), "param specs cover {} of {} floats", off, p_.data.size());
  }
  const std::vector<ParamSlot>& slots() const override { return slots_; }
  size_t numel() const override { return p_.data.size(); }
  float* params() override { return p_.data.data(); }
  float* grads() override { return g_.data.data(); }
  float forward_backward(const int32_t* tokens, int B, int T, bool grad_cp) override {
    float loss = rwkv7_forward_backward(p_, tokens, B, T, g_, scratch_, grad_cp);
    RWKV_CHECK(g_.data.size() == p_.data.size(), "gradient buffer has {} floats, params {}", g_.data.size(),
               p_.data.size());
    return loss;
  }
  StateDict to_state_dict(DType dt) const override { return p_.to_state_dict(dt); }
  size_t scratch_peak_bytes() const { return scratch_.peak_bytes(); }

 private:
  Rwkv7Params p_, g_;
  Rwkv7TrainScratch scratch_;
  std::vector<ParamSlot> slots_;
};
#endif

}  // namespace

ModelBackend rwkv7_backend() {
  ModelBackend b;
  b.name = "x070";
  b.shapes = rwkv7_shapes;
#if RWKV_TRAIN_HAVE_INIT
  b.init = [](const TrainArgs& a) -> StateDict {
    // train.py without --random_seed gives a different init each run; the seed is printed.
    uint64_t seed = a.random_seed >= 0 ? uint64_t(a.random_seed) : (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
    fmt::print("Init model weight (seed {})...\n", seed);
    ModelConfig cfg = x070_config(int(a.n_layer), int(a.n_embd), int(a.vocab_size), int(a.head_size));
    return x070_init(cfg, seed, DType::F32);
  };
#else
  b.init = [](const TrainArgs&) -> StateDict {
    fail("train", "the official RWKV-7 init (model/init.h) is not in this build yet; pass --load_model");
  };
#endif
#if RWKV_TRAIN_HAVE_MODEL7
  b.build = [](const StateDict& sd, const TrainArgs& a) -> std::unique_ptr<TrainModel> {
    return std::make_unique<Rwkv7Trainable>(sd, a.load_model);
  };
#else
  b.build = [](const StateDict&, const TrainArgs&) -> std::unique_ptr<TrainModel> {
    fail("train", "the RWKV-7 forward/backward (model/rwkv7_train.h) is not in this build yet");
  };
#endif
  return b;
}

}  // namespace rwkv::train
