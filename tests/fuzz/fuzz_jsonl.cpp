// fuzz_jsonl.cpp — libFuzzer harness: make-data's JSON-lines parser (extract_jsonl_text) on every
// valid-UTF-8 line of the input (make-data checks UTF-8 for the whole file before parsing).
#include <string>
#include <string_view>

#include "data/make_data_json.h"
#include "fuzz_util.h"
#include "tokenizer/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::string out, err;
  for (size_t a = 0; a <= all.size();) {
    size_t b = all.find('\n', a);
    if (b == std::string_view::npos) b = all.size();
    std::string_view line = all.substr(a, b - a);
    if (rwkv::utf8::valid_prefix(line) == line.size()) rwkv::extract_jsonl_text(line, out, err);
    a = b + 1;
  }
  return 0;
}
