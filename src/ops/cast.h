// cast.h — fp32 -> bf16 conversion (round to nearest even), the first op with a CPU and a
// CUDA implementation under the same name.
#pragma once
#include <cstdint>

namespace rwkv {

// out[i] = bf16(in[i]); in: (n,) fp32, out: (n,) bf16 bits.
void cast_f32_bf16_cpu(const float* in, uint16_t* out, int64_t n);
// Same on the GPU; in/out are host pointers here (the call copies through device memory).
void cast_f32_bf16_cuda(const float* in, uint16_t* out, int64_t n);

}  // namespace rwkv
