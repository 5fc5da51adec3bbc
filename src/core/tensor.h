// tensor.h — a CPU tensor view: dtype, shape, contiguous data, and an owner that keeps the
// memory alive (a heap buffer, or the mmap of the file the tensor points into: zero-copy).
// A StateDict is the ordered name -> tensor list that .pth and safetensors files hold.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"

namespace rwkv {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& s);  // throws "[tensor] ..." for a negative size or > 2^56 elements (so nbytes never overflows)
Shape shape_squeezed(const Shape& s);   // without its size-1 dims
std::string shape_str(const Shape& s);  // "(2, 33)" as torch prints sizes

struct Tensor {
  DType dtype = DType::F32;
  Shape shape;
  void* data = nullptr;           // contiguous, row-major
  std::shared_ptr<void> owner;    // keeps `data` alive

  static Tensor empty(DType t, Shape s);   // uninitialised heap buffer
  static Tensor zeros(DType t, Shape s);

  int64_t numel() const { return shape_numel(shape); }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype); }
  int dim() const { return int(shape.size()); }
  template <typename T> T* ptr() const { return static_cast<T*>(data); }

  Tensor to(DType t) const;        // converted copy (same dtype: deep copy)
  std::vector<float> to_f32_vec() const;  // any float/int dtype -> fp32 values
  Tensor clone() const { return to(dtype); }
  Tensor reshaped(Shape s) const;  // same data, new shape (numel must match)
};

// Ordered name -> tensor map, as a torch state dict.
struct StateDict {
  std::vector<std::pair<std::string, Tensor>> items;

  const Tensor* find(const std::string& name) const;
  const Tensor& at(const std::string& name) const;  // throws "[model] missing tensor 'name'"
  bool has(const std::string& name) const { return find(name) != nullptr; }
  void set(const std::string& name, Tensor t);      // replace or append
  size_t size() const { return items.size(); }
};

}  // namespace rwkv
