// wkv5.cpp — CPU WKV-5 forward (see ops/wkv5.h): the shared kernel with one decay row.
#include "ops/wkv5.h"

#include "ops/cpu/wkv56.h"

namespace rwkv {

void wkv5_forward(float* y, float* S, const float* r, const float* k, const float* v,
                  const float* w, const float* u, int T, int H, int N) {
  cpu::wkv56_forward(y, S, r, k, v, w, /*w_stride=*/0, u, T, H, N);
}

}  // namespace rwkv
