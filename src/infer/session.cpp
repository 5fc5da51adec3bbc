// session.cpp — see session.h.
#include "infer/session.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "io/model_file.h"

namespace rwkv {

Session::Session(Runner& r, int chunk_len) : r_(r) {
  set_chunk_len(chunk_len);
  reset();
}

void Session::set_chunk_len(int n) {
  if (n < 1) fail("infer", "chunk_len must be >= 1, got {}", n);
  chunk_len_ = n;
}

void Session::reset() {
  st_ = r_.zero_state();
  pending_.clear();
  logits_.clear();
  has_logits_ = false;
  n_tokens_ = 0;
}

void Session::feed(const int32_t* tokens, size_t n) {
  int V = r_.vocab_size();
  for (size_t i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= V)
      fail("infer", "token id {} is outside the model's vocabulary [0, {})", tokens[i], V);
  pending_.insert(pending_.end(), tokens, tokens + n);
  n_tokens_ += int64_t(n);
}

void Session::flush() {
  if (pending_.empty()) return;
  logits_.resize(r_.vocab_size());
  for (size_t i = 0; i < pending_.size(); i += chunk_len_) {
    size_t n = std::min<size_t>(chunk_len_, pending_.size() - i);
    bool last = i + n == pending_.size();
    r_.forward(pending_.data() + i, int64_t(n), st_, last ? logits_.data() : nullptr, false);
  }
  pending_.clear();
  has_logits_ = true;
}

const std::vector<float>& Session::logits() {
  flush();
  if (!has_logits_) fail("infer", "no logits yet: feed at least one token (the prompt is empty)");
  return logits_;
}

const RunnerState& Session::state() {
  flush();
  return st_;
}

void Session::save(const std::string& path) {
  flush();
  save_state_file(path, r_.config(), st_, has_logits_ ? &logits_ : nullptr);
}

void Session::load(const std::string& path) {
  std::vector<float> lg;
  RunnerState s = load_state_file(path, r_.config(), r_.zero_state(), &lg);
  st_ = std::move(s);
  pending_.clear();
  has_logits_ = !lg.empty();
  logits_ = std::move(lg);
  n_tokens_ = 0;
}

void save_state_file(const std::string& path, const ModelConfig& cfg, const RunnerState& st,
                     const std::vector<float>* logits) {
  StateDict sd;
  for (auto& [name, t] : st.items) sd.items.emplace_back(name, t);
  if (logits) {
    Tensor l = Tensor::empty(DType::F32, {int64_t(logits->size())});
    std::memcpy(l.data, logits->data(), logits->size() * 4);
    sd.items.emplace_back("logits", l);
  }
  auto meta = model_identity(cfg);
  meta["format"] = "rwkv-state";
  save_safetensors(path, sd, meta);
}

RunnerState load_state_file(const std::string& path, const ModelConfig& cfg, const RunnerState& like,
                            std::vector<float>* logits) {
  std::map<std::string, std::string> meta;
  StateDict sd = load_safetensors(path, &meta);
  auto want = model_identity(cfg);
  if (meta.count("format") && meta["format"] != "rwkv-state")
    fail("state", "{}: not a state file (format '{}')", path, meta["format"]);
  for (auto& [k, v] : want) {
    auto it = meta.find(k);
    if (it == meta.end())
      fail("state", "{}: metadata has no '{}' (not a state file written by rwkv?)", path, k);
    if (it->second != v)
      fail("state", "{}: made for another model: {} = {}, this model has {} = {} "
           "(state file: arch {} L{} D{}, model: arch {} L{} D{})", path, k, it->second, k, v,
           meta["arch"], meta["n_layer"], meta["n_embd"], want["arch"], want["n_layer"], want["n_embd"]);
  }
  RunnerState out = clone_state(like);
  for (auto& [name, t] : out.items) {
    const Tensor* src = sd.find(name);
    if (!src) fail("state", "{}: missing tensor '{}'", path, name);
    Shape s = src->shape;
    if (s.size() == t.shape.size() + 1 && s[0] == 1) s.erase(s.begin());
    if (s != t.shape)
      fail("state", "{}: tensor '{}' has shape {}, expected {}", path, name, shape_str(src->shape), shape_str(t.shape));
    std::vector<float> v = src->to_f32_vec();
    std::memcpy(t.data, v.data(), v.size() * 4);
  }
  if (logits) {
    logits->clear();
    if (const Tensor* l = sd.find("logits")) {
      if (l->numel() != cfg.vocab_size)
        fail("state", "{}: 'logits' has {} values, the model's vocabulary is {}", path, l->numel(), cfg.vocab_size);
      *logits = l->to_f32_vec();
    }
  }
  return out;
}

}  // namespace rwkv
