// arena.h — scratch memory for one forward call: bump allocation of fp32 spans (64-byte
// aligned) from blocks of an Allocator. reset() rewinds to the first block; the blocks are
// kept and filled again in order, so a repeated workload allocates (and page-faults) nothing
// after its first call. Pointers stay valid until reset(). Owned by the caller (engine
// Workspace): not thread-safe.
#pragma once
#include <cstddef>
#include <vector>

#include "core/allocator.h"

namespace rwkv {

class Arena {
 public:
  explicit Arena(Allocator& a = cpu_allocator()) : alloc_(&a) {}
  Arena(Arena&&) noexcept = default;
  Arena& operator=(Arena&&) noexcept = default;

  // n floats (uninitialised), valid until reset().
  float* floats(size_t n);
  template <typename T> T* take(size_t n) {
    return reinterpret_cast<T*>(floats((n * sizeof(T) + sizeof(float) - 1) / sizeof(float)));
  }
  void reset();
  size_t capacity_bytes() const;  // bytes held (all blocks)
  size_t peak_bytes() const { return peak_; }
  Device device() const { return alloc_->device(); }

 private:
  Allocator* alloc_;
  std::vector<Buffer> blocks_;
  size_t cur_ = 0;       // block being filled
  size_t used_ = 0;      // floats used in blocks_[cur_]
  size_t total_ = 0;     // floats used in all blocks since reset()
  size_t peak_ = 0;      // bytes
};

}  // namespace rwkv
