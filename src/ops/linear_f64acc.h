// linear_f64acc.h — out (M, N) = x (M, K) @ W^T, W (N, K) fp32, each dot product accumulated in
// double and rounded once. For products that feed exp() of a large argument (RWKV-2's key:
// k = exp(min(W_k x, 60))): an fp32 sum near 60 rounds in steps of 3.8e-6, which exp turns into
// the same relative error in k and in the WKV state. Row-invariant (each row alone, k in
// order); OpenMP over rows of W. Bandwidth-bound at one row like the fp32 GEMV.
#pragma once
#include <cstdint>

namespace rwkv {

void linear_f64acc_forward(float* out, const float* x, const float* W, int64_t M, int64_t K, int64_t N);

}  // namespace rwkv
