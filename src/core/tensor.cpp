// tensor.cpp — Tensor allocation, dtype conversion, StateDict lookup.
#include "core/tensor.h"

#include "core/allocator.h"

#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace rwkv {

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s)
    if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > (int64_t(1) << 56))
      fail("tensor", "shape {} has a negative size or more than 2^56 elements (bytes would overflow)", shape_str(s));
  return n;
}

Shape shape_squeezed(const Shape& s) {
  Shape r;
  for (int64_t d : s)
    if (d != 1) r.push_back(d);
  return r;
}

std::string shape_str(const Shape& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); i++) r += (i ? ", " : "") + std::to_string(s[i]);
  if (s.size() == 1) r += ",";
  return r + ")";
}

Tensor Tensor::empty(DType t, Shape s) {
  Tensor r;
  r.dtype = t;
  r.shape = std::move(s);
  const size_t n = std::max<size_t>(r.nbytes(), 1);
  Allocator& a = cpu_allocator();  // host tensors: the one CPU allocator (core/allocator.h)
  void* p = a.allocate(n);
  r.owner = std::shared_ptr<void>(p, [&a, n](void* q) { a.deallocate(q, n); });
  r.data = p;
  return r;
}

Tensor Tensor::zeros(DType t, Shape s) {
  Tensor r = empty(t, std::move(s));
  std::memset(r.data, 0, r.nbytes());
  return r;
}

template <typename T>
static void load_as_f32(const Tensor& t, float* out) {
  const T* p = t.ptr<T>();
  for (int64_t i = 0, n = t.numel(); i < n; i++) out[i] = float(p[i]);
}

static void to_f32_buf(const Tensor& t, float* out) {
  int64_t n = t.numel();
  switch (t.dtype) {
    case DType::F32: std::memcpy(out, t.data, n * 4); break;
    case DType::BF16: { auto p = t.ptr<uint16_t>(); for (int64_t i = 0; i < n; i++) out[i] = bf16_to_f32(p[i]); } break;
    case DType::F16: { auto p = t.ptr<uint16_t>(); for (int64_t i = 0; i < n; i++) out[i] = f16_to_f32(p[i]); } break;
    case DType::F64: load_as_f32<double>(t, out); break;
    case DType::I64: load_as_f32<int64_t>(t, out); break;
    case DType::I32: load_as_f32<int32_t>(t, out); break;
    case DType::U8: case DType::BOOL: load_as_f32<uint8_t>(t, out); break;
    case DType::I8: load_as_f32<int8_t>(t, out); break;
  }
}

std::vector<float> Tensor::to_f32_vec() const {
  std::vector<float> v(numel());
  to_f32_buf(*this, v.data());
  return v;
}

Tensor Tensor::to(DType t) const {
  Tensor r = empty(t, shape);
  int64_t n = numel();
  if (t == dtype) {
    std::memcpy(r.data, data, nbytes());
    return r;
  }
  bool float_target = t == DType::F32 || t == DType::BF16 || t == DType::F16 || t == DType::F64;
  if (!float_target) fail("tensor", "conversion from {} to {} is not supported", dtype_name(dtype), dtype_name(t));
  std::vector<float> f(n);
  to_f32_buf(*this, f.data());
  switch (t) {
    case DType::F32: std::memcpy(r.data, f.data(), n * 4); break;
    case DType::BF16: { auto p = r.ptr<uint16_t>(); for (int64_t i = 0; i < n; i++) p[i] = f32_to_bf16(f[i]); } break;
    case DType::F16: { auto p = r.ptr<uint16_t>(); for (int64_t i = 0; i < n; i++) p[i] = f32_to_f16(f[i]); } break;
    case DType::F64: { auto p = r.ptr<double>(); for (int64_t i = 0; i < n; i++) p[i] = f[i]; } break;
    default: break;
  }
  return r;
}

Tensor Tensor::reshaped(Shape s) const {
  RWKV_CHECK(shape_numel(s) == numel(), "reshape {} -> {}", shape_str(shape), shape_str(s));
  Tensor r = *this;
  r.shape = std::move(s);
  return r;
}

const Tensor* StateDict::find(const std::string& name) const {
  for (auto& [k, v] : items)
    if (k == name) return &v;
  return nullptr;
}

const Tensor& StateDict::at(const std::string& name) const {
  const Tensor* t = find(name);
  if (!t) fail("model", "missing tensor '{}'", name);
  return *t;
}

void StateDict::set(const std::string& name, Tensor t) {
  for (auto& [k, v] : items)
    if (k == name) { v = std::move(t); return; }
  items.emplace_back(name, std::move(t));
}

}  // namespace rwkv
