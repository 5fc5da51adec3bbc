// state_pool.cpp — see state_pool.h.
#include "engine/state_pool.h"

#include <cstring>

#include "core/error.h"

namespace rwkv {

StatePool::StatePool(const StateLayout& layout, int n_slots, Allocator& alloc, std::string owner)
    : layout_(layout), owner_(std::move(owner)), n_(n_slots) {
  if (n_slots < 1) fail("state", "a state pool needs at least one slot, got {}", n_slots);
  buf_ = Buffer(alloc, size_t(n_slots) * size_t(layout_.floats) * sizeof(float));
  for (int i = 0; i < n_; i++) zero(i);
}

float* StatePool::slot(int i) {
  if (i < 0 || i >= n_) fail("state", "slot {} is outside the pool (0..{})", i, n_ - 1);
  return buf_.as<float>() + size_t(i) * size_t(layout_.floats);
}
const float* StatePool::slot(int i) const { return const_cast<StatePool*>(this)->slot(i); }

void StatePool::zero(int i) { std::memcpy(slot(i), layout_.initial.data(), sizeof(float) * layout_.floats); }

void StatePool::copy(int src, int dst) {
  if (src != dst) std::memcpy(slot(dst), slot(src), sizeof(float) * layout_.floats);
}

std::vector<float> StatePool::snapshot(int i) const {
  const float* s = slot(i);
  return std::vector<float>(s, s + layout_.floats);
}

void StatePool::restore(int i, std::span<const float> host) {
  if (int64_t(host.size()) != layout_.floats)
    fail("state", "snapshot has {} floats, a slot of this model has {}", host.size(), layout_.floats);
  std::memcpy(slot(i), host.data(), sizeof(float) * layout_.floats);
}

StateDict StatePool::to_state_dict(int i) const {
  StateDict sd;
  const float* s = slot(i);
  for (const StatePart& p : layout_.parts) {
    Tensor t = Tensor::empty(DType::F32, p.shape);
    std::memcpy(t.data, s + p.offset, sizeof(float) * p.numel);
    sd.items.emplace_back(p.name, std::move(t));
  }
  return sd;
}

void StatePool::from_state_dict(int i, const StateDict& sd, const std::string& source) {
  std::vector<float> next(size_t(layout_.floats));  // filled completely before the slot changes
  for (const StatePart& p : layout_.parts) {
    const Tensor* t = sd.find(p.name);
    if (!t) fail("state", "{}: missing tensor '{}'", source, p.name);
    Shape s = t->shape;
    if (s.size() == p.shape.size() + 1 && s[0] == 1) s.erase(s.begin());
    if (s != p.shape)
      fail("state", "{}: tensor '{}' has shape {}, expected {}", source, p.name, shape_str(t->shape), shape_str(p.shape));
    if (t->dtype != DType::F32 && t->dtype != DType::BF16 && t->dtype != DType::F16 && t->dtype != DType::F64)
      fail("state", "{}: tensor '{}' has dtype {}, expected a float type", source, p.name, dtype_name(t->dtype));
    std::vector<float> v = t->to_f32_vec();
    std::memcpy(next.data() + p.offset, v.data(), sizeof(float) * p.numel);
  }
  restore(i, next);
}

}  // namespace rwkv
