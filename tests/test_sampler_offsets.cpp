// test_sampler_offsets.cpp — the magic-prime sampler against the official run (acceptance 2:
// the first sample offset of every step of the demo trajectory) and against values Python's
// big-int arithmetic gives (dataset.py's formula) for large primes, epochs and ranks.
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "core/error.h"
#include "train/sampler.h"

using namespace rwkv::train;

TEST(SamplerOffsets, EveryStepOfTheDemoTrajectory) {
  std::ifstream f(rwkv::test::fixture("traj-demo-L4-D256-bytes/trajectory.json"));
  auto j = nlohmann::json::parse(f);
  const uint64_t p = j["data"]["magic_prime"], ctx = j["model"]["ctx_len"], bsz = j["model"]["micro_bsz"];
  ASSERT_EQ(p, 2309u);
  ASSERT_EQ(j["steps"].size(), 300u);
  int checked = 0;
  for (auto& s : j["steps"]) {
    uint64_t step = s["step"];
    // epoch 0 (40320 samples per mini-epoch > 300 steps * 8), world_size 1, rank 0
    EXPECT_EQ(sample_offset(p, ctx, 0, step * bsz), s["first_sample_offset"].get<uint64_t>()) << "step " << step;
    checked++;
  }
  EXPECT_EQ(checked, 300);
}

TEST(SamplerOffsets, MatchesPythonBigIntArithmetic) {
  // Values computed with dataset.py's expression in Python.
  EXPECT_EQ(golden_factor(2926181), 1808479u);
  EXPECT_EQ(sample_offset(2926181, 512, 0, 0), 925941248u);
  EXPECT_EQ(sample_offset(2926181, 512, 5, 1234, 8, 3), 911860224u);
  EXPECT_EQ(golden_factor(999999999989ull), 618033988743ull);
  EXPECT_EQ(sample_offset(999999999989ull, 4096, 123456, 40319), 1165916181442560ull);
  EXPECT_EQ(sample_offset(999999999989ull, 1, 1000000, 5039, 8, 7), 72745827108ull);
}

TEST(SamplerOffsets, OneCycleVisitsEverySlotOnce) {
  // p ≡ 2 mod 3 makes x -> x^3 a bijection mod p: ii = 1..p hits every slot exactly once.
  const uint64_t p = 2309;
  std::vector<int> seen(p, 0);
  for (uint64_t idx = 0; idx < p; idx++) seen[sample_offset(p, 1, 0, idx)]++;
  for (uint64_t i = 0; i < p; i++) ASSERT_EQ(seen[i], 1) << "slot " << i;
}

TEST(SamplerOffsets, MagicPrimeValidation) {
  // 296553 tokens / 128 = 2316 slots; 2309 is the official choice.
  EXPECT_NO_THROW(validate_magic_prime(2309, 296553, 128, "d"));
  auto msg = [](uint64_t p, uint64_t n, uint64_t ctx) {
    try {
      validate_magic_prime(p, n, ctx, "d");
    } catch (const rwkv::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg(2311, 296553, 128).find("not 2 mod 3"), std::string::npos);   // prime, 2311 % 3 == 1
  EXPECT_NE(msg(2307, 296553, 128).find("not a prime"), std::string::npos);
  EXPECT_NE(msg(2003, 296553, 128).find("(0.9, 1]"), std::string::npos);    // prime 2 mod 3, too small
  EXPECT_NE(msg(0, 296553, 128).find("not set"), std::string::npos);
  EXPECT_NE(msg(2309, 100, 128).find("shorter than one sample"), std::string::npos);
  EXPECT_NE(msg(2311, 296553, 128).find("--magic_prime 2309"), std::string::npos);  // suggests the right one
}
