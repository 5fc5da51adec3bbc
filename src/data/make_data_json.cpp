// make_data_json.cpp — see make_data_json.h. The fast path accepts exactly
//   ws { ws "text" ws : ws <string> ws } ws
// and decodes the string by the JSON rules; anything else (other keys, other escapes it does not
// handle, errors) goes to nlohmann-json, so the result is always what a JSON parser gives.
#include "data/make_data_json.h"

#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

#include "tokenizer/utf8.h"

namespace rwkv {

namespace {

inline bool ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline int hex4(const char* p) {
  int v = 0;
  for (int k = 0; k < 4; ++k) {
    char c = p[k];
    int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// Decodes the JSON string starting after the opening quote at s[i]; on success i is past the
// closing quote. False on anything the fast path does not handle.
bool fast_string(std::string_view s, size_t& i, std::string& out) {
  out.clear();
  const char* p = s.data();
  const size_t n = s.size();
  while (i < n) {
    size_t run = i;  // copy plain runs in one go
    while (run < n && p[run] != '"' && p[run] != '\\' && (unsigned char)p[run] >= 0x20) ++run;
    out.append(p + i, run - i);
    i = run;
    if (i >= n) return false;
    char c = p[i];
    if (c == '"') { ++i; return true; }
    if (c != '\\') return false;  // raw control character: invalid JSON
    if (i + 1 >= n) return false;
    char e = p[i + 1];
    i += 2;
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        if (i + 4 > n) return false;
        int u = hex4(p + i);
        if (u < 0) return false;
        i += 4;
        if (u >= 0xD800 && u <= 0xDBFF) {  // needs a low surrogate
          if (i + 6 > n || p[i] != '\\' || p[i + 1] != 'u') return false;
          int lo = hex4(p + i + 2);
          if (lo < 0xDC00 || lo > 0xDFFF) return false;
          i += 6;
          utf8::put(out, 0x10000u + ((uint32_t(u) - 0xD800u) << 10) + (uint32_t(lo) - 0xDC00u));
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
          return false;  // lone low surrogate
        } else {
          utf8::put(out, uint32_t(u));
        }
        break;
      }
      default: return false;
    }
  }
  return false;
}

bool fast_path(std::string_view s, std::string& out) {
  size_t i = 0, n = s.size();
  auto skip = [&] { while (i < n && ws(s[i])) ++i; };
  skip();
  if (i >= n || s[i] != '{') return false;
  ++i;
  skip();
  if (s.substr(i, 6) != "\"text\"") return false;
  i += 6;
  skip();
  if (i >= n || s[i] != ':') return false;
  ++i;
  skip();
  if (i >= n || s[i] != '"') return false;
  ++i;
  if (!fast_string(s, i, out)) return false;
  skip();
  if (i >= n || s[i] != '}') return false;
  ++i;
  skip();
  return i == n;
}

}  // namespace

bool extract_jsonl_text(std::string_view line, std::string& out, std::string& err) {
  if (fast_path(line, out)) return true;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    err = std::string("invalid JSON: ") + e.what();
    return false;
  }
  if (!j.is_object()) {
    err = std::string("expected a JSON object with a \"text\" string, got ") + j.type_name();
    return false;
  }
  auto it = j.find("text");
  if (it == j.end()) {
    err = "no \"text\" field";
    return false;
  }
  if (!it->is_string()) {
    err = std::string("\"text\" is ") + it->type_name() + ", expected a string";
    return false;
  }
  out = it->get_ref<const std::string&>();
  return true;
}

}  // namespace rwkv
