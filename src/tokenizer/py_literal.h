// py_literal.h — parses the Python literals of a World vocabulary line (`repr()` of a str or a
// bytes object: '...', "...", b'...', b"...") into the UTF-8 bytes the token stands for.
#pragma once
#include <string>
#include <string_view>

namespace rwkv {

// Returns the bytes; throws "[tokenizer] <what>: ..." when `lit` is not such a literal.
std::string parse_py_literal(std::string_view lit, const std::string& what);

}  // namespace rwkv
