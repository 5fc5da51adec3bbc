// run_metrics.cpp — see run_metrics.h.
#include "plot/run_metrics.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rwkv::plot {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double num_or_nan(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number()) return kNaN;
  return it->get<double>();
}

// The folder name that names a run: "out/demo/" -> "demo", "out/demo/metrics.jsonl" -> "demo".
std::string run_name(const fs::path& dir) {
  fs::path p = dir;
  if (p.filename().empty()) p = p.parent_path();
  std::string n = fs::absolute(p).lexically_normal().filename().string();
  if (n.empty()) n = fs::absolute(p).lexically_normal().parent_path().filename().string();
  return n.empty() ? p.string() : n;
}

void drop_from(Series& s, size_t n) {
  s.step.resize(n), s.tokens.resize(n), s.time_s.resize(n);
  for (auto& [k, v] : s.values) v.resize(n);
}

}  // namespace

const std::vector<std::string>& known_metrics() {
  static const std::vector<std::string> m = {"loss", "lr", "grad_norm", "tokens_per_s"};
  return m;
}

Series read_run(const std::string& path) {
  fs::path file = path;
  Series s;
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    s.name = run_name(file);
    file /= "metrics.jsonl";
    if (!fs::exists(file, ec))
      fail("plot", "{}: no metrics.jsonl in this folder (is it a `rwkv train` --proj_dir?)", path);
  } else {
    if (!fs::exists(file, ec)) fail("plot", "{}: no such file or folder", path);
    s.name = run_name(file.parent_path().empty() ? fs::path(".") : file.parent_path());
  }
  s.source = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("plot", "{}: cannot read", s.source);

  std::string line;
  int64_t lineno = 0;
  double t = 0;
  while (std::getline(in, line)) {
    lineno++;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      fail("plot", "{}:{}: empty line (metrics.jsonl has one JSON object per line)", s.source, lineno);
    json o = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (o.is_discarded() || !o.is_object())
      fail("plot", "{}:{}: not a complete JSON object (truncated line?): {}", s.source, lineno,
           line.size() > 80 ? line.substr(0, 80) + "..." : line);
    auto st = o.find("step");
    if (st == o.end() || !st->is_number_integer())
      fail("plot", "{}:{}: no integer \"step\" in the line", s.source, lineno);
    double step = double(st->get<int64_t>());
    // A step that is not after the previous one: the run restarted from a checkpoint there.
    if (!s.step.empty() && step <= s.step.back()) {
      size_t keep = 0;
      while (keep < s.step.size() && s.step[keep] < step) keep++;
      drop_from(s, keep);
      t = keep ? s.time_s[keep - 1] : 0;
    }
    double tokens = num_or_nan(o, "tokens"), tps = num_or_nan(o, "tokens_per_s");
    double per_step = tokens / (step + 1);  // the trainer logs tokens = (step + 1) * tokens_per_step
    if (std::isfinite(per_step) && std::isfinite(tps) && tps > 0) t += per_step / tps;
    const size_t n = s.step.size();
    s.step.push_back(step);
    s.tokens.push_back(tokens);
    s.time_s.push_back(t);
    // Every numeric (or null) field but the x axes is a metric; one missing from a line is NaN.
    for (auto& [k, v] : o.items())
      if (k != "step" && k != "tokens" && (v.is_number() || v.is_null())) s.values[k].resize(n, kNaN);
    for (auto& [k, v] : s.values) v.push_back(num_or_nan(o, k.c_str()));
  }
  if (lineno == 0) fail("plot", "{}: empty file (no step logged yet)", s.source);
  if (!in.eof()) fail("plot", "{}: read error after line {}", s.source, lineno);
  return s;
}

Series read_reference(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("plot", "{}: cannot read the reference trajectory", path);
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail("plot", "{}: not valid JSON", path);
  const json* steps = &j;
  double tokens_per_step = kNaN;
  if (j.is_object()) {
    auto it = j.find("steps");
    if (it == j.end() || !it->is_array()) fail("plot", "{}: no \"steps\" list (expected a trajectory.json)", path);
    steps = &*it;
    if (auto m = j.find("model"); m != j.end() && m->is_object())
      tokens_per_step = num_or_nan(*m, "ctx_len") * num_or_nan(*m, "micro_bsz");
  } else if (!j.is_array()) {
    fail("plot", "{}: expected a list of steps or an object with \"steps\"", path);
  }
  Series s;
  fs::path p = path;
  s.name = "ref " + (p.parent_path().filename() / p.filename()).string();
  s.source = path;
  size_t i = 0;
  for (auto& e : *steps) {
    i++;
    if (!e.is_object() || !e.contains("step") || !e["step"].is_number_integer())
      fail("plot", "{}: steps[{}] has no integer \"step\"", path, i - 1);
    double step = e["step"].get<double>();
    s.step.push_back(step);
    s.tokens.push_back((step + 1) * tokens_per_step);
    s.time_s.push_back(kNaN);
    for (auto& m : known_metrics())
      if (e.contains(m)) s.values[m];
    for (auto& [k, v] : s.values) {
      v.resize(s.step.size() - 1, kNaN);
      v.push_back(num_or_nan(e, k.c_str()));
    }
  }
  for (auto& [k, v] : s.values) v.resize(s.step.size(), kNaN);
  if (s.step.empty()) fail("plot", "{}: the trajectory has no steps", path);
  return s;
}

}  // namespace rwkv::plot
