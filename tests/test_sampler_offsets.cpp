// test_sampler_offsets.cpp — the magic-prime sampler against the official run (acceptance 2:
// the first sample offset of every step of the demo trajectory) and against values Python's
// big-int arithmetic gives (dataset.py's formula) for large primes, epochs and ranks.
#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "core/error.h"
#include "data/binidx.h"
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

// Acceptance 3 of the data-parallel issue: each rank of a real multi-process run (make_rank_batch)
// takes exactly the samples of RWKV-LM's formula for its rank — ii = 1 + epoch*40320 +
// idx*world_size + rank, offset = (f * ii^3 mod p) * ctx_len, written here without the
// sampler's modular shortcut — and the ranks together are the rows of the one-process batch.
TEST(SamplerOffsets, EachRankTakesTheOfficialSamples) {
  const std::string data = rwkv::test::fixture("traj-demo-L4-D256-bytes") + "/data";
  rwkv::BinidxReader reader(data);
  const uint64_t p = 2309, ctx = 128, micro = 4, f = golden_factor(p);
  for (uint64_t world : {1, 2, 4})
    for (uint64_t epoch : {0, 3})
      for (uint64_t step : {0, 1, 17}) {
        StepBatch all, one;
        make_batch(reader, p, ctx, epoch, step, micro, world, all);
        ASSERT_EQ(all.B, int(world * micro));
        for (uint64_t rank = 0; rank < world; rank++) {
          make_rank_batch(reader, p, ctx, epoch, step, micro, world, rank, one);
          ASSERT_EQ(one.B, int(micro));
          for (uint64_t b = 0; b < micro; b++) {
            const uint64_t idx = step * micro + b;
            const unsigned __int128 ii = 1 + epoch * 40320 + idx * world + rank;
            const uint64_t want = uint64_t((f * ii * ii * ii) % p) * ctx;  // < 2^128: ii < 2^20, f < 2^12
            EXPECT_EQ(one.offsets[b], want) << "world " << world << " rank " << rank << " idx " << idx;
            EXPECT_EQ(one.offsets[b], all.offsets[rank * micro + b]);
          }
          EXPECT_TRUE(std::equal(one.tokens.begin(), one.tokens.end(),
                                 all.tokens.begin() + long(rank * micro * (ctx + 1))))
              << "world " << world << " rank " << rank;
        }
      }
  // The ranks of world 2 x micro 4 read the samples of world 1 x micro 8 (same real batch).
  StepBatch w1, r0, r1;
  make_batch(reader, p, ctx, 0, 5, 8, 1, w1);
  make_rank_batch(reader, p, ctx, 0, 5, 4, 2, 0, r0);
  make_rank_batch(reader, p, ctx, 0, 5, 4, 2, 1, r1);
  std::vector<uint64_t> a(w1.offsets), b(r0.offsets);
  b.insert(b.end(), r1.offsets.begin(), r1.offsets.end());
  std::sort(a.begin(), a.end()), std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
}
