// lora.h — RWKV-7 low-rank paths: out = act(x @ w1) @ w2 (+ bias), with w1 (C, D), w2 (D, C)
// as the official model stores them. act: tanh (decay), sigmoid (gate), none (a, value residual).
// Backward accumulates (+=).
#pragma once
#include <cstdint>

namespace rwkv {

enum class LoraAct { None, Tanh, Sigmoid };

// x: (M, C); w1: (C, D); w2: (D, C); bias: (C) or null; h: (M, D) saved (post-activation);
// out: (M, C).
void lora_forward(float* out, float* h, const float* x, const float* w1, const float* w2,
                  const float* bias, int64_t M, int C, int D, LoraAct act);
// dh_scratch: (M, D) work buffer. dx: (M, C); dw1, dw2, dbias may be null.
void lora_backward(float* dx, float* dw1, float* dw2, float* dbias, float* dh_scratch,
                   const float* dout, const float* x, const float* h, const float* w1,
                   const float* w2, int64_t M, int C, int D, LoraAct act);

}  // namespace rwkv
