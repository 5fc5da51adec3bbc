// wkv6.cpp — CPU WKV-6 forward and the RWKV-6 decay (see ops/wkv6.h).
#include "ops/wkv6.h"

#include <cmath>

#include "ops/cpu/wkv56.h"

namespace rwkv {

void wkv6_forward(float* y, float* S, const float* r, const float* k, const float* v,
                  const float* w, const float* u, int T, int H, int N) {
  cpu::wkv56_forward(y, S, r, k, v, w, /*w_stride=*/int64_t(H) * N, u, T, H, N);
}

void wkv6_decay_forward(float* w, const float* lora, const float* time_decay, int64_t M, int A) {
#pragma omp parallel for schedule(static) if (M * A > 16384)
  for (int64_t m = 0; m < M; m++)
    for (int c = 0; c < A; c++) w[m * A + c] = std::exp(-std::exp(time_decay[c] + lora[m * A + c]));
}

}  // namespace rwkv
