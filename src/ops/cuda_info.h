// cuda_info.h — whether the CUDA backend is compiled in and how many GPUs are visible.
#pragma once

namespace rwkv {

bool cuda_compiled();
int cuda_device_count();  // 0 when not compiled in or no GPU/driver

}  // namespace rwkv
