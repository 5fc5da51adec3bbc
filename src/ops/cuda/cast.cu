// cast.cu (cuda) — fp32 -> bf16: kernel -> launcher -> checked entry.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "ops/cast.h"
#include "ops/cuda/cuda_check.h"

namespace rwkv {

static __global__ void cast_f32_bf16_kernel(const float* in, __nv_bfloat16* out, int64_t n) {
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16_rn(in[i]);
}

static void cast_f32_bf16_launch(const float* in, __nv_bfloat16* out, int64_t n, cudaStream_t s) {
  int block = 256;
  int64_t grid = (n + block - 1) / block;
  cast_f32_bf16_kernel<<<unsigned(grid), block, 0, s>>>(in, out, n);
  CUDA_CHECK(cudaGetLastError());
}

void cast_f32_bf16_cuda(const float* in, uint16_t* out, int64_t n) {
  RWKV_CHECK(n >= 0, "n={}", n);
  if (n == 0) return;
  float* d_in = nullptr;
  __nv_bfloat16* d_out = nullptr;
  CUDA_CHECK(cudaMalloc(&d_in, n * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&d_out, n * sizeof(__nv_bfloat16)));
  CUDA_CHECK(cudaMemcpy(d_in, in, n * sizeof(float), cudaMemcpyHostToDevice));
  cast_f32_bf16_launch(d_in, d_out, n, 0);
  CUDA_CHECK(cudaMemcpy(out, d_out, n * sizeof(uint16_t), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaFree(d_in));
  CUDA_CHECK(cudaFree(d_out));
}

}  // namespace rwkv
