// test_make_data_prime.cpp — the magic prime (library and `rwkv magic-prime`), against the
// numbers make_data.py prints.
#include "data/magic_prime.h"
#include "test_util.h"

using rwkv::test::fixture;
using rwkv::test::run_cli;

TEST(MagicPrime, KnownValues) {
  EXPECT_EQ(rwkv::magic_prime(1498226207, 512), 2926181u);
  EXPECT_EQ(rwkv::magic_prime(1498226207, 4096), 365759u);
  EXPECT_EQ(rwkv::magic_prime(66833, 512), 113u);    // fixtures/make-data
  EXPECT_EQ(rwkv::magic_prime(296553, 128), 2309u);  // fixtures/traj-demo-L4-D256-bytes
  EXPECT_EQ(rwkv::magic_prime(3 * 512 - 1, 512), 0u);  // make_data.py needs >= 3*ctx_len tokens
  EXPECT_EQ(rwkv::magic_prime(3 * 512, 512), 2u);      // 3 chunks -> i <= 2, and 2 = 2 mod 3 is prime
  EXPECT_EQ(rwkv::magic_prime(100, 0), 0u);
}

TEST(MagicPrime, IsPrime) {
  int count = 0;
  for (uint64_t n = 0; n < 1000; ++n) count += rwkv::is_prime(n);
  EXPECT_EQ(count, 168);
  EXPECT_TRUE(rwkv::is_prime(2926181));
  EXPECT_FALSE(rwkv::is_prime(2926183ull * 3));
  EXPECT_TRUE(rwkv::is_prime(4294967291ull));  // largest 32-bit prime
}

// The Miller-Rabin test agrees with make_data.py's trial division everywhere it is checked, and
// answers for 64-bit numbers (trial division near 2^64 would run for minutes).
TEST(MagicPrime, IsPrimeMatchesTrialDivisionAndScalesTo64Bits) {
  auto trial = [](uint64_t n) {
    if (n < 2) return false;
    for (uint64_t d = 2; d <= n / d; d++)
      if (n % d == 0) return false;
    return true;
  };
  for (uint64_t n = 0; n < 200000; ++n) ASSERT_EQ(rwkv::is_prime(n), trial(n)) << n;
  for (uint64_t n = 4294967296ull - 2000; n < 4294967296ull + 2000; ++n) ASSERT_EQ(rwkv::is_prime(n), trial(n)) << n;
  EXPECT_FALSE(rwkv::is_prime(3215031751ull));          // strong pseudoprime to bases 2, 3, 5, 7
  EXPECT_FALSE(rwkv::is_prime(3825123056546413051ull));  // ... to bases 2 through 23
  EXPECT_TRUE(rwkv::is_prime(2305843009213693951ull));   // 2^61 - 1
  EXPECT_TRUE(rwkv::is_prime(18446744073709551557ull));  // 2^64 - 59, the largest 64-bit prime
  EXPECT_FALSE(rwkv::is_prime(18446744073709551615ull));
  // Token counts and context lengths near 2^64: no overflow of 3 * ctx_len, no endless search.
  EXPECT_EQ(rwkv::magic_prime(UINT64_MAX, 1), 18446744073709551557ull);  // = 2 mod 3
  EXPECT_EQ(rwkv::magic_prime(UINT64_MAX, uint64_t(1) << 62), 2u);       // 3 chunks of 2^62 fit: i <= 2
  EXPECT_EQ(rwkv::magic_prime(UINT64_MAX, uint64_t(3) << 61), 0u);       // 3 chunks of 1.5 * 2^62 do not
  EXPECT_EQ(rwkv::magic_prime(1000, uint64_t(1) << 63), 0u);             // 3 * ctx_len would wrap to 2^63
}

static std::string expected_report() {  // make_data.py prints a blank line before it
  std::string s(1, '\n');
  s.append(rwkv::test::read_file(fixture("make-data/demo_make_data_output.txt")));
  return s;
}

TEST(MagicPrime, ReportMatchesMakeDataPy) {
  EXPECT_EQ(expected_report(), rwkv::magic_prime_report(66833, 512));
  EXPECT_EQ(rwkv::magic_prime_report(10, 512), "");
}

TEST(MagicPrimeCli, TokensAndData) {
  auto r = run_cli("magic-prime --tokens 1498226207 --ctx_len 512");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("### magic_prime = 2926181 (for ctxlen 512)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--my_exit_tokens 1498226207 --magic_prime 2926181 --ctx_len 512"), std::string::npos);
  r = run_cli("magic-prime --tokens 1498226207 --ctx_len 4096");
  EXPECT_NE(r.out.find("### magic_prime = 365759 (for ctxlen 4096)"), std::string::npos) << r.out;
  r = run_cli("magic-prime --data " + rwkv::test::fixtures_dir() + "/make-data/demo" + " --ctx_len 512");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, expected_report());
}

TEST(MagicPrimeCli, Errors) {
  auto r = run_cli("magic-prime --tokens 100 --ctx_len 512");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("too few"), std::string::npos) << r.err;
  r = run_cli("magic-prime --ctx_len 512");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--tokens N or --data PREFIX"), std::string::npos) << r.err;
  r = run_cli("magic-prime --tokens 100");
  EXPECT_NE(r.status, 0);
  r = run_cli("magic-prime --data /nonexistent/prefix --ctx_len 512");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/nonexistent/prefix.idx: no such file"), std::string::npos) << r.err;
}
