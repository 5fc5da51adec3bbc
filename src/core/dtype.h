// dtype.h — element types used by tensors and files, and scalar conversions
// (bf16/fp16 <-> fp32, round-to-nearest-even as torch does).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace rwkv {

enum class DType : uint8_t { F32, BF16, F16, I64, I32, U8, I8, BOOL, F64 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);                    // "fp32", "bf16", ...
inline bool is_float(DType t) { return t == DType::F32 || t == DType::BF16 || t == DType::F16 || t == DType::F64; }
bool dtype_from_name(std::string_view s, DType* out);  // accepts fp32/float32/f32, bf16, fp16/half...

inline float bf16_to_f32(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                        // round to nearest even
  return uint16_t(u >> 16);
}
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// True when each of the n floats is exactly a bf16 value (the low 16 bits of its pattern are
// zero): a bf16 copy then holds the same numbers in half the bytes.
bool all_bf16_exact(const float* w, int64_t n);

}  // namespace rwkv
