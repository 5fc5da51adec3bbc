// train_toy_model.h — a tiny trainable model for the trainer-loop tests (runs in milliseconds):
// logits[t] = head.weight · (emb.weight[x_t] + ln_out.bias), mean cross-entropy with the L2Wrap
// gradient, explicit backward. It has the official tensor names so groups/checkpoints behave
// as with RWKV-7.
#pragma once
#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "train/train_args.h"
#include "train/train_model.h"

namespace rwkv::test {

class ToyModel : public train::TrainModel {
 public:
  ToyModel(const StateDict& sd, int V, int C) : V_(V), C_(C) {
    size_t off = 0;
    for (auto& [name, shape] : shapes(V, C)) {
      size_t n = size_t(shape_numel(shape));
      slots_.push_back({name, shape, off, n});
      off += n;
    }
    p_.resize(off);
    g_.resize(off);
    for (auto& s : slots_) {
      auto v = sd.at(s.name).to_f32_vec();
      RWKV_CHECK(v.size() == s.numel, "toy: {}", s.name);
      std::memcpy(p_.data() + s.offset, v.data(), v.size() * 4);
    }
  }
  static train::NamedShapes shapes(int64_t V, int64_t C) {
    return {{"emb.weight", {V, C}}, {"ln_out.bias", {C}}, {"head.weight", {V, C}}};
  }
  static StateDict init(int64_t V, int64_t C, uint32_t seed) {
    StateDict sd;
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 0.1f);
    for (auto& [name, shape] : shapes(V, C)) {
      Tensor t = Tensor::zeros(DType::F32, shape);
      for (int64_t i = 0; i < t.numel(); i++) t.ptr<float>()[i] = nd(rng);
      sd.set(name, t);
    }
    return sd;
  }
  const std::vector<train::ParamSlot>& slots() const override { return slots_; }
  size_t numel() const override { return p_.size(); }
  float* params() override { return p_.data(); }
  float* grads() override { return g_.data(); }
  float forward_backward(const int32_t* tok, int B, int T, bool) override {
    std::fill(g_.begin(), g_.end(), 0.f);
    const float* emb = p_.data() + slots_[0].offset;
    const float* bias = p_.data() + slots_[1].offset;
    const float* head = p_.data() + slots_[2].offset;
    float* gemb = g_.data() + slots_[0].offset;
    float* gbias = g_.data() + slots_[1].offset;
    float* ghead = g_.data() + slots_[2].offset;
    std::vector<float> h(C_), logit(V_), dh(C_);
    double loss = 0;
    const float inv = 1.f / float(B * T);
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        int x = tok[b * (T + 1) + t], y = tok[b * (T + 1) + t + 1];
        for (int c = 0; c < C_; c++) h[c] = emb[x * C_ + c] + bias[c];
        float mx = -1e30f;
        int am = 0;
        for (int v = 0; v < V_; v++) {
          float s = 0;
          for (int c = 0; c < C_; c++) s += head[v * C_ + c] * h[c];
          logit[v] = s;
          if (s > mx) mx = s, am = v;
        }
        double z = 0;
        for (int v = 0; v < V_; v++) z += std::exp(double(logit[v] - mx));
        loss += std::log(z) + mx - logit[y];
        std::fill(dh.begin(), dh.end(), 0.f);
        for (int v = 0; v < V_; v++) {
          float d = float(std::exp(double(logit[v] - mx)) / z) * inv - (v == y ? inv : 0.f);
          if (v == am) d += 1e-4f * inv * mx;  // L2Wrap
          for (int c = 0; c < C_; c++) {
            ghead[v * C_ + c] += d * h[c];
            dh[c] += d * head[v * C_ + c];
          }
        }
        for (int c = 0; c < C_; c++) gemb[x * C_ + c] += dh[c], gbias[c] += dh[c];
      }
    return float(loss / (B * T));
  }
  StateDict to_state_dict(DType dt) const override {
    StateDict sd;
    for (auto& s : slots_) {
      Tensor t = Tensor::empty(DType::F32, s.shape);
      std::memcpy(t.data, p_.data() + s.offset, s.numel * 4);
      sd.set(s.name, t.to(dt));
    }
    return sd;
  }

 private:
  int V_, C_;
  std::vector<train::ParamSlot> slots_;
  std::vector<float> p_, g_;
};

inline train::ModelBackend toy_backend() {
  train::ModelBackend b;
  b.name = "toy";
  b.shapes = [](const train::TrainArgs& a) { return ToyModel::shapes(a.vocab_size, a.n_embd); };
  b.init = [](const train::TrainArgs& a) {
    return ToyModel::init(a.vocab_size, a.n_embd, a.random_seed < 0 ? 42u : uint32_t(a.random_seed));
  };
  b.build = [](const StateDict& sd, const train::TrainArgs& a) -> std::unique_ptr<train::TrainModel> {
    return std::make_unique<ToyModel>(sd, int(a.vocab_size), int(a.n_embd));
  };
  return b;
}

}  // namespace rwkv::test
