// make_data_json.h — the "text" field of one JSONL line, as `json.loads(line)["text"]` in
// make_data.py: a fast path for the common `{"text": "..."}` shape, nlohmann-json otherwise.
#pragma once
#include <string>
#include <string_view>

namespace rwkv {

// On success stores the text's UTF-8 bytes in `out` and returns true; otherwise stores what is
// wrong (invalid JSON, not an object, no "text", "text" not a string) in `err` and returns false.
// `line` must already be valid UTF-8 (make-data checks the whole file first).
bool extract_jsonl_text(std::string_view line, std::string& out, std::string& err);

}  // namespace rwkv
