// train_model.cpp — check_state_dict and the default (refusing) infctx step (see train_model.h).
#include "train/train_model.h"

#include <set>

#include "core/error.h"

namespace rwkv::train {

float TrainModel::forward_backward_docs(const int32_t*, int, int, const int32_t*, int, bool, bool) {
  fail("train", "--train_type infctx is not supported by this model");
}

void check_state_dict(StateDict& sd, const NamedShapes& expected, const std::string& source, bool load_partial,
                      const std::function<StateDict()>& init_fn) {
  std::set<std::string> want;
  StateDict init;
  bool have_init = false;
  for (auto& [name, shape] : expected) {
    want.insert(name);
    const Tensor* t = sd.find(name);
    if (!t) {
      if (!load_partial)
        fail("train", "{}: missing tensor '{}' {} (a checkpoint of another model? --load_partial 1 takes missing "
                      "tensors from the initial weights)", source, name, shape_str(shape));
      if (!have_init) init = init_fn(), have_init = true;
      sd.set(name, init.at(name));
      continue;
    }
    if (t->shape != shape && shape_squeezed(t->shape) != shape_squeezed(shape))
      fail("train", "{}: tensor '{}' has shape {} but the flags (--n_layer/--n_embd/--vocab_size/--head_size) "
                    "describe {}: a checkpoint of another shape", source, name, shape_str(t->shape), shape_str(shape));
    if (t->dtype != DType::F32 && t->dtype != DType::BF16 && t->dtype != DType::F16 && t->dtype != DType::F64)
      fail("train", "{}: tensor '{}' has dtype {}, not a float type", source, name, dtype_name(t->dtype));
  }
  for (auto& [name, t] : sd.items)
    if (!want.count(name))
      fail("train", "{}: unexpected tensor '{}' {} (a checkpoint of another model or more layers than --n_layer?)",
           source, name, shape_str(t.shape));
}

}  // namespace rwkv::train
