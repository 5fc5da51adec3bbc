// mm8.h — int8 weights exactly as the `rwkv` pip package's fp32i8 / fp16i8 keep them, and the
// products that read them (the package's mm8_one / mm8_seq; a CUDA twin will be ops/cuda/mm8.cu).
// A matrix W (N out, K in) (torch.nn.Linear layout) becomes q (N, K) uint8 plus per-output
// offsets/scales mx, rx (N) and per-input ones my, ry (K); the weight it stands for is
//   W'[o, i] = (((q[o, i] + 0.5) * ry[i]) * rx[o] + my[i]) + mx[o]
// (each step rounded to fp32, rx and ry already divided by 16 as the package stores them).
// The package holds q transposed, (K, N); here q keeps W's layout so that a row of q is one
// output, read in place by the GEMV like any other weight row.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rwkv {

// A quantized matrix as the products read it (pointers owned elsewhere).
struct Mm8Weight {
  const uint8_t* q = nullptr;                // (N, K); in 4-row groups where `grouped` (mm8_group_rows)
  const float *mx = nullptr, *rx = nullptr;  // (N) per output
  const float *my = nullptr, *ry = nullptr;  // (K) per input
  int64_t N = 0, K = 0;
  // Its strategy stage computes in bf16 (bf16i8): prefill (more than 64 rows) rounds x and W' to
  // bf16 and multiplies them on the bf16 GEMM where the CPU has one (ops/cpu/quant_matmul.h).
  bool bf16_prefill = false;
  // q in 4-row groups (mm8_group_rows), as the weight store holds it for the products.
  bool grouped = false;
};

// The products' layout of q (N, K), K a multiple of 64 (mm8_groupable): rows 4g .. 4g + 3 stay
// where they are (bytes [4gK, 4gK + 4K)) but are interleaved 64 bytes at a time, row 4g + r's bytes
// [64c, 64c + 64) at 4gK + 256c + 64r; the last N % 4 rows stay as they are. The decode kernel
// then reads each 4-row group as one sequential stream instead of four interleaved ones: the int8
// head (65536x768, 2 threads, from DRAM) 38 -> 49 GB/s. Same bytes, same products bit for bit.
bool mm8_groupable(int64_t N, int64_t K);
void mm8_group_rows(uint8_t* out, const uint8_t* q, int64_t N, int64_t K);

// The package's load-time conversion of W (N, K) fp32, bit for bit (fixtures README, "pip/ int8"):
// min over outputs first when K > N (more inputs than outputs), else over inputs first; then the
// per-output and per-input ranges; q = clip(floor(E * 256), 0, 255). A zero range divides by 1
// (the package's make_nonzero). Writes q (N, K), mx, rx (N), my, ry (K).
void mm8_quantize(uint8_t* q, float* mx, float* rx, float* my, float* ry, const float* W, int64_t N, int64_t K);

// Rows [r0, r1) of W' (each (K) floats) in the package's order of operations, bit for bit (q
// plain or grouped).
void mm8_dequant_rows(float* out, const Mm8Weight& w, int64_t r0, int64_t r1);

// out (M, N) (+)= inp (M, K) @ W'^T. Rows are computed as
//   out[m, o] = rx[o] * (q[o] . (ry * x_m) + 0.5 * sum(ry * x_m)) + my . x_m + mx[o] * sum(x_m)
// (W' factored; q . (ry * x) as integer dots with AVX-512 VNNI, see Mm8Vec, else one int8 widening
// and one FMA per weight; fp32 round-off as any fp32 product)
// for M up to 64 rows (decode, batched decode) and always in row-invariant mode (ops/row_invariant.h:
// each row's numbers then depend on nothing else); more rows (prefill) widen panels of W' exactly
// and multiply them with sgemm, or, for a bf16 stage (bf16_prefill) where the CPU has the bf16
// GEMM, round x and the panels to bf16 and multiply them there (ops/cpu/quant_matmul.h).
void mm8_forward(float* out, const float* inp, const Mm8Weight& w, int64_t M, bool accumulate = false);

// For gemv_batch (ops/gemv.h): one token's x prepared once per product, then any range of output
// rows. xr: (K) = ry * x; the sums are over i < K. With AVX-512 VNNI the rows' dots q . xr run on
// integers: xr scaled by a power of two 2^e (max |xr| * 2^e in [2^29, 2^30)) and rounded,
// X = round(xr * 2^e), exact for every element within 64x of the largest and off by at most 2^-31 of
// the largest otherwise, is split into four signed bytes X = X0 2^24 + X1 2^16 + X2 2^8 + X3 (xl: 4
// planes of K rounded up to 64, zero-padded), and q . xr = 2^-e sum_l 2^(24 - 8l) (q . Xl) with exact
// int32 dots (vpdpbusd, u8 x s8); elsewhere (and for an x that is not finite) fp32 FMAs on xr.
struct Mm8Vec {
  const float* xr = nullptr;
  float sum_xr = 0, sum_myx = 0, sum_x = 0;
  const int8_t* xl = nullptr;  // nullptr: use xr
  float scale = 0;             // 2^-e
};
// Floats of scratch mm8_prepare needs for an input of K.
size_t mm8_prep_floats(int64_t K);
void mm8_prepare(Mm8Vec& v, float* buf, const float* x, const Mm8Weight& w);
// Outputs [r0, r1); r0 a multiple of 4 for a grouped q.
void mm8_rows(float* y, const Mm8Vec& v, const Mm8Weight& w, int64_t r0, int64_t r1, bool accumulate);

}  // namespace rwkv
