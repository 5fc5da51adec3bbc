// utf8.cpp — see utf8.h.
#include "tokenizer/utf8.h"

#include <cstdint>

namespace rwkv::utf8 {

// Length of the well-formed sequence starting at s[i], or 0 when it is not well-formed.
static size_t seq_len(const uint8_t* p, size_t n) {
  uint8_t c = p[0];
  if (c < 0x80) return 1;
  if (c < 0xC2) return 0;
  if (c < 0xE0) return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c < 0xF0) {
    if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c < 0xF5) {
    if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

size_t valid_prefix(std::string_view s) {
  auto p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      __builtin_memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    size_t l = seq_len(p + i, n - i);
    if (!l) return i;
    i += l;
  }
  return n;
}

bool valid(std::string_view s) { return valid_prefix(s) == s.size(); }

static bool is_space_cp(uint32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Decodes the well-formed sequence at p (length l) into a code point.
static uint32_t decode_cp(const uint8_t* p, size_t l) {
  if (l == 1) return p[0];
  if (l == 2) return (uint32_t(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
  if (l == 3) return (uint32_t(p[0] & 0x0F) << 12) | (uint32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  return (uint32_t(p[0] & 0x07) << 18) | (uint32_t(p[1] & 0x3F) << 12) | (uint32_t(p[2] & 0x3F) << 6) |
         (p[3] & 0x3F);
}

std::string_view py_strip(std::string_view s) {
  auto p = reinterpret_cast<const uint8_t*>(s.data());
  size_t b = 0, e = s.size();
  while (b < e) {
    size_t l = seq_len(p + b, e - b);
    if (!l || !is_space_cp(decode_cp(p + b, l))) break;
    b += l;
  }
  while (e > b) {
    size_t s0 = e - 1;  // start of the last character
    while (s0 > b && e - s0 < 4 && (p[s0] & 0xC0) == 0x80) --s0;
    size_t l = seq_len(p + s0, e - s0);
    if (l != e - s0 || !is_space_cp(decode_cp(p + s0, l))) break;
    e = s0;
  }
  return s.substr(b, e - b);
}

void put(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xC0 | (c >> 6));
    out += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += char(0xE0 | (c >> 12));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  } else {
    out += char(0xF0 | (c >> 18));
    out += char(0x80 | ((c >> 12) & 0x3F));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  }
}

}  // namespace rwkv::utf8
