// cuda_check.h — CUDA_CHECK(call): throws rwkv::Error with file:line and the CUDA error string.
#pragma once
#include <cuda_runtime.h>

#include "core/error.h"

#define CUDA_CHECK(call)                                                                   \
  do {                                                                                     \
    cudaError_t err_ = (call);                                                             \
    if (err_ != cudaSuccess)                                                               \
      throw ::rwkv::Error(::fmt::format("[cuda] {}:{}: {}: {}", __FILE__, __LINE__, #call, \
                                        cudaGetErrorString(err_)));                        \
  } while (0)
