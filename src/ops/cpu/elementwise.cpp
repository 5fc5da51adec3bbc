// elementwise.cpp — CPU elementwise products (see ops/elementwise.h).
#include "ops/elementwise.h"

#include "core/parallel_for.h"

namespace rwkv {

void mul_forward(float* out, const float* a, const float* b, int64_t n) {
  parallel_elems(n, n > 16384, [=](int64_t i) { out[i] = a[i] * b[i]; });
}

void addmul_forward(float* out, const float* a, const float* b, int64_t n) {
  parallel_elems(n, n > 16384, [=](int64_t i) { out[i] += a[i] * b[i]; });
}

void mul_backward(float* da, float* db, const float* dout, const float* a, const float* b, int64_t n) {
  parallel_elems(n, n > 16384, [=](int64_t i) {
    if (da) da[i] += dout[i] * b[i];
    if (db) db[i] += dout[i] * a[i];
  });
}

}  // namespace rwkv
