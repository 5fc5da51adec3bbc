// rwkv56_backend.cpp — RWKV-5.2 (x052) and RWKV-6 (x060) as the trainer sees them (RWKV-LM
// RWKV-v5/train.py --my_testing x052 / x060): the official names and shapes for the flags, the
// official init, and the forward/backward of model/rwkv56_train.h behind TrainModel. The loop,
// optimizer (groups from model/param_table.h) and schedule are the shared ones of trainer.cpp.
#include <random>

#include <fmt/format.h>

#include "core/error.h"
#include "model/init.h"
#include "model/rwkv56_train.h"
#include "train/train_args.h"
#include "train/train_model.h"

namespace rwkv::train {

namespace {

ModelConfig config_of(Arch arch, const TrainArgs& a) {
  return rwkv56_config(arch, int(a.n_layer), int(a.n_embd), int(a.vocab_size), int(a.head_size), int(a.dim_att),
                       int(a.dim_ffn));
}

class Rwkv56Trainable final : public TrainModel {
 public:
  Rwkv56Trainable(const StateDict& sd, const ModelConfig& cfg, int divisor, const std::string& source)
      : p_(Rwkv56Params::from_state_dict(sd, cfg, divisor, source)), g_(Rwkv56Params::zeros(cfg, divisor)) {
    for (size_t i = 0; i < p_.table.size(); i++)
      slots_.push_back({p_.table[i].name, p_.table[i].shape, p_.offsets[i], size_t(shape_numel(p_.table[i].shape))});
  }
  const std::vector<ParamSlot>& slots() const override { return slots_; }
  size_t numel() const override { return p_.data.size(); }
  float* params() override { return p_.data.data(); }
  float* grads() override { return g_.data.data(); }
  // grad_cp changes nothing here (every activation is kept; the gradients are the same).
  float forward_backward(const int32_t* tokens, int B, int T, bool) override {
    return rwkv56_forward_backward(p_, tokens, B, T, g_, scratch_);
  }
  StateDict to_state_dict(DType dt) const override { return p_.to_state_dict(dt); }

 private:
  Rwkv56Params p_, g_;
  Rwkv56TrainScratch scratch_;
  std::vector<ParamSlot> slots_;
};

}  // namespace

ModelBackend rwkv56_backend(Arch arch) {
  RWKV_CHECK(arch == Arch::RWKV5_2 || arch == Arch::RWKV6, "rwkv56_backend: {}", arch_name(arch));
  ModelBackend b;
  b.name = arch_name(arch);
  b.shapes = [arch](const TrainArgs& a) {
    NamedShapes v;
    for (auto& s : rwkv56_param_table(config_of(arch, a))) v.push_back({s.name, s.shape});
    return v;
  };
  b.init = [arch](const TrainArgs& a) -> StateDict {
    uint64_t seed = a.random_seed >= 0 ? uint64_t(a.random_seed)
                                       : (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
    fmt::print("Init model weight (seed {})...\n", seed);
    return rwkv56_init(config_of(arch, a), seed, DType::F32);
  };
  b.build = [arch](const StateDict& sd, const TrainArgs& a) -> std::unique_ptr<TrainModel> {
    return std::make_unique<Rwkv56Trainable>(sd, config_of(arch, a), int(a.head_size_divisor), a.load_model);
  };
  return b;
}

ModelBackend backend_for(const TrainArgs& a) {
  if (a.my_testing.find("x060") != std::string::npos) return rwkv56_backend(Arch::RWKV6);
  if (a.my_testing.find("x052") != std::string::npos) return rwkv56_backend(Arch::RWKV5_2);
  return rwkv7_backend();
}

}  // namespace rwkv::train
