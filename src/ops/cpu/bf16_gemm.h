// bf16_gemm.h — prefill products with bf16 weights multiplied as bf16: out (M, N) (+)= bf16(inp)
// (M, K) @ W^T, W (N, K) bf16 as stored, the activations rounded to bf16 (nearest even), each
// product exact in fp32 and summed in fp32 (what the pip package's bf16 strategies and llama.cpp
// compute). oneDNN's matmul (runtime ISA dispatch: AVX512-BF16 / AMX brgemm kernels) on the same
// OpenMP pool, weights read in place (no reordered copy).
//
// Why oneDNN and not OpenBLAS for this one: on the 2-core AMD EPYC Zen 5 host (AVX512-BF16),
// 2 threads, GFLOP/s at the L12-D768 projection shapes (N x K, M rows), oneDNN bf16 matmul with
// the weights as stored vs OpenBLAS sgemm on weights widened to fp32 (the fp32-activation path,
// kept for fp32 / fp16 weights and where this one is not used):
//   768x768 M=256 634 vs ~150-300; 3072x768 M=256 642; 768x3072 M=512 687 (reordered weights:
//   690-830, not worth a second copy of every matrix). Used only where the CPU has AVX512-BF16
//   or AMX-BF16: without them oneDNN emulates bf16 and widened sgemm is as fast.
#pragma once
#include <cstdint>

namespace rwkv {

// Whether bf16_gemm runs here (built with oneDNN, the CPU has AVX512-BF16 or AMX-BF16, and
// not switched off by set_bf16_gemm_enabled(false)).
bool bf16_gemm_available();
// On by default; off: bf16 weights take the widened-sgemm path (benchmarks compare the two).
void set_bf16_gemm_enabled(bool on);

// out (M, N) (+)= bf16(inp) (M, K) @ W^T; false (out untouched) when bf16_gemm_available() is
// false or oneDNN refused the shape.
bool bf16_gemm(float* out, const float* inp, const uint16_t* W, int64_t M, int64_t N, int64_t K, bool accumulate);

// The same with the activations already bf16: out (M, N), row stride ldo (>= N; a panel of
// columns of a wider output) (+)= xb (M, K) @ W^T. Quantized weights of a bf16 stage widen a
// panel of W' to bf16 and multiply it here (ops/cpu/quant_matmul.h).
bool bf16_gemm_bf16x(float* out, int64_t ldo, const uint16_t* xb, const uint16_t* W, int64_t M, int64_t N, int64_t K,
                     bool accumulate);

}  // namespace rwkv
