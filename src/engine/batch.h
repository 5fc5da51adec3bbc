// batch.h — one call of the engine: a list of entries, each one sequence's state slot and the
// next >= 1 tokens to feed it. Decode steps (1 token) and prefill chunks (many) mix freely.
#pragma once
#include <cstdint>
#include <span>

namespace rwkv {

enum class Logits { None, Last, All };  // which of the entry's tokens get logits

struct BatchEntry {
  int slot = 0;                      // StatePool slot, read and updated; distinct in one call
  std::span<const int32_t> tokens;   // >= 1 token ids, < vocab_size
  Logits logits = Logits::Last;
};

}  // namespace rwkv
