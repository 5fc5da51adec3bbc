// arena.cpp — see arena.h.
#include "core/arena.h"

#include <algorithm>

namespace rwkv {

float* Arena::floats(size_t n) {
  n = (n + 15) / 16 * 16;  // keep every span 64-byte aligned
  // the next kept block with room (the rest of a block that cannot take n is skipped)
  while (cur_ < blocks_.size() && used_ + n > blocks_[cur_].bytes() / sizeof(float)) {
    cur_++;
    used_ = 0;
  }
  if (cur_ == blocks_.size()) {  // none: a new block, at least as large as all before it
    const size_t held = capacity_bytes() / sizeof(float);
    blocks_.emplace_back(*alloc_, std::max(n, std::max(held, size_t(1) << 18)) * sizeof(float));
    used_ = 0;
  }
  float* p = blocks_[cur_].as<float>() + used_;
  used_ += n;
  total_ += n;
  peak_ = std::max(peak_, total_ * sizeof(float));
  return p;
}

void Arena::reset() {
  cur_ = 0;
  used_ = 0;
  total_ = 0;
}

size_t Arena::capacity_bytes() const {
  size_t all = 0;
  for (auto& b : blocks_) all += b.bytes();
  return all;
}

}  // namespace rwkv
