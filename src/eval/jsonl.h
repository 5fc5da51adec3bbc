// jsonl.h — the JSON-lines files evaluation reads: one object per line, blank lines skipped,
// every error naming the file and line ("[eval] <file>:<line>: ...").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rwkv {

struct JsonLine {
  int64_t line;          // 1-based line number in the file
  nlohmann::json value;  // an object
};

// Up to `limit` objects (limit < 0: all). Throws for a missing file, invalid JSON, a non-object.
std::vector<JsonLine> read_jsonl(const std::string& path, int64_t limit = -1);

// The string field `key` of a line; throws "[eval] <file>:<line>: no "<key>" ..." otherwise.
// allow_empty false: an empty string is refused too ("empty document").
std::string jsonl_string(const JsonLine& l, const std::string& path, const char* key, bool allow_empty = false);

}  // namespace rwkv
