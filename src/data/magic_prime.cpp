// magic_prime.cpp — see magic_prime.h; the search make_data.py does.
#include "data/magic_prime.h"

#include <fmt/format.h>

namespace rwkv {

namespace {
uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) { return uint64_t((unsigned __int128)a * b % m); }
uint64_t powmod(uint64_t a, uint64_t e, uint64_t m) {
  uint64_t r = 1;
  for (a %= m; e; e >>= 1, a = mulmod(a, a, m))
    if (e & 1) r = mulmod(r, a, m);
  return r;
}
}  // namespace

// make_data.py divides by every 6k +- 1 up to sqrt(n): minutes for a 64-bit prime. Miller-Rabin
// with the first twelve primes as bases gives the same answer for every n < 2^64 (3.3e24 is the
// smallest strong pseudoprime to all of them), in microseconds.
bool is_prime(uint64_t n) {
  if (n < 2) return false;
  static constexpr uint64_t kBases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
  for (uint64_t p : kBases)
    if (n % p == 0) return n == p;
  uint64_t d = n - 1;
  int s = 0;
  for (; d % 2 == 0; d /= 2) s++;
  for (uint64_t a : kBases) {
    uint64_t x = powmod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s && composite; r++) {
      x = mulmod(x, x, n);
      if (x == n - 1) composite = false;
    }
    if (composite) return false;
  }
  return true;
}

uint64_t magic_prime(uint64_t tokens, uint64_t ctx_len) {
  if (ctx_len == 0 || tokens / 3 < ctx_len) return 0;  // tokens < 3 * ctx_len, without the product
  for (uint64_t i = tokens / ctx_len - 1; i > 0; --i)
    if (i % 3 == 2 && is_prime(i)) return i;
  return 0;
}

std::string magic_prime_report(uint64_t tokens, uint64_t ctx_len) {
  uint64_t p = magic_prime(tokens, ctx_len);
  if (!p) return {};
  return fmt::format("\n### magic_prime = {} (for ctxlen {})\n\n--my_exit_tokens {} --magic_prime {} --ctx_len {}\n\n",
                     p, ctx_len, tokens, p, ctx_len);
}

}  // namespace rwkv
