// cuda_info.cu — CUDA build: report devices.
#include <cuda_runtime.h>

#include "ops/cuda_info.h"

namespace rwkv {

bool cuda_compiled() { return true; }

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

}  // namespace rwkv
