// embedding.cpp — CPU embedding lookup and its scatter-add backward (see ops/embedding.h).
#include "ops/embedding.h"

#include "core/parallel_for.h"

#include <cstring>

namespace rwkv {

void embedding_forward(float* out, const int32_t* tokens, const float* table, int64_t M, int C) {
  parallel_for(M, M * C > 16384,
               [&](int64_t m) { std::memcpy(out + m * C, table + int64_t(tokens[m]) * C, sizeof(float) * C); });
}

void embedding_backward(float* dtable, const float* dout, const int32_t* tokens, int64_t M, int C) {
  // Parallel over channels: rows in order, so the sum order is fixed.
#pragma omp parallel for schedule(static) if (M * C > 16384)
  for (int c0 = 0; c0 < C; c0 += 16) {
    int c1 = c0 + 16 < C ? c0 + 16 : C;
    for (int64_t m = 0; m < M; m++) {
      float* d = dtable + int64_t(tokens[m]) * C;
      const float* s = dout + m * C;
      for (int c = c0; c < c1; c++) d[c] += s[c];
    }
  }
}

void embedding_forward_any(float* out, const int32_t* tokens, const void* table, DType dt, int64_t M, int C) {
  if (dt == DType::F32) return embedding_forward(out, tokens, static_cast<const float*>(table), M, C);
  const uint16_t* h = static_cast<const uint16_t*>(table);
  parallel_for(M, M * C > 16384, [&](int64_t m) {
    const uint16_t* row = h + int64_t(tokens[m]) * C;
    float* o = out + m * C;
    if (dt == DType::BF16)
      for (int c = 0; c < C; c++) o[c] = bf16_to_f32(row[c]);
    else
      for (int c = 0; c < C; c++) o[c] = f16_to_f32(row[c]);
  });
}

}  // namespace rwkv
