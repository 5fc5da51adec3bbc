// jsonl.cpp — reading JSON-lines files for evaluation (see eval/jsonl.h).
#include "eval/jsonl.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace rwkv {

std::vector<JsonLine> read_jsonl(const std::string& path, int64_t limit) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("eval", "{}: cannot open ({})", path, std::strerror(errno));
  std::vector<JsonLine> out;
  std::string s;
  int64_t line = 0;
  while ((limit < 0 || int64_t(out.size()) < limit) && std::getline(f, s)) {
    line++;
    if (s.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json v;
    try {
      v = nlohmann::json::parse(s);
    } catch (const nlohmann::json::exception& e) {
      fail("eval", "{}:{}: not valid JSON ({})", path, line, e.what());
    }
    if (!v.is_object()) fail("eval", "{}:{}: expected a JSON object, got {}", path, line, v.type_name());
    out.push_back({line, std::move(v)});
  }
  if (f.bad()) fail("eval", "{}: read error after line {}", path, line);
  if (out.empty()) fail("eval", "{}: no documents (an empty file?)", path);
  return out;
}

std::string jsonl_string(const JsonLine& l, const std::string& path, const char* key, bool allow_empty) {
  auto it = l.value.find(key);
  if (it == l.value.end()) fail("eval", "{}:{}: no \"{}\" field", path, l.line, key);
  if (!it->is_string()) fail("eval", "{}:{}: \"{}\" must be a string, got {}", path, l.line, key, it->type_name());
  std::string s = it->get<std::string>();
  if (s.empty() && !allow_empty) fail("eval", "{}:{}: empty document (\"{}\" is \"\")", path, l.line, key);
  return s;
}

}  // namespace rwkv
