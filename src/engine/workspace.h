// workspace.h — everything one forward call writes besides the state slots: activation
// scratch (an Arena) and the logits the batch asked for. Caller-owned: one Workspace per
// thread that drives the engine; a forward never writes the engine itself.
#pragma once
#include <cstdint>
#include <vector>

#include "core/allocator.h"
#include "core/arena.h"
#include "model/model.h"

namespace rwkv {

class Workspace {
 public:
  // max_rows: tokens per model pass; longer calls run in passes (bounded activation memory).
  explicit Workspace(int max_rows = 256, Allocator& alloc = cpu_allocator());

  // Logits of entry i of the last forward: (n, V) for Logits::All, (V) for Last; null for None.
  const float* logits(int entry) const;
  int64_t logits_rows(int entry) const;  // n, 1 or 0
  int max_rows() const { return max_rows_; }
  size_t scratch_peak_bytes() const { return arena_.peak_bytes(); }

 private:
  friend class Engine;
  int max_rows_;
  Allocator* alloc_;
  Arena arena_;
  Buffer logits_;                       // (R, V) of the last call
  int64_t V_ = 0;
  std::vector<int64_t> first_row_, rows_;  // per entry: first logits row, number of rows
  // per-call bookkeeping, reused across calls
  std::vector<int32_t> tokens_;
  std::vector<int64_t> done_, logit_rows_, logit_dest_;
  std::vector<SeqRun> runs_;
};

}  // namespace rwkv
