// session.h — one sequence being run on an Engine: its state slot (a one-slot StatePool), the
// tokens waiting to be fed and the logits of the last fed token. Tokens are fed lazily in
// chunks of chunk_len (a prompt of any length fits in memory). State files record the model
// identity and are refused for another model (engine/state_file.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace rwkv {

class Session {
 public:
  explicit Session(const Engine& e, int chunk_len = 256);

  const Engine& engine() const { return e_; }
  int vocab_size() const { return e_.vocab_size(); }
  void set_chunk_len(int n);
  void reset();                              // fresh state, nothing pending, no logits
  void feed(const std::vector<int32_t>& tokens) { feed(tokens.data(), tokens.size()); }
  void feed(const int32_t* tokens, size_t n);  // queued; run when logits/state are needed
  bool has_logits() const { return has_logits_ || !pending_.empty(); }
  const std::vector<float>& logits();        // (V) after the last token; throws if none
  StateDict state();                         // named copy of the state after every fed token
  int64_t n_tokens() const { return n_tokens_; }  // tokens fed since reset (incl. pending)
  size_t pending() const { return pending_.size(); }  // fed but not yet run

  // State file: the state, plus "logits" (V) when known. Metadata: model identity + format.
  void save(const std::string& path);
  void load(const std::string& path);  // "[state] <path>: ..." on mismatch; nothing changes then

 private:
  void flush();
  const Engine& e_;
  int chunk_len_;
  StatePool pool_;  // one slot
  Workspace ws_;
  std::vector<int32_t> pending_;
  std::vector<float> logits_;
  bool has_logits_ = false;
  int64_t n_tokens_ = 0;
};

}  // namespace rwkv
