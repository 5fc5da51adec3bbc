// strategy.cpp — parsing and planning of pip-package strategy strings (see strategy.h). The
// parser accepts exactly what the package's STRATEGY_REGEX accepts (an empty stage aside, on
// which the package crashes); plan() follows the package's allocation loop step by step.
#include "engine/strategy.h"

#include <cctype>

#include "core/error.h"

namespace rwkv {

namespace {

std::string trim_spaces(const std::string& s) {  // the package strips spaces only (str.strip also strips tabs; its regex allows only spaces)
  size_t a = 0, b = s.size();
  while (a < b && s[a] == ' ') a++;
  while (b > a && s[b - 1] == ' ') b--;
  return s.substr(a, b - a);
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

[[noreturn]] void bad(const std::string& text, size_t i, const std::string& stage, const std::string& why) {
  fail("strategy", "'{}': stage {} '{}' {} (expected \"<device> <dtype> [*N][+]\" with device cpu, cuda, cuda:N, "
       "mps or dml and dtype fp32, fp16 or bf16, optionally followed by i8 or q4)", text, i + 1, stage, why);
}

StrategyStage parse_stage(const std::string& text, size_t i, const std::string& raw) {
  StrategyStage st;
  st.text = trim_spaces(raw);
  if (st.text.empty()) bad(text, i, st.text, "is empty");
  // single spaces between the parts, as the package's regex requires
  std::vector<std::string> parts;
  size_t p = 0;
  while (true) {
    size_t q = st.text.find(' ', p);
    parts.push_back(st.text.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) break;
    p = q + 1;
  }
  for (const std::string& part : parts)
    if (part.empty()) bad(text, i, st.text, "does not have its parts separated by single spaces");
  if (parts.size() < 2 || parts.size() > 3) bad(text, i, st.text, "does not have 2 or 3 parts separated by single spaces");
  const std::string& dev = parts[0];
  if (dev == "cpu" || dev == "mps" || dev == "dml" || dev == "cuda" ||
      (dev.rfind("cuda:", 0) == 0 && all_digits(dev.substr(5))))
    st.device = dev;
  else
    bad(text, i, st.text, "names device '" + dev + "'");
  std::string dt = parts[1];
  if (dt.size() == 6 && (dt.ends_with("i8") || dt.ends_with("i4") || dt.ends_with("i3"))) {
    st.quant_bits = dt[5] - '0';
    dt = dt.substr(0, 4);
  } else if (dt.size() == 6 && dt.ends_with("q4")) {
    st.q4 = true;
    dt = dt.substr(0, 4);
  }
  if (dt == "fp32") st.atype = DType::F32;
  else if (dt == "fp16") st.atype = DType::F16;
  else if (dt == "bf16") st.atype = DType::BF16;
  else bad(text, i, st.text, "has dtype '" + parts[1] + "'");
  if (parts.size() == 3) {
    std::string n = parts[2];
    if (n.size() < 2 || n[0] != '*') bad(text, i, st.text, "has '" + n + "' where \"*N\" or \"*N+\" belongs");
    n = n.substr(1);
    if (n.ends_with("+")) {
      st.stream = true;
      n.pop_back();
    }
    if (!all_digits(n) || n.size() > 9) bad(text, i, st.text, "has '" + parts[2] + "' where \"*N\" or \"*N+\" belongs");
    st.count = std::stoi(n);
  }
  return st;
}

}  // namespace

Strategy Strategy::parse(const std::string& text) {
  Strategy s;
  std::vector<std::string> raw;
  size_t p = 0;
  while (true) {
    size_t q = text.find("->", p);
    raw.push_back(text.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) break;
    p = q + 2;
  }
  for (size_t i = 0; i < raw.size(); i++) {
    s.stages.push_back(parse_stage(text, i, raw[i]));
    s.text += (i ? " -> " : "") + s.stages.back().text;
  }
  return s;
}

std::vector<LayerPlacement> Strategy::plan(int n_layer) const {
  const int n = int(stages.size());
  std::vector<long long> plan(n, 0);
  int stream_i = -1;
  long long stream_count = 0, allocated = 0, free_slots = 0;
  const long long to_allocate = n_layer + 1;
  for (int i = 0; i < n; i++) {
    const StrategyStage& st = stages[i];
    if (st.count >= 0) {
      plan[i] = st.count;
      if (st.stream) stream_i = i;
      allocated += plan[i];
      if (allocated >= to_allocate) {
        plan[i] += to_allocate - allocated;
        break;
      }
    } else {
      free_slots++;
    }
  }
  if (stream_i < 0) {
    if (free_slots > 0 && to_allocate > allocated)
      for (int i = 0; i < n; i++)
        if (plan[i] == 0) {
          if (free_slots == 0)
            fail("strategy", "'{}': stage {} '{}' is left with no layers to share (the pip package divides by zero "
                 "here): give it a count or remove it", text, i + 1, stages[i].text);
          plan[i] = (to_allocate - allocated) / free_slots;
          allocated += plan[i];
          free_slots--;
        }
    if (to_allocate > allocated) plan[n - 1] += to_allocate - allocated;
  } else if (to_allocate > allocated) {
    stream_count = to_allocate - allocated;
    plan[stream_i] += stream_count;
  }
  for (int i = 1; i < n; i++) plan[i] += plan[i - 1];
  std::vector<LayerPlacement> out(size_t(n_layer) + 1);
  for (int l = 0; l <= n_layer; l++) {
    int i = 0;
    while (i < n && l >= plan[i]) i++;
    RWKV_CHECK(i < n, "strategy plan does not cover layer {}", l);
    const StrategyStage& st = stages[i];
    out[l] = {i, st.device, st.atype, st.quant_bits, i == stream_i && l >= plan[i] - stream_count, st.q4};
  }
  return out;
}

std::string quantized_stage_dtype(const std::string& dtype) {
  if (dtype == "int8") return "fp32i8";
  if (dtype == "q4") return "fp32q4";
  return dtype.ends_with("i8") || dtype.ends_with("q4") ? dtype : std::string();
}

int strategy_layer_of(const std::string& name, int n_layer) {
  if (name.find("ln_out.") != std::string::npos || name.find("head.") != std::string::npos) return n_layer;
  const size_t b = name.find("blocks.");
  if (b == std::string::npos) return 0;
  size_t e = b + 7, d = e;
  while (d < name.size() && std::isdigit(static_cast<unsigned char>(name[d]))) d++;
  return d > e ? std::stoi(name.substr(e, d - e)) : 0;
}

std::string describe_plan(const std::vector<LayerPlacement>& plan) {
  std::string s;
  for (size_t l = 0; l < plan.size(); l++) {
    const LayerPlacement& p = plan[l];
    s += fmt::format("{}\t{}\t{}{}{}{}\n", l, p.device, dtype_name(p.atype), p.quant_bits ? fmt::format("i{}", p.quant_bits) : p.q4 ? "q4" : "",
                     p.stream ? " stream" : "", l + 1 == plan.size() ? " (ln_out+head)" : "");
  }
  return s;
}

}  // namespace rwkv
