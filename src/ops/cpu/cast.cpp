// cast.cpp (cpu) — fp32 -> bf16.
#include "ops/cast.h"

#include "core/dtype.h"

namespace rwkv {

void cast_f32_bf16_cpu(const float* in, uint16_t* out, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; i++) out[i] = f32_to_bf16(in[i]);
}

}  // namespace rwkv
