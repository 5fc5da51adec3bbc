// utf8.h — small UTF-8 helpers shared by the tokenizers, make-data and the CLI:
// strict validation (as Python's bytes.decode("utf-8") accepts) and Python-str.strip() whitespace.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rwkv::utf8 {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid(std::string_view s);

// Length of the well-formed UTF-8 prefix of `s` (== s.size() when valid(s)).
size_t valid_prefix(std::string_view s);

// `s` without the leading and trailing characters Python's str.isspace() accepts
// (ASCII whitespace, \x1c-\x1f, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028/9, U+202F,
// U+205F, U+3000), as `line.strip()` in make_data.py.
std::string_view py_strip(std::string_view s);

// Appends code point `c` (< 0x110000; callers check the range) to `out` as UTF-8.
void put(std::string& out, uint32_t c);

}  // namespace rwkv::utf8
