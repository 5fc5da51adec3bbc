// dtype.cpp — dtype names/sizes and IEEE half conversions.
#include "core/dtype.h"

#include <cmath>

namespace rwkv {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: case DType::I32: return 4;
    case DType::BF16: case DType::F16: return 2;
    case DType::I64: case DType::F64: return 8;
    case DType::U8: case DType::I8: case DType::BOOL: return 1;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "fp32";
    case DType::BF16: return "bf16";
    case DType::F16: return "fp16";
    case DType::I64: return "int64";
    case DType::I32: return "int32";
    case DType::U8: return "uint8";
    case DType::I8: return "int8";
    case DType::BOOL: return "bool";
    case DType::F64: return "fp64";
  }
  return "?";
}

bool dtype_from_name(std::string_view s, DType* out) {
  struct { const char* n; DType t; } table[] = {
      {"fp32", DType::F32}, {"float32", DType::F32}, {"f32", DType::F32}, {"float", DType::F32},
      {"bf16", DType::BF16}, {"bfloat16", DType::BF16},
      {"fp16", DType::F16}, {"float16", DType::F16}, {"f16", DType::F16}, {"half", DType::F16},
      {"int64", DType::I64}, {"i64", DType::I64}, {"int32", DType::I32}, {"i32", DType::I32},
      {"uint8", DType::U8}, {"u8", DType::U8}, {"int8", DType::I8}, {"i8", DType::I8},
      {"bool", DType::BOOL}, {"fp64", DType::F64}, {"float64", DType::F64}};
  for (auto& e : table)
    if (s == e.n) { *out = e.t; return true; }
  return false;
}

bool all_bf16_exact(const float* w, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    std::memcpy(&u, w + i, 4);
    if (u & 0xffffu) return false;
  }
  return true;
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do { e++; man <<= 1; } while (!(man & 0x400));
      u = sign | uint32_t(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | man << 13;
  } else {
    u = sign | (exp + 112) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint32_t sign = (u >> 16) & 0x8000u;
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return uint16_t(sign | 0x7e00u);      // NaN
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);     // overflow -> inf (rounded)
  if (a < 0x38800000u) {                                     // subnormal or zero in fp16
    if (a < 0x33000000u) return uint16_t(sign);              // < half of smallest subnormal
    uint32_t e = a >> 23, m = (a & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e;  // 113 - e + 13
    uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) r++;
    return uint16_t(sign | r);
  }
  uint32_t r = ((a >> 13) - (112u << 10));
  uint32_t rem = a & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
  return uint16_t(sign | r);
}

}  // namespace rwkv
