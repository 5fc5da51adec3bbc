// cmd_tokenize.cpp — `rwkv tokenize [--tokenizer world|bytes|FILE] [--decode] [--jsonl] [--text T] [FILE]`:
// text -> ids (space-separated), or ids -> text with --decode; --jsonl maps lines {"text": ...}
// to lines {"ids": [...]} (and back with --decode), in the same order.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/input_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

std::string read_all(std::FILE* f) {
  std::string s;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

std::vector<int32_t> parse_ids(const std::string& s, const std::string& where) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ',') { ++i; continue; }
    size_t used = 0;
    long long v;
    try {
      v = std::stoll(s.substr(i, 24), &used);
    } catch (const std::exception&) {
      rwkv::fail("tokenize", "{}: expected token ids (integers), got '{}'", where, s.substr(i, 20));
    }
    if (v < INT32_MIN || v > INT32_MAX) rwkv::fail("tokenize", "{}: token id {} out of range", where, v);
    ids.push_back(int32_t(v));
    i += used;
    if (i < s.size() && !(s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r' || s[i] == ','))
      rwkv::fail("tokenize", "{}: expected token ids (integers), got '{}'", where, s.substr(i, 20));
  }
  return ids;
}

std::string ids_json(const std::vector<int32_t>& ids) {
  std::string s = "{\"ids\": [";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(ids[i]);
  }
  return s + "]}";
}

void run_jsonl(const rwkv::Tokenizer& tok, std::istream& in, const std::string& src, bool decode) {
  std::string line, out;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view body = rwkv::utf8::py_strip(line);
    if (body.empty()) continue;
    std::string where = fmt::format("{}:{}", src, lineno);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
      rwkv::fail("tokenize", "{}: invalid JSON: {}", where, e.what());
    }
    if (!decode) {
      if (!j.is_object() || !j.contains("text"))
        rwkv::fail("tokenize", "{}: expected an object with a \"text\" field", where);
      if (!j["text"].is_string()) rwkv::fail("tokenize", "{}: \"text\" is {}, expected a string", where, j["text"].type_name());
      out = ids_json(tok.encode(j["text"].get_ref<const std::string&>()));
    } else {
      if (!j.is_object() || !j.contains("ids") || !j["ids"].is_array())
        rwkv::fail("tokenize", "{}: expected an object with an \"ids\" array", where);
      std::vector<int32_t> ids;
      for (auto& v : j["ids"]) {
        if (!v.is_number_integer()) rwkv::fail("tokenize", "{}: \"ids\" holds {}, expected integers", where, v.type_name());
        ids.push_back(v.get<int32_t>());
      }
      nlohmann::json o = {{"text", tok.decode(ids)}};
      out = o.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
}

int run(int argc, char** argv) {
  CLI::App app{"Tokenize text (stdin, --text or FILE) into ids, or decode ids back into text"};
  std::string spec = "world", text, file;
  bool decode = false, jsonl = false;
  app.add_option("--tokenizer", spec, "world, bytes, or a vocabulary file")->capture_default_str();
  app.add_flag("--decode", decode, "ids in, text out");
  app.add_flag("--jsonl", jsonl, "lines {\"text\": ...} in, lines {\"ids\": [...]} out (reverse with --decode)");
  auto* t = app.add_option("--text", text, "the input itself instead of stdin");
  app.add_option("file", file, "read this file instead of stdin");
  int code = 0;
  if (!rwkv::cli::parse(app, argc, argv, &code)) return code;
  auto tok = rwkv::make_tokenizer(spec);

  if (jsonl) {
    if (t->count()) {
      std::istringstream in(text);
      run_jsonl(*tok, in, "--text", decode);
    } else if (!file.empty() && file != "-") {
      rwkv::require_input_file(file, "tokenize", ".jsonl file");
      std::ifstream in(file, std::ios::binary);
      if (!in) rwkv::fail("tokenize", "{}: cannot read file", file);
      run_jsonl(*tok, in, file, decode);
    } else {
      run_jsonl(*tok, std::cin, "<stdin>", decode);
    }
    return 0;
  }
  std::string src = "<stdin>";
  if (t->count()) {
    src = "--text";
  } else if (!file.empty() && file != "-") {
    text = rwkv::read_input_file(file, "tokenize", "text file");
    src = file;
  } else {
    text = read_all(stdin);
  }
  if (decode) {
    std::string s = tok->decode(parse_ids(text, src));
    std::fwrite(s.data(), 1, s.size(), stdout);
  } else {
    auto ids = tok->encode(text);
    std::string s;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) s += ' ';
      s += std::to_string(ids[i]);
    }
    s += '\n';
    std::fwrite(s.data(), 1, s.size(), stdout);
  }
  return 0;
}

}  // namespace

static rwkv::cli::Command reg{"tokenize", "text -> token ids (or ids -> text with --decode)", run};
