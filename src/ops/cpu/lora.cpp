// lora.cpp — CPU low-rank paths act(x @ w1) @ w2 (see ops/lora.h), built on matmul + activation.
#include "ops/lora.h"

#include <cstring>

#include "ops/activation.h"
#include "ops/matmul.h"

namespace rwkv {

void lora_forward(float* out, float* h, const float* x, const float* w1, const float* w2,
                  const float* bias, int64_t M, int C, int D, LoraAct act) {
  matmul_plain_forward(h, x, w1, M, C, D);
  if (act == LoraAct::Tanh) act_forward(h, h, M * D, Act::Tanh);
  if (act == LoraAct::Sigmoid) act_forward(h, h, M * D, Act::Sigmoid);
  if (bias) {
    for (int64_t m = 0; m < M; m++) std::memcpy(out + m * C, bias, sizeof(float) * C);
    matmul_plain_forward(out, h, w2, M, D, C, /*accumulate=*/true);
  } else {
    matmul_plain_forward(out, h, w2, M, D, C);
  }
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
