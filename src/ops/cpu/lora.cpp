// lora.cpp — CPU low-rank paths act(x @ w1) @ w2 (see ops/lora.h), built on matmul + activation.
#include "ops/lora.h"

#include <cstring>

#include "ops/activation.h"
#include "ops/gemv.h"
#include "ops/matmul.h"

namespace rwkv {

namespace {

// out (M, C) = act(h) @ w2 (+ bias) around the two products: first() writes h (M, D) = x @ w1,
// second(acc) writes out = h @ w2, adding to it when acc.
template <class First, class Second>
void lora_with(float* out, float* h, const float* bias, int64_t M, int C, int D, LoraAct act, First first,
               Second second) {
  first();
  if (act == LoraAct::Tanh) act_forward(h, h, M * D, Act::Tanh);
  if (act == LoraAct::Sigmoid) act_forward(h, h, M * D, Act::Sigmoid);
  if (bias)
    for (int64_t m = 0; m < M; m++) std::memcpy(out + m * C, bias, sizeof(float) * C);
  second(bias != nullptr);
}

}  // namespace

void lora_forward(float* out, float* h, const float* x, const float* w1, const float* w2,
                  const float* bias, int64_t M, int C, int D, LoraAct act) {
  lora_with(
      out, h, bias, M, C, D, act, [&] { matmul_plain_forward(h, x, w1, M, C, D); },
      [&](bool acc) { matmul_plain_forward(out, h, w2, M, D, C, acc); });
}

void lora_forward_linear(float* out, float* h, const float* x, const void* w1t, DType dt1, const void* w2t,
                         DType dt2, const float* bias, int64_t M, int C, int D, LoraAct act) {
  lora_with(
      out, h, bias, M, C, D, act, [&] { linear_forward_any(h, x, w1t, dt1, M, C, D); },
      [&](bool acc) { linear_forward_any(out, h, w2t, dt2, M, D, C, acc); });
}

void lora_backward(float* dx, float* dw1, float* dw2, float* dbias, float* dh, const float* dout,
                   const float* x, const float* h, const float* w1, const float* w2, int64_t M,
                   int C, int D, LoraAct act) {
  if (dbias) {
#pragma omp parallel for schedule(static) if (M * C > 8192)
    for (int c = 0; c < C; c++) {
      float s = 0;
      for (int64_t m = 0; m < M; m++) s += dout[m * C + c];
      dbias[c] += s;
    }
  }
  std::memset(dh, 0, sizeof(float) * M * D);
  matmul_plain_backward(dh, dw2, dout, h, w2, M, D, C);
  if (act != LoraAct::None) {
    // dpre = dh * act'(pre), from the saved output h; done in place.
    Act a = act == LoraAct::Tanh ? Act::Tanh : Act::Sigmoid;
#pragma omp parallel for schedule(static) if (M * D > 16384)
    for (int64_t i = 0; i < M * D; i++) {
      float o = h[i];
      dh[i] *= a == Act::Tanh ? (1.f - o * o) : o * (1.f - o);
    }
  }
  matmul_plain_backward(dx, dw1, dh, x, w1, M, C, D);
}

}  // namespace rwkv
