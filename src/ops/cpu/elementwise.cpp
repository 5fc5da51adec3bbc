// elementwise.cpp — CPU elementwise products (see ops/elementwise.h).
#include "ops/elementwise.h"

namespace rwkv {

void mul_forward(float* out, const float* a, const float* b, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void addmul_forward(float* out, const float* a, const float* b, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; i++) out[i] += a[i] * b[i];
}

void mul_backward(float* da, float* db, const float* dout, const float* a, const float* b, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 16384)
  for (int64_t i = 0; i < n; i++) {
    if (da) da[i] += dout[i] * b[i];
    if (db) db[i] += dout[i] * a[i];
  }
}

}  // namespace rwkv
