// make_data_shuffle.cpp — see make_data_shuffle.h. MT19937 (Matsumoto & Nishimura) with the
// seeding CPython's _randommodule.c uses for integer seeds.
#include "data/make_data_shuffle.h"

namespace rwkv {

namespace {
constexpr int N = 624, M = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfu, kUpper = 0x80000000u, kLower = 0x7fffffffu;
}  // namespace

PyRandom::PyRandom(uint64_t seed) {
  // init_genrand(19650218), then init_by_array(key) with key = the seed's 32-bit words,
  // least significant first ([0] for seed 0).
  uint32_t key[2] = {uint32_t(seed), uint32_t(seed >> 32)};
  int klen = (seed >> 32) ? 2 : 1;
  mt_[0] = 19650218u;
  for (int i = 1; i < N; ++i) mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + uint32_t(i);
  int i = 1, j = 0;
  for (int k = N > klen ? N : klen; k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[j] + uint32_t(j);
    ++i;
    ++j;
    if (i >= N) { mt_[0] = mt_[N - 1]; i = 1; }
    if (j >= klen) j = 0;
  }
  for (int k = N - 1; k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - uint32_t(i);
    ++i;
    if (i >= N) { mt_[0] = mt_[N - 1]; i = 1; }
  }
  mt_[0] = 0x80000000u;
  mti_ = N;
}

uint32_t PyRandom::genrand_uint32() {
  if (mti_ >= N) {
    int kk = 0;
    uint32_t y;
    for (; kk < N - M; ++kk) {
      y = (mt_[kk] & kUpper) | (mt_[kk + 1] & kLower);
      mt_[kk] = mt_[kk + M] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
    }
    for (; kk < N - 1; ++kk) {
      y = (mt_[kk] & kUpper) | (mt_[kk + 1] & kLower);
      mt_[kk] = mt_[kk + (M - N)] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
    }
    y = (mt_[N - 1] & kUpper) | (mt_[0] & kLower);
    mt_[N - 1] = mt_[M - 1] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
    mti_ = 0;
  }
  uint32_t y = mt_[mti_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint64_t PyRandom::getrandbits(int k) {
  if (k <= 32) return genrand_uint32() >> (32 - k);
  uint64_t lo = genrand_uint32();                       // words fill from the least significant
  uint64_t hi = genrand_uint32() >> (64 - k);           // the last word keeps its top bits
  return lo | (hi << 32);
}

uint64_t PyRandom::randbelow(uint64_t n) {
  int k = 64 - __builtin_clzll(n);  // n.bit_length()
  uint64_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

}  // namespace rwkv
