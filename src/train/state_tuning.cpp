// state_tuning.cpp — the frozen RWKV-7 with a trainable initial WKV state (see state_tuning.h).
#include "train/state_tuning.h"

#include <cstring>

#include <fmt/format.h>

#include "core/error.h"
#include "model/rwkv7_params.h"
#include "model/rwkv7_train.h"
#include "train/bptt.h"

namespace rwkv::train {

namespace {

class Rwkv7StateTunable final : public TrainModel {
 public:
  Rwkv7StateTunable(const StateDict& base, const std::string& source, const StateDict* start,
                    const std::string& start_source)
      : p_(Rwkv7Params::from_state_dict(base, source)) {
    const ModelConfig& c = p_.cfg;
    C_ = c.n_embd;
    HNN_ = int64_t(c.n_head) * c.head_size * c.head_size;
    S_ = rwkv7_state_floats(c);
    RWKV_CHECK(S_ == int64_t(c.n_layer) * (2 * C_ + HNN_), "state layout: {} floats per slot", S_);
    const Shape shape{c.n_head, c.head_size, c.head_size};
    for (int l = 0; l < c.n_layer; l++)
      slots_.push_back({fmt::format("blocks.{}.att.time_state", l), shape, size_t(l) * size_t(HNN_), size_t(HNN_)});
    state_.assign(size_t(c.n_layer) * size_t(HNN_), 0.f);
    grads_.assign(state_.size(), 0.f);
    if (start) {
      for (int l = 0; l < c.n_layer; l++) {
        const std::string key = fmt::format("state.{}.wkv", l);
        const Tensor* t = start->find(key);
        if (!t) fail("train", "{}: has no '{}' (not a state of this model?)", start_source, key);
        if (t->numel() != HNN_)
          fail("train", "{}: '{}' has shape {}, this model's WKV state is {}", start_source, key, shape_str(t->shape),
               shape_str(shape));
        std::vector<float> v = t->to_f32_vec();
        std::memcpy(state_.data() + size_t(l) * size_t(HNN_), v.data(), v.size() * sizeof(float));
      }
    }
  }
  const std::vector<ParamSlot>& slots() const override { return slots_; }
  size_t numel() const override { return state_.size(); }
  float* params() override { return state_.data(); }
  float* grads() override { return grads_.data(); }

  // Windows of ctx_len tokens as documents of one segment each.
  float forward_backward(const int32_t* tokens, int B, int T, bool grad_cp) override {
    return forward_backward_docs(tokens, B, T, nullptr, T, false, grad_cp);
  }

  float forward_backward_docs(const int32_t* tokens, int B, int T, const int32_t* lengths, int ctx_len,
                              bool truncated, bool grad_cp) override {
    const size_t BS = size_t(B) * size_t(S_);
    init_.assign(BS, 0.f);
    d_init_.resize(BS);
    for (int b = 0; b < B; b++)  // (B, S): the tuned WKV state in every slot, token-shift x zero
      for (int l = 0; l < p_.cfg.n_layer; l++)
        std::memcpy(init_.data() + size_t(b) * S_ + wkv_offset(l), state_.data() + size_t(l) * HNN_,
                    size_t(HNN_) * sizeof(float));
    BpttOptions o;
    o.ctx_len = ctx_len;
    o.truncated = truncated;
    o.grad_cp = grad_cp;
    o.init_state = init_.data();
    o.d_init_state = d_init_.data();
    // The model is frozen: the big matrices' gradients are skipped, the small ones' dropped.
    o.frozen_matrices = true;
    const double loss = rwkv7_bptt_forward_backward(p_, tokens, B, T, g_model_, bptt_, o, lengths).loss;
    std::fill(grads_.begin(), grads_.end(), 0.f);
    for (int b = 0; b < B; b++)  // every document starts from the same state: sum over b
      for (int l = 0; l < p_.cfg.n_layer; l++) {
        const float* d = d_init_.data() + size_t(b) * S_ + wkv_offset(l);
        float* g = grads_.data() + size_t(l) * HNN_;
        for (int64_t i = 0; i < HNN_; i++) g[i] += d[i];
      }
    return float(loss);
  }

  StateDict to_state_dict(DType) const override {
    StateDict sd;
    const ModelConfig& c = p_.cfg;
    for (int l = 0; l < c.n_layer; l++) {
      Tensor wkv = Tensor::empty(DType::F32, {c.n_head, c.head_size, c.head_size});
      std::memcpy(wkv.data, state_.data() + size_t(l) * HNN_, size_t(HNN_) * sizeof(float));
      sd.set(fmt::format("state.{}.att_x", l), Tensor::zeros(DType::F32, {C_}));
      sd.set(fmt::format("state.{}.wkv", l), wkv);
      sd.set(fmt::format("state.{}.ffn_x", l), Tensor::zeros(DType::F32, {C_}));
    }
    return sd;
  }

 private:
  // Offset of layer l's WKV state in one slot: att_x (C), wkv (H*N*N), ffn_x (C) per layer.
  size_t wkv_offset(int l) const { return size_t(l) * size_t(2 * C_ + HNN_) + size_t(C_); }

  Rwkv7Params p_, g_model_;
  int64_t C_ = 0, HNN_ = 0, S_ = 0;
  std::vector<float> state_, grads_;  // (L, H, N, N)
  std::vector<float> init_, d_init_;  // (B, S)
  BpttScratch bptt_;
  std::vector<ParamSlot> slots_;
};

}  // namespace

std::unique_ptr<TrainModel> rwkv7_state_tuning(const StateDict& base, const std::string& source,
                                               const StateDict* start, const std::string& start_source) {
  return std::make_unique<Rwkv7StateTunable>(base, source, start, start_source);
}

}  // namespace rwkv::train
