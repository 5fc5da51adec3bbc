// param_table.cpp — see param_table.h.
#include "model/param_table.h"

namespace rwkv {

ParamGroup param_group_of(const std::string& name, const Shape& shape) {
  auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  if (has("att.w0")) return ParamGroup::Lr2x;  // x070
  // RWKV-v5 configure_optimizers (x052 / x060), first match wins: the LoRA factors and the mixes
  // 1x, time_decay 2x, the bonus 1x — none of them decayed even when >= 2-D.
  if (has("_w1") || has("_w2") || has("time_mix") || has("time_maa") || has("time_faaaa")) return ParamGroup::Plain;
  if (has("time_decay")) return ParamGroup::Lr2x;
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
