// train_model.h — what the trainer loop needs from a model: a flat fp32 parameter buffer split
// into named tensors (official order), its gradient buffer, one forward+backward over a batch,
// and a state dict for checkpoints. RWKV-7 (rwkv7_backend) is the real one; tests plug in toys.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"
#include "train/adamw.h"

namespace rwkv::train {

struct TrainArgs;

struct TrainModel {
  virtual ~TrainModel() = default;
  virtual const std::vector<ParamSlot>& slots() const = 0;
  virtual size_t numel() const = 0;
  virtual float* params() = 0;
  virtual float* grads() = 0;
  // tokens: (B, T+1), inputs [:, :T], targets [:, 1:]. Overwrites grads() with d(loss)/d(params)
  // (mean cross-entropy with the L2Wrap gradient) and returns the mean loss.
  virtual float forward_backward(const int32_t* tokens, int B, int T, bool grad_cp) = 0;
  // --train_type infctx: tokens (B, T+1) of B whole documents, lengths (B) targets of each (the
  // rest padding); BPTT over segments of ctx_len. Overwrites grads() with the gradient of the
  // mean over the real tokens; returns that mean. Default: "[train] ... not supported".
  virtual float forward_backward_docs(const int32_t* tokens, int B, int T, const int32_t* lengths,
                                      int ctx_len, bool truncated, bool grad_cp);
  virtual StateDict to_state_dict(DType dtype) const = 0;

  // Data-parallel overlap (train/data_parallel.h): forward_backward() calls h(from) each time the
  // backward has finished grads()[from, numel()) (from decreasing, layer by layer from the head;
  // nothing reported is written again in that call). A model that never calls it is fine: the
  // trainer then sends the whole gradient after the backward. Empty h: no calls.
  void set_grads_ready(std::function<void(size_t from)> h) { grads_ready_ = std::move(h); }

 protected:
  std::function<void(size_t from)> grads_ready_;
};

using NamedShapes = std::vector<std::pair<std::string, Shape>>;

struct ModelBackend {
  std::string name;
  // Parameter names and shapes the flags describe (official order).
  std::function<NamedShapes(const TrainArgs&)> shapes;
  // The official initial weights for the flags (train_stage 1, no --load_model, --load_partial).
  std::function<StateDict(const TrainArgs&)> init;
  // Builds the trainable model from a state dict already checked against shapes().
  std::function<std::unique_ptr<TrainModel>(const StateDict&, const TrainArgs&)> build;
  // --train_type state: the frozen model (sd, checked against shapes()) with a trainable initial
  // state, starting from `start` (state-file tensors; null: zeros). Null: not supported.
  std::function<std::unique_ptr<TrainModel>(const StateDict& sd, const TrainArgs&, const StateDict* start,
                                            const std::string& start_source)>
      build_state;
};

// RWKV-7 x070 (src/model/rwkv7_train.h). Throws "[train] ..." if the backward is not built.
ModelBackend rwkv7_backend();

// RWKV-5.2 / RWKV-6 (arch RWKV5_2 or RWKV6; train/rwkv56_backend.cpp).
ModelBackend rwkv56_backend(Arch arch);
// The backend --my_testing names: x060, x052, else x070.
ModelBackend backend_for(const TrainArgs& a);

// Checks sd against the expected names/shapes; a tensor whose shape differs only by size-1
// dims is accepted. Errors name the file, the key, both shapes and the flags behind them.
// With load_partial, missing tensors are taken from `init_fn()` (called only when needed).
void check_state_dict(StateDict& sd, const NamedShapes& expected, const std::string& source, bool load_partial,
                      const std::function<StateDict()>& init_fn);

}  // namespace rwkv::train
