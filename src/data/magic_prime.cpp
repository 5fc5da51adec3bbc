// magic_prime.cpp — see magic_prime.h; the search make_data.py does.
#include "data/magic_prime.h"

#include <fmt/format.h>

namespace rwkv {

bool is_prime(uint64_t n) {
  if (n <= 1) return false;
  if (n <= 3) return true;
  if (n % 2 == 0 || n % 3 == 0) return false;
  for (uint64_t i = 5; i * i <= n; i += 6)
    if (n % i == 0 || n % (i + 2) == 0) return false;
  return true;
}

uint64_t magic_prime(uint64_t tokens, uint64_t ctx_len) {
  if (ctx_len == 0 || tokens < 3 * ctx_len) return 0;
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
