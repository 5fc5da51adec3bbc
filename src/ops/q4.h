// q4.h — 4-bit weights with an fp16 scale and an fp16 offset per block of 32 inputs ("q4", our
// format; llama.cpp's Q4_1 has the same numbers), and the products that read them.
// A matrix W (N out, K in) (torch.nn.Linear layout, K a multiple of 32) is stored (files, and
// q4_quantize's output) as
//   q (N, K/2) uint8: block b of row o is bytes [16b, 16b + 16) of the row; byte j holds input
//                     32b + j in its low nibble and input 32b + 16 + j in its high nibble
//   d, m (N, K/32) fp16: the block's scale and offset (its minimum)
// and stands for W'[o, k] = d[o, k/32] * q[o, k] + m[o, k/32] (q in 0..15), each in fp32.
// The products read it packed (q4_pack, at load): each row one contiguous run of q4_row_bytes(K)
// (20 bytes per block) in groups of blocks, each group's nibbles then its n scales d then its n
// offsets m: groups of 16 blocks, then one of 8 if 8 or more blocks are left, then single blocks.
// In a group of n blocks, byte c (0..15) of block b0 + l sits at 4n * (c / 4) + 4l + c % 4 of the
// nibbles: one 4n-byte load holds 4 bytes (8 inputs) of each of the n blocks, one block per
// 32-bit lane, so a lane's integer dot is its block's and the n scales apply as one vector.
// Products (decode, batched decode: any M in row-invariant mode, else up to 64 rows) quantize
// each row of x per block of 32 to int8 (scale dx = max|x| / 127) and compute
//   y[o] = sum_b d[o,b] * dx_b * (q_b . xq_b) + sum_b m[o,b] * (sum of x over block b)
// with exact integer block dots (AVX-512 VNNI / AVX2 / scalar); more rows (prefill) widen panels
// of W' exactly and multiply them with sgemm (x not quantized), or for a bf16 stage as
// Mm8Weight::bf16_prefill says (x and W' rounded to bf16, the bf16 GEMM).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace rwkv {

inline constexpr int64_t kQ4Block = 32;  // inputs per scale/offset

// A 4-bit matrix as the products read it (memory owned elsewhere).
struct Q4Weight {
  const uint8_t* p = nullptr;  // (N, q4_row_bytes(K)) packed rows
  int64_t N = 0, K = 0;
  // Its strategy stage computes in bf16 (bf16q4): as Mm8Weight::bf16_prefill.
  bool bf16_prefill = false;
};

// Bytes of one packed row: 16 of nibbles, 2 of scale and 2 of offset per block.
inline int64_t q4_row_bytes(int64_t K) { return K / kQ4Block * 20; }

// The group of blocks that block b of a row of nb blocks belongs to in the packed form: its first
// block b0, its size n (16, 8 or 1) and its byte offset in the row.
struct Q4Group {
  int64_t b0, n, off;
  // byte offsets in the row of block b0 + l's fp16 scale d and offset m
  int64_t d_at(int64_t l) const { return off + 16 * n + 2 * l; }
  int64_t m_at(int64_t l) const { return off + 18 * n + 2 * l; }
};
inline Q4Group q4_group_of(int64_t b, int64_t nb) {
  const int64_t f16 = nb / 16 * 16;
  if (b < f16) return {b / 16 * 16, 16, b / 16 * 16 * 20};
  if (nb - f16 >= 8 && b < f16 + 8) return {f16, 8, f16 * 20};
  return {b, 1, b * 20};
}
// The fp16 value at p (a packed row's scale or offset; any alignment) in fp32.
inline float q4_half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}
// Offset in the group's nibbles of byte c (0..15) of its block l.
inline int64_t q4_nibble_pos(int64_t n, int64_t l, int c) { return 4 * n * (c / 4) + 4 * l + c % 4; }

// The stored form q, d, m (N rows) -> packed rows out (N, q4_row_bytes(K)).
void q4_pack(uint8_t* out, const uint8_t* q, const uint16_t* d, const uint16_t* m, int64_t N, int64_t K);

// W (N, K) fp32 -> q (N, K/2), d, m (N, K/32). Per block: m = min rounded to fp16, d = (max - min) / 15
// rounded to fp16, q = clamp(round((w - m) / d), 0, 15) (0 where d is 0). Throws "[ops] q4: ..." for K
// not a multiple of 32 or a weight that is not finite or beyond fp16's range.
void q4_quantize(uint8_t* q, uint16_t* d, uint16_t* m, const float* W, int64_t N, int64_t K);

// Rows [r0, r1) of W' (each (K) floats).
void q4_dequant_rows(float* out, const Q4Weight& w, int64_t r0, int64_t r1);

// out (M, N) (+)= inp (M, K) @ W'^T (see the header comment for which kernel serves which M).
void q4_forward(float* out, const float* inp, const Q4Weight& w, int64_t M, bool accumulate = false);

// For gemv_batch (ops/gemv.h): one row of x prepared once per product, then any range of outputs.
// buf: q4_prep_bytes(K) bytes (4-byte aligned), alive while the rows are computed.
struct Q4Vec {
  const int8_t* xq = nullptr;  // (K) x / dx rounded, in the packed groups' order (q4.cpp)
  const float* dx = nullptr;   // (K/32) per block
  const float* sx = nullptr;   // (K/32) sum of x per block
};
size_t q4_prep_bytes(int64_t K);
void q4_prepare(Q4Vec& v, void* buf, const float* x, int64_t K);
void q4_rows(float* y, const Q4Vec& v, const Q4Weight& w, int64_t r0, int64_t r1, bool accumulate);

}  // namespace rwkv
