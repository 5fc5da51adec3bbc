// checked.h — overflow-checked arithmetic for sizes, offsets and counts read from files and flags.
// Every parser bounds what a file claims with these before it indexes or allocates: a number
// near 2^64 must fail the check, never wrap around and pass it.
#pragma once
#include <cstdint>
#include <optional>

namespace rwkv {

// a + b and a * b, or nothing when the exact result does not fit in uint64_t.
inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// True when [offset, offset + size) lies inside [0, total), with no wrap-around.
inline bool range_fits(uint64_t offset, uint64_t size, uint64_t total) {
  return offset <= total && size <= total - offset;
}

}  // namespace rwkv
