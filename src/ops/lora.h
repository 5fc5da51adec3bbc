// lora.h — RWKV-7 low-rank paths: out = act(x @ w1) @ w2 (+ bias), with w1 (C, D), w2 (D, C)
// as the official model stores them. act: tanh (decay), sigmoid (gate), none (a, value residual).
// Backward accumulates (+=).
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace rwkv {

enum class LoraAct { None, Tanh, Sigmoid };

// x: (M, C); w1: (C, D); w2: (D, C); bias: (C) or null; h: (M, D) saved (post-activation);
// out: (M, C).
void lora_forward(float* out, float* h, const float* x, const float* w1, const float* w2,
                  const float* bias, int64_t M, int C, int D, LoraAct act);
// The same with the factors stored in the Linear layout of the big matrices, each product by
// ops/gemv.h linear_forward_any (bf16 x bf16 past a few rows where the CPU has it): w1t (D, C) =
// w1^T in dtype dt1, w2t (C, D) = w2^T in dtype dt2.
void lora_forward_linear(float* out, float* h, const float* x, const void* w1t, DType dt1, const void* w2t,
                         DType dt2, const float* bias, int64_t M, int C, int D, LoraAct act);
// dh_scratch: (M, D) work buffer. dx: (M, C); dw1, dw2, dbias may be null.
void lora_backward(float* dx, float* dw1, float* dw2, float* dbias, float* dh_scratch,
                   const float* dout, const float* x, const float* h, const float* w1,
                   const float* w2, int64_t M, int C, int D, LoraAct act);

}  // namespace rwkv
