// magic_prime.h — RWKV-LM's "magic prime": the largest prime p ≡ 2 (mod 3) with
// p <= floor(tokens / ctx_len) - 1, which makes the sampler visit every chunk once per cycle.
#pragma once
#include <cstdint>
#include <string>

namespace rwkv {

bool is_prime(uint64_t n);
// 0 when none exists (make_data.py needs tokens >= 3*ctx_len to print one).
uint64_t magic_prime(uint64_t tokens, uint64_t ctx_len);

// What make_data.py prints for it (empty when magic_prime() is 0):
// "\n### magic_prime = P (for ctxlen L)\n\n--my_exit_tokens N --magic_prime P --ctx_len L\n\n"
std::string magic_prime_report(uint64_t tokens, uint64_t ctx_len);

}  // namespace rwkv
