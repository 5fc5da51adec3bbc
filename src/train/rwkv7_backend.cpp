// rwkv7_backend.cpp — the RWKV-7 (x070) model as the trainer sees it: the official parameter
// names and shapes for the flags, the official init, and the forward/backward of
// model/rwkv7_train.h behind the TrainModel interface.
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "train/train_args.h"
#include "train/train_model.h"
#include "model/config.h"
#include "model/rwkv7_params.h"

// The forward/backward lands in stages; this switch turns the real backend on once
// model/rwkv7_train.cpp is in the library.
#define RWKV_TRAIN_HAVE_MODEL7 1
#if RWKV_TRAIN_HAVE_MODEL7
#include "model/rwkv7_train.h"
#include "train/bptt.h"
#include "train/state_tuning.h"
#endif
#define RWKV_TRAIN_HAVE_INIT 1
#if RWKV_TRAIN_HAVE_INIT
#include <random>

#include "model/init.h"
#endif

namespace rwkv::train {

namespace {

// The x070 table for the flags (model/rwkv7_params.h; LoRA ranks from model/config.h x070_config).
NamedShapes rwkv7_shapes(const TrainArgs& a) {
  NamedShapes v;
  for (auto& p : rwkv7_param_specs(x070_config(int(a.n_layer), int(a.n_embd), int(a.vocab_size), int(a.head_size))))
    v.push_back({p.name, p.shape});
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
    // Where each layer's gradients start in the flat buffer (official order: emb, blocks 0..L-1,
    // ln_out + head): layer_from_[l + 1] for the backward's layer l (-1 emb, L head).
    const int L = p_.cfg.n_layer;
    layer_from_.assign(size_t(L) + 2, 0);
    for (const ParamSlot& sl : slots_) {
      int l = -2;
      if (sl.name == "ln_out.weight") l = L;
      else if (sl.name.rfind("blocks.", 0) == 0 && sl.name.find(".ln1.weight") != std::string::npos)
        l = std::stoi(sl.name.substr(7));
      if (l >= 0) layer_from_[size_t(l) + 1] = sl.offset;
    }
  }
  const std::vector<ParamSlot>& slots() const override { return slots_; }
  size_t numel() const override { return p_.data.size(); }
  float* params() override { return p_.data.data(); }
  float* grads() override { return g_.data.data(); }
  float forward_backward(const int32_t* tokens, int B, int T, bool grad_cp) override {
    Rwkv7GradsReady ready;
    if (grads_ready_) ready = [this](int layer) { grads_ready_(layer_from_[size_t(layer + 1)]); };
    float loss = rwkv7_forward_backward(p_, tokens, B, T, g_, scratch_, grad_cp, 1e-4f, nullptr, ready);
    RWKV_CHECK(g_.data.size() == p_.data.size(), "gradient buffer has {} floats, params {}", g_.data.size(),
               p_.data.size());
    return loss;
  }
  float forward_backward_docs(const int32_t* tokens, int B, int T, const int32_t* lengths, int ctx_len,
                              bool truncated, bool grad_cp) override {
    BpttOptions o;
    o.ctx_len = ctx_len;
    o.truncated = truncated;
    o.grad_cp = grad_cp;
    return float(rwkv7_bptt_forward_backward(p_, tokens, B, T, g_, bptt_, o, lengths).loss);
  }
  StateDict to_state_dict(DType dt) const override { return p_.to_state_dict(dt); }
  size_t scratch_peak_bytes() const { return scratch_.peak_bytes(); }

 private:
  Rwkv7Params p_, g_;
  Rwkv7TrainScratch scratch_;
  BpttScratch bptt_;
  std::vector<ParamSlot> slots_;
  std::vector<size_t> layer_from_;
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
  b.build_state = [](const StateDict& sd, const TrainArgs& a, const StateDict* start,
                     const std::string& start_source) { return rwkv7_state_tuning(sd, a.load_model, start, start_source); };
#else
  b.build = [](const StateDict&, const TrainArgs&) -> std::unique_ptr<TrainModel> {
    fail("train", "the RWKV-7 forward/backward (model/rwkv7_train.h) is not in this build yet");
  };
#endif
  return b;
}

}  // namespace rwkv::train
