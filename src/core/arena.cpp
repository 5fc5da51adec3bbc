// arena.cpp — see arena.h.
#include "core/arena.h"

#include <algorithm>

namespace rwkv {

float* Arena::floats(size_t n) {
  n = (n + 15) / 16 * 16;  // keep every span 64-byte aligned
  if (blocks_.empty() || used_ + n > blocks_.back().bytes() / sizeof(float)) {
    const size_t prev = blocks_.empty() ? 0 : blocks_.back().bytes() / sizeof(float);
    const size_t want = std::max(n, std::max<size_t>(prev, size_t(1) << 16));
    blocks_.emplace_back(*alloc_, want * sizeof(float));
    used_ = 0;
  }
  float* p = blocks_.back().as<float>() + used_;
  used_ += n;
  total_ += n;
  peak_ = std::max(peak_, total_ * sizeof(float));
  return p;
}

void Arena::reset() {
  if (blocks_.size() > 1) {  // merge: next time everything fits in one block
    size_t all = 0;
    for (auto& b : blocks_) all += b.bytes();
    blocks_.clear();
    blocks_.emplace_back(*alloc_, all);
  }
  used_ = 0;
  total_ = 0;
}

size_t Arena::capacity_bytes() const {
  size_t all = 0;
  for (auto& b : blocks_) all += b.bytes();
  return all;
}

}  // namespace rwkv
