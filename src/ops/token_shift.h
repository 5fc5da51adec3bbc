// token_shift.h — RWKV time shift and the per-channel mixes built on it.
// xx[b, t] = x[b, t-1] - x[b, t], with x[b, -1] = prev[b] (the carried state) or 0.
// mix: out = x + xx * mu (mu per channel).  Backward accumulates (+=).
#pragma once
#include <cstdint>

namespace rwkv {

// x, xx: (B, T, C); prev: (B, C) or null (zeros).
void token_shift_forward(float* xx, const float* x, const float* prev, int B, int T, int C);
// dx: (B, T, C); dprev: (B, C) or null.
void token_shift_backward(float* dx, float* dprev, const float* dxx, int B, int T, int C);

// out, x, xx: (M, C); mu: (C).
void mix_forward(float* out, const float* x, const float* xx, const float* mu, int64_t M, int C);
// dx += dout; dxx += dout * mu; dmu += sum_rows dout * xx.
void mix_backward(float* dx, float* dxx, float* dmu, const float* dout, const float* xx,
                  const float* mu, int64_t M, int C);

}  // namespace rwkv
