// allocator.h — memory that knows its device. Every buffer the engine owns (state pool,
// workspace scratch, converted weights) comes from an Allocator, so a CUDA backend plugs in
// under the same interface later. Only the CPU allocator exists today.
#pragma once
#include <cstddef>
#include <memory>

namespace rwkv {

enum class Device { CPU, CUDA };
const char* device_name(Device d);  // "cpu", "cuda"

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual Device device() const = 0;
  // `bytes` bytes aligned to 64, uninitialised; never null (throws "[core] ..." when out of memory).
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* p, size_t bytes) = 0;
};

// The process-wide CPU allocator (64-byte aligned heap memory; thread-safe).
Allocator& cpu_allocator();

// An owning, device-tagged byte buffer (movable, not copyable).
class Buffer {
 public:
  Buffer() = default;
  Buffer(Allocator& a, size_t bytes);
  Buffer(Buffer&& o) noexcept { swap(o); }
  Buffer& operator=(Buffer&& o) noexcept { Buffer t(std::move(o)); swap(t); return *this; }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  void* data() const { return p_; }
  template <typename T> T* as() const { return static_cast<T*>(p_); }
  size_t bytes() const { return bytes_; }
  Device device() const { return alloc_ ? alloc_->device() : Device::CPU; }
  Allocator* allocator() const { return alloc_; }

 private:
  void swap(Buffer& o) noexcept { std::swap(alloc_, o.alloc_); std::swap(p_, o.p_); std::swap(bytes_, o.bytes_); }
  Allocator* alloc_ = nullptr;
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace rwkv
