// param_table.cpp — see param_table.h.
#include "model/param_table.h"

namespace rwkv {

ParamGroup param_group_of(const std::string& name, const Shape& shape) {
  if (name.find("att.w0") != std::string::npos) return ParamGroup::Lr2x;
  int squeezed = 0;
  for (int64_t d : shape) squeezed += d != 1;
  if (squeezed >= 2 && name.find(".weight") != std::string::npos) return ParamGroup::Decay;
  return ParamGroup::Plain;
}

const ParamSpec* find_param(const ParamTable& t, const std::string& name) {
  for (auto& s : t)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace rwkv
