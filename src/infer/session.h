// session.h — one sequence being run: a Runner, its recurrent state, the tokens waiting to be
// fed and the logits of the last fed token. Tokens are fed lazily in chunks of chunk_len (a
// prompt of any length fits in memory). State files (safetensors) record the model identity
// (arch, n_layer, n_embd, head_size, vocab_size) and are refused for another model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "infer/runner.h"

namespace rwkv {

class Session {
 public:
  explicit Session(Runner& r, int chunk_len = 256);

  Runner& runner() { return r_; }
  void set_chunk_len(int n);
  void reset();                              // zero state, nothing pending, no logits
  void feed(const std::vector<int32_t>& tokens) { feed(tokens.data(), tokens.size()); }
  void feed(const int32_t* tokens, size_t n);  // queued; run when logits/state are needed
  bool has_logits() const { return has_logits_ || !pending_.empty(); }
  const std::vector<float>& logits();        // (V) after the last token; throws if none
  const RunnerState& state();                // after every fed token
  int64_t n_tokens() const { return n_tokens_; }  // tokens fed since reset (incl. pending)

  // State file: the state, plus "logits" (V) when known. Metadata: model identity + format.
  void save(const std::string& path);
  void load(const std::string& path);  // "[state] <path>: ..." on mismatch; nothing changes then

 private:
  void flush();
  Runner& r_;
  int chunk_len_;
  RunnerState st_;
  std::vector<int32_t> pending_;
  std::vector<float> logits_;
  bool has_logits_ = false;
  int64_t n_tokens_ = 0;
};

// Lower-level state file access (also used by tools): writes/reads the named state tensors.
void save_state_file(const std::string& path, const ModelConfig& cfg, const RunnerState& st,
                     const std::vector<float>* logits);
// Reads into a copy of `like` (names and shapes must match; a leading batch dim of 1 is
// accepted). logits receives the saved logits, or is cleared when the file has none.
RunnerState load_state_file(const std::string& path, const ModelConfig& cfg, const RunnerState& like,
                            std::vector<float>* logits);

}  // namespace rwkv
