// cast.cpp (cpu) — fp32 -> bf16.
#include "ops/cast.h"

#include "core/dtype.h"
#include "core/parallel_for.h"

namespace rwkv {

void cast_f32_bf16_cpu(const float* in, uint16_t* out, int64_t n) {
  parallel_elems(n, n > 65536, [=](int64_t i) { out[i] = f32_to_bf16(in[i]); });
}

}  // namespace rwkv
