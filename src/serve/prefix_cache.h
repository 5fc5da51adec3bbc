// prefix_cache.h — the server's prefix-state cache: recurrent states after token prefixes of
// earlier prompts (every `interval` tokens, at each prompt's end and one token before it, and
// after each finished generation), under a byte budget with least-recently-used eviction. A
// new prompt starts from the state of its longest cached proper prefix, so multi-turn chat and
// regenerate do not re-read the conversation. Used by the scheduler thread only (not locked);
// the counters may be read from any thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

namespace rwkv {

class PrefixCache {
 public:
  PrefixCache(size_t budget_bytes, int64_t interval) : budget_(budget_bytes), interval_(interval) {}
  // Length p of the longest cached prefix with p < tokens.size() (0: none); *state points at its
  // state until the next insert. Counts a hit when p > 0.
  int64_t lookup(std::span<const int32_t> tokens, const std::vector<float>** state);
  // Keeps a copy of the state after `prefix` (nothing when the same tokens are cached: same
  // state); evicts the least recently used entries beyond the budget. A state larger than the
  // budget is not kept.
  void insert(std::span<const int32_t> prefix, std::span<const float> state);
  bool contains(std::span<const int32_t> prefix) const;
  int64_t interval() const { return interval_; }
  bool enabled() const { return budget_ > 0; }

  std::atomic<int64_t> hits{0}, cached_tokens{0}, bytes{0}, entries{0};

 private:
  struct Entry {
    uint64_t hash;
    std::vector<int32_t> tokens;
    std::vector<float> state;
  };
  static uint64_t hash(std::span<const int32_t> t);
  std::list<Entry>::iterator find(uint64_t h, std::span<const int32_t> t) const;
  size_t budget_;
  int64_t interval_;
  mutable std::list<Entry> lru_;  // front: most recently used
  std::unordered_multimap<uint64_t, std::list<Entry>::iterator> index_;
};

}  // namespace rwkv
