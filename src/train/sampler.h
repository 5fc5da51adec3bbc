// sampler.h — RWKV-LM's magic-prime sampler (dataset.py, train_stage 3): sample idx of
// mini-epoch `epoch` on `rank` of `world_size` starts at token
//   ii = 1 + epoch*40320 + idx*world_size + rank
//   offset = ((floor(p*(sqrt(5)-1)/2) * ii^3) mod p) * ctx_len          (p = magic_prime)
// computed exactly (128-bit modular arithmetic, Python big-int semantics), and the batch of a
// step: micro_bsz consecutive idx per rank, each ctx_len+1 tokens.
#pragma once
#include <cstdint>
#include <vector>

namespace rwkv {
class BinidxReader;
}

namespace rwkv::train {

// int(p * ((math.sqrt(5) - 1) / 2)) in IEEE double, as Python computes it.
uint64_t golden_factor(uint64_t magic_prime);
uint64_t sample_offset(uint64_t magic_prime, uint64_t ctx_len, uint64_t epoch, uint64_t idx,
                       uint64_t world_size = 1, uint64_t rank = 0);

// dataset.py's checks, as clear errors ("[train] --magic_prime ..."): data_tokens holds at
// least one sample of ctx_len+1 tokens; magic_prime is prime, ≡ 2 mod 3, and
// 0.9 < magic_prime / (data_tokens / ctx_len) <= 1; and every sample it can draw fits.
void validate_magic_prime(uint64_t magic_prime, uint64_t data_tokens, uint64_t ctx_len, const char* data_name);

struct StepBatch {
  int B = 0, T = 0;                     // B = world_size*micro_bsz rows, T = ctx_len
  std::vector<int32_t> tokens;          // (B, T+1): rank-major, then idx within the step
  std::vector<uint64_t> offsets;        // (B,) token offset of each row
};

// The rows every rank trains on at step `step_in_epoch` of mini-epoch `epoch` (data-parallel
// ranks simulated in one process: their mean gradient equals the official all-reduce).
void make_batch(const BinidxReader& data, uint64_t magic_prime, uint64_t ctx_len, uint64_t epoch,
                uint64_t step_in_epoch, uint64_t micro_bsz, uint64_t world_size, StepBatch& out);
// The micro_bsz rows of one rank only (a real data-parallel process): B = micro_bsz, row b is
// idx = step_in_epoch*micro_bsz + b on `rank` — rows rank*micro_bsz.. of make_batch.
void make_rank_batch(const BinidxReader& data, uint64_t magic_prime, uint64_t ctx_len, uint64_t epoch,
                     uint64_t step_in_epoch, uint64_t micro_bsz, uint64_t world_size, uint64_t rank, StepBatch& out);

}  // namespace rwkv::train
