// allocator.cpp — the CPU allocator and Buffer (see allocator.h).
#include "core/allocator.h"

#include <cstdlib>

#include "core/error.h"

namespace rwkv {

const char* device_name(Device d) { return d == Device::CUDA ? "cuda" : "cpu"; }

namespace {
class CpuAllocator final : public Allocator {
 public:
  Device device() const override { return Device::CPU; }
  void* allocate(size_t bytes) override {
    const size_t n = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, n ? n : 64);
    if (!p) fail("core", "out of memory allocating {} bytes on the CPU", bytes);
    return p;
  }
  void deallocate(void* p, size_t) override { std::free(p); }
};
}  // namespace

Allocator& cpu_allocator() {
  static CpuAllocator a;
  return a;
}

Buffer::Buffer(Allocator& a, size_t bytes) : alloc_(&a), p_(a.allocate(bytes)), bytes_(bytes) {}

Buffer::~Buffer() {
  if (p_) alloc_->deallocate(p_, bytes_);
}

}  // namespace rwkv
