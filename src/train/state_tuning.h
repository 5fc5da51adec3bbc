// state_tuning.h — --train_type state (RWKV-LM v5's `train_type states`, RWKV-PEFT's `--peft
// state`): the model is frozen and only each layer's initial WKV state is trained. The trainable
// tensors are "blocks.{l}.att.time_state" (H, N, N) [head, value i, key j]; every document starts
// from them (token-shift parts zero) and the gradient reaches them through the BPTT of
// train/bptt.h. The result is a state file (engine/state_file.h names: "state.{l}.wkv" tuned,
// "state.{l}.att_x" / "state.{l}.ffn_x" zero) that `generate/chat --state` and the server load.
#pragma once
#include <memory>
#include <string>

#include "core/tensor.h"
#include "train/train_model.h"

namespace rwkv::train {

// base: the RWKV-7 weights (checked against the flags); start: state-file tensors to start from
// (null: zeros; only the "state.{l}.wkv" tensors are used, each must be (H, N, N)). The model's
// forward_backward / forward_backward_docs train the state; to_state_dict() gives the state
// file's tensors (fp32 whatever the dtype asked).
std::unique_ptr<TrainModel> rwkv7_state_tuning(const StateDict& base, const std::string& source,
                                               const StateDict* start, const std::string& start_source);

}  // namespace rwkv::train
