// py_literal.cpp — see py_literal.h. Hand-written: no packaged library parses Python literals;
// only the escapes Python's repr() can produce (and the other standard ones) are needed.
#include "tokenizer/py_literal.h"

#include <cstdint>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace rwkv {

static void put_utf8(std::string& out, uint32_t c, const std::string& what) {
  if (c > 0x10FFFF) fail("tokenizer", "{}: code point U+{:X} out of range", what, c);
  utf8::put(out, c);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string parse_py_literal(std::string_view lit, const std::string& what) {
  while (!lit.empty() && (lit.front() == ' ' || lit.front() == '\t')) lit.remove_prefix(1);
  while (!lit.empty() && (lit.back() == ' ' || lit.back() == '\t' || lit.back() == '\r')) lit.remove_suffix(1);
  bool bytes = false;
  if (!lit.empty() && (lit.front() == 'b' || lit.front() == 'B')) {
    bytes = true;
    lit.remove_prefix(1);
  }
  if (lit.size() < 2 || (lit.front() != '\'' && lit.front() != '"') || lit.back() != lit.front())
    fail("tokenizer", "{}: expected a Python str or bytes literal, got {}", what, lit);
  char q = lit.front();
  std::string_view body = lit.substr(1, lit.size() - 2);
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == q) fail("tokenizer", "{}: unescaped quote inside literal", what);
    if (c != '\\') {
      if (bytes && (unsigned char)c >= 0x80) fail("tokenizer", "{}: non-ASCII byte in bytes literal", what);
      out += c;
      continue;
    }
    if (++i >= body.size()) fail("tokenizer", "{}: literal ends in a backslash", what);
    char e = body[i];
    auto hex = [&](int n) -> uint32_t {
      if (i + n >= body.size()) fail("tokenizer", "{}: truncated \\{} escape", what, e);
      uint32_t v = 0;
      for (int k = 1; k <= n; ++k) {
        int h = hexval(body[i + k]);
        if (h < 0) fail("tokenizer", "{}: bad hex digit in \\{} escape", what, e);
        v = v * 16 + uint32_t(h);
      }
      i += n;
      return v;
    };
    switch (e) {
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\n': break;  // line continuation
      case 'x': {
        uint32_t v = hex(2);
        if (bytes) out += char(v);
        else put_utf8(out, v, what);
        break;
      }
      case 'u':
      case 'U': {
        if (bytes) {  // not an escape in bytes literals: kept verbatim
          out += '\\';
          out += e;
          break;
        }
        put_utf8(out, hex(e == 'u' ? 4 : 8), what);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = uint32_t(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k)
            v = v * 8 + uint32_t(body[++i] - '0');
          if (bytes) out += char(v & 0xFF);
          else put_utf8(out, v, what);
        } else {  // unknown escapes are kept verbatim, as Python does
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

}  // namespace rwkv
