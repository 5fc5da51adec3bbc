// elementwise.cpp — CPU elementwise products (see ops/elementwise.h).
#include "ops/elementwise.h"

#include "core/parallel_for.h"

namespace rwkv {

namespace {
template <class F>
inline void for_each_elem(int64_t n, F f) {
  parallel_ranges(n, n > 16384, [&](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; i++) f(i);
  });
}
}  // namespace

void mul_forward(float* out, const float* a, const float* b, int64_t n) {
  for_each_elem(n, [=](int64_t i) { out[i] = a[i] * b[i]; });
}

void addmul_forward(float* out, const float* a, const float* b, int64_t n) {
  for_each_elem(n, [=](int64_t i) { out[i] += a[i] * b[i]; });
}

void mul_backward(float* da, float* db, const float* dout, const float* a, const float* b, int64_t n) {
  for_each_elem(n, [=](int64_t i) {
    if (da) da[i] += dout[i] * b[i];
    if (db) db[i] += dout[i] * a[i];
  });
}

}  // namespace rwkv
