// sampler.cpp — see sampler.h.
#include "train/sampler.h"

#include <cmath>

#include "core/error.h"
#include "data/binidx.h"
#include "data/magic_prime.h"

namespace rwkv::train {

uint64_t golden_factor(uint64_t p) {
  double factor = (std::sqrt(5.0) - 1.0) / 2.0;
  return uint64_t(double(p) * factor);  // Python int(float) truncates toward zero
}

uint64_t sample_offset(uint64_t p, uint64_t ctx_len, uint64_t epoch, uint64_t idx, uint64_t world_size,
                       uint64_t rank) {
  RWKV_CHECK(p > 0, "magic_prime must be > 0");
  using u128 = unsigned __int128;
  u128 ii = u128(1) + u128(epoch) * 40320u + u128(idx) * world_size + rank;
  // (f * ii^3) mod p == f * (ii mod p)^3 mod p: exact, and every product fits in 128 bits.
  u128 r = ii % p;
  u128 c = (r * r) % p;
  c = (c * r) % p;
  c = (c * (golden_factor(p) % p)) % p;
  return uint64_t(c) * ctx_len;
}

void validate_magic_prime(uint64_t p, uint64_t data_tokens, uint64_t ctx_len, const char* data_name) {
  if (data_tokens < ctx_len + 1)
    fail("train", "{}: the data has {} tokens, shorter than one sample (--ctx_len {} + 1 tokens)", data_name,
         data_tokens, ctx_len);
  uint64_t slots = data_tokens / ctx_len;
  uint64_t best = magic_prime(data_tokens, ctx_len);
  std::string hint = best ? fmt::format(" (for this data and --ctx_len {}: --magic_prime {})", ctx_len, best)
                          : fmt::format(" (this data is too short for --ctx_len {}: it needs at least 3 samples)", ctx_len);
  if (p == 0) fail("train", "--magic_prime is not set{}", hint);
  if (!is_prime(p)) fail("train", "--magic_prime {} is not a prime{}", p, hint);
  if (p % 3 != 2) fail("train", "--magic_prime {} is not 2 mod 3{}", p, hint);
  double ratio = double(p) / double(slots);
  if (!(ratio > 0.9 && ratio <= 1))
    fail("train", "--magic_prime {}: must be in (0.9, 1] x data_tokens/ctx_len = {} ({} tokens / {}){}", p, slots,
         data_tokens, ctx_len, hint);
  // The largest offset is (p-1)*ctx_len and a sample reads ctx_len+1 tokens.
  if ((p - 1) * ctx_len + ctx_len + 1 > data_tokens)
    fail("train", "--magic_prime {}: the last sample would read past the end of {} ({} tokens){}", p, data_name,
         data_tokens, hint);
}

namespace {

// Rows for ranks [rank0, rank1) into out (rank-major).
void fill_rows(const BinidxReader& data, uint64_t p, uint64_t ctx_len, uint64_t epoch, uint64_t step_in_epoch,
               uint64_t micro_bsz, uint64_t world_size, uint64_t rank0, uint64_t rank1, StepBatch& out) {
  RWKV_CHECK(rank0 < rank1 && rank1 <= world_size, "ranks [{}, {}) of {}", rank0, rank1, world_size);
  out.B = int((rank1 - rank0) * micro_bsz);
  out.T = int(ctx_len);
  out.tokens.resize(size_t(out.B) * (ctx_len + 1));
  out.offsets.resize(out.B);
  std::vector<uint16_t> buf(ctx_len + 1);
  for (uint64_t rank = rank0; rank < rank1; rank++)
    for (uint64_t b = 0; b < micro_bsz; b++) {
      uint64_t idx = step_in_epoch * micro_bsz + b;
      uint64_t row = (rank - rank0) * micro_bsz + b;
      uint64_t off = sample_offset(p, ctx_len, epoch, idx, world_size, rank);
      out.offsets[row] = off;
      data.get(off, ctx_len + 1, buf.data());
      int32_t* dst = out.tokens.data() + row * (ctx_len + 1);
      for (uint64_t t = 0; t <= ctx_len; t++) dst[t] = buf[t];
    }
}

}  // namespace

void make_batch(const BinidxReader& data, uint64_t p, uint64_t ctx_len, uint64_t epoch, uint64_t step_in_epoch,
                uint64_t micro_bsz, uint64_t world_size, StepBatch& out) {
  fill_rows(data, p, ctx_len, epoch, step_in_epoch, micro_bsz, world_size, 0, world_size, out);
}

void make_rank_batch(const BinidxReader& data, uint64_t p, uint64_t ctx_len, uint64_t epoch, uint64_t step_in_epoch,
                     uint64_t micro_bsz, uint64_t world_size, uint64_t rank, StepBatch& out) {
  fill_rows(data, p, ctx_len, epoch, step_in_epoch, micro_bsz, world_size, rank, rank + 1, out);
}

}  // namespace rwkv::train
