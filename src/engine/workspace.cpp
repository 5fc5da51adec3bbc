// workspace.cpp — see workspace.h.
#include "engine/workspace.h"

#include "core/error.h"

namespace rwkv {

Workspace::Workspace(int max_rows, Allocator& alloc) : max_rows_(max_rows), alloc_(&alloc), arena_(alloc) {
  if (max_rows < 1) fail("engine", "a workspace needs max_rows >= 1, got {}", max_rows);
}

const float* Workspace::logits(int entry) const {
  if (entry < 0 || size_t(entry) >= rows_.size()) fail("engine", "no entry {} in the last forward", entry);
  return rows_[entry] ? logits_.as<float>() + first_row_[entry] * V_ : nullptr;
}

int64_t Workspace::logits_rows(int entry) const {
  if (entry < 0 || size_t(entry) >= rows_.size()) fail("engine", "no entry {} in the last forward", entry);
  return rows_[entry];
}

}  // namespace rwkv
