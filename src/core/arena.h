// arena.h — scratch memory for one forward call: bump allocation of fp32 spans (64-byte
// aligned) from blocks of an Allocator. reset() rewinds; after a call that needed several
// blocks, the next reset() merges them into one, so a steady workload allocates nothing.
// Pointers stay valid until reset(). Owned by the caller (engine Workspace): not thread-safe.
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
  size_t used_ = 0;      // floats used in blocks_.back()
  size_t total_ = 0;     // floats used in all blocks since reset()
  size_t peak_ = 0;      // bytes
};

}  // namespace rwkv
