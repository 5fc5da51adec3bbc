// cuda_info_none.cpp — CPU-only build: no CUDA backend (compiled only when CUDA is off).
#include "core/error.h"
#include "ops/cast.h"
#include "ops/cuda_info.h"

namespace rwkv {

bool cuda_compiled() { return false; }
int cuda_device_count() { return 0; }
void cast_f32_bf16_cuda(const float*, uint16_t*, int64_t) { fail("cuda", "this build has no CUDA backend"); }

}  // namespace rwkv
