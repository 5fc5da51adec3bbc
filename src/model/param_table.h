// param_table.h — the parameter table of an architecture: every tensor's official name, its
// shape (from the model's sizes), whether a file may omit it, and its optimizer group. Each
// version has exactly one table (<v>_params); config detection, init, loading, inspect and the
// trainer read it instead of keeping lists of their own.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace rwkv {

// The official optimizer groups (RWKV-LM train.py): weight decay only on >= 2-D ".weight"
// matrices; RWKV-7 "att.w0" and RWKV-5.2/6 "att.time_decay" at 2x the learning rate (but not
// the x060 time_decay_w1/_w2); everything else plain.
enum class ParamGroup { Plain, Decay, Lr2x };

struct ParamSpec {
  std::string name;  // official key, e.g. "blocks.0.att.x_r"
  Shape shape;       // official shape, e.g. (1, 1, C)
  bool optional = false;  // a file may leave it out (e.g. RWKV-7 layer 0's v0/v1/v2)
  ParamGroup group = ParamGroup::Plain;
};
using ParamTable = std::vector<ParamSpec>;

// The group train.py puts a tensor in (from its name and shape).
ParamGroup param_group_of(const std::string& name, const Shape& shape);

// The spec named `name`, or null.
const ParamSpec* find_param(const ParamTable& t, const std::string& name);

}  // namespace rwkv
