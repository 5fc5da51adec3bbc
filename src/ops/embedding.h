// embedding.h — token embedding lookup (nn.Embedding) and its backward.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace rwkv {

// out (M, C) = table[tokens[m]]; table: (V, C).
void embedding_forward(float* out, const int32_t* tokens, const float* table, int64_t M, int C);
// dtable (V, C) += scatter of dout (M, C) by tokens.
void embedding_backward(float* dtable, const float* dout, const int32_t* tokens, int64_t M, int C);
// out (M, C) = table[tokens[m]] widened to fp32; table: (V, C) in dt (fp32 / bf16 / fp16).
void embedding_forward_any(float* out, const int32_t* tokens, const void* table, DType dt, int64_t M, int C);
}  // namespace rwkv
