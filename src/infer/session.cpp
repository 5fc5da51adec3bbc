// session.cpp — see session.h.
#include "infer/session.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "engine/state_file.h"

namespace rwkv {

Session::Session(const Engine& e, int chunk_len) : e_(e), pool_(e.make_pool(1)) {
  set_chunk_len(chunk_len);
  reset();
}

void Session::set_chunk_len(int n) {
  if (n < 1) fail("infer", "chunk_len must be >= 1, got {}", n);
  chunk_len_ = n;
}

void Session::reset() {
  pool_.zero(0);
  pending_.clear();
  logits_.clear();
  has_logits_ = false;
  n_tokens_ = 0;
}

void Session::feed(const int32_t* tokens, size_t n) {
  int V = e_.vocab_size();
  for (size_t i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= V)
      fail("infer", "token id {} is outside the model's vocabulary [0, {})", tokens[i], V);
  pending_.insert(pending_.end(), tokens, tokens + n);
  n_tokens_ += int64_t(n);
}

void Session::flush() {
  if (pending_.empty()) return;
  logits_.resize(e_.vocab_size());
  for (size_t i = 0; i < pending_.size(); i += chunk_len_) {
    size_t n = std::min<size_t>(chunk_len_, pending_.size() - i);
    bool last = i + n == pending_.size();
    BatchEntry b{0, {pending_.data() + i, n}, last ? Logits::Last : Logits::None};
    e_.forward({&b, 1}, pool_, ws_);
    if (last) std::memcpy(logits_.data(), ws_.logits(0), sizeof(float) * logits_.size());
  }
  pending_.clear();
  has_logits_ = true;
}

const std::vector<float>& Session::logits() {
  flush();
  if (!has_logits_) fail("infer", "no logits yet: feed at least one token (the prompt is empty)");
  return logits_;
}

StateDict Session::state() {
  flush();
  return pool_.to_state_dict(0);
}

void Session::save(const std::string& path) {
  flush();
  save_state_file(path, e_.config(), pool_, 0, has_logits_ ? &logits_ : nullptr);
}

void Session::load(const std::string& path) {
  std::vector<float> lg;
  load_state_file(path, e_.config(), pool_, 0, &lg);
  pending_.clear();
  has_logits_ = !lg.empty();
  logits_ = std::move(lg);
  n_tokens_ = 0;
}

}  // namespace rwkv
