// prefix_cache.cpp — see prefix_cache.h. Prefixes are found by an FNV-1a hash of their tokens,
// every hash checked against the stored tokens.
#include "serve/prefix_cache.h"

#include <algorithm>

namespace rwkv {

namespace {
constexpr uint64_t kFnvBasis = 1469598103934665603ull, kFnvPrime = 1099511628211ull;
inline uint64_t fnv_step(uint64_t h, int32_t t) {
  for (int b = 0; b < 4; b++) h = (h ^ ((uint32_t(t) >> (8 * b)) & 0xff)) * kFnvPrime;
  return h;
}
size_t entry_bytes(size_t tokens, size_t floats) { return tokens * sizeof(int32_t) + floats * sizeof(float) + 64; }
}  // namespace

uint64_t PrefixCache::hash(std::span<const int32_t> t) {
  uint64_t h = kFnvBasis;
  for (int32_t x : t) h = fnv_step(h, x);
  return h;
}

std::list<PrefixCache::Entry>::iterator PrefixCache::find(uint64_t h, std::span<const int32_t> t) const {
  auto [a, b] = index_.equal_range(h);
  for (auto it = a; it != b; ++it)
    if (std::equal(it->second->tokens.begin(), it->second->tokens.end(), t.begin(), t.end())) return it->second;
  return lru_.end();
}

bool PrefixCache::contains(std::span<const int32_t> prefix) const { return find(hash(prefix), prefix) != lru_.end(); }

int64_t PrefixCache::lookup(std::span<const int32_t> tokens, const std::vector<float>** state) {
  if (index_.empty() || tokens.size() < 2) return 0;
  std::vector<uint64_t> h(tokens.size());  // h[p-1]: hash of tokens[0, p)
  uint64_t x = kFnvBasis;
  for (size_t i = 0; i < tokens.size(); i++) h[i] = x = fnv_step(x, tokens[i]);
  for (size_t p = tokens.size() - 1; p >= 1; p--) {
    auto it = find(h[p - 1], tokens.first(p));
    if (it == lru_.end()) continue;
    lru_.splice(lru_.begin(), lru_, it);
    *state = &it->state;
    hits++;
    cached_tokens += int64_t(p);
    return int64_t(p);
  }
  return 0;
}

void PrefixCache::insert(std::span<const int32_t> prefix, std::span<const float> state) {
  const size_t need = entry_bytes(prefix.size(), state.size());
  if (!enabled() || need > budget_ || prefix.empty()) return;
  const uint64_t h = hash(prefix);
  if (auto it = find(h, prefix); it != lru_.end()) {
    lru_.splice(lru_.begin(), lru_, it);
    return;  // the same tokens give the same state
  }
  while (!lru_.empty() && size_t(bytes.load()) + need > budget_) {
    Entry& e = lru_.back();
    auto [a, b] = index_.equal_range(e.hash);
    for (auto it = a; it != b; ++it)
      if (it->second == std::prev(lru_.end())) {
        index_.erase(it);
        break;
      }
    bytes -= int64_t(entry_bytes(e.tokens.size(), e.state.size()));
    entries--;
    lru_.pop_back();
  }
  lru_.push_front({h, std::vector<int32_t>(prefix.begin(), prefix.end()), std::vector<float>(state.begin(), state.end())});
  index_.emplace(h, lru_.begin());
  bytes += int64_t(need);
  entries++;
}

}  // namespace rwkv
