// matmul.cpp — CPU matmuls (see ops/matmul.h): OpenBLAS sgemm split over the OpenMP threads
// (ops/cpu/sgemm.h); one row (decode) goes through the bandwidth-bound GEMVs of ops/gemv.h.
#include "ops/matmul.h"

#include "ops/cpu/sgemm.h"
#include "ops/gemv.h"
#include "ops/row_invariant.h"

namespace rwkv {

void matmul_linear_forward(float* out, const float* inp, const float* W, int64_t M, int K, int N,
                           bool accumulate) {
  float beta = accumulate ? 1.f : 0.f;
  if (row_invariant_products()) return linear_rows_invariant(out, inp, W, DType::F32, M, K, N, accumulate);
  if (M == 1) {
    gemv_forward(out, inp, W, DType::F32, N, K, accumulate);
    return;
  }
  sgemm(false, true, int(M), N, K, 1.f, inp, K, W, K, beta, out,
              N);
}

void matmul_linear_backward(float* dinp, float* dW, const float* dout, const float* inp,
                            const float* W, int64_t M, int K, int N) {
  if (dinp)
    sgemm(false, false, int(M), K, N, 1.f, dout, N, W, K, 1.f,
                dinp, K);
  if (dW)
    sgemm(true, false, N, K, int(M), 1.f, dout, N, inp, K, 1.f,
                dW, K);
}

void matmul_plain_forward(float* out, const float* inp, const float* W, int64_t M, int K, int N,
                          bool accumulate) {
  float beta = accumulate ? 1.f : 0.f;
  if (row_invariant_products()) return plain_rows_invariant(out, inp, W, M, K, N, accumulate);
  if (M == 1) {
    gemv_plain_forward(out, inp, W, K, N, accumulate);
    return;
  }
  sgemm(false, false, int(M), N, K, 1.f, inp, K, W, N, beta,
              out, N);
}

void matmul_plain_backward(float* dinp, float* dW, const float* dout, const float* inp,
                           const float* W, int64_t M, int K, int N) {
  if (dinp)
    sgemm(false, true, int(M), K, N, 1.f, dout, N, W, N, 1.f,
                dinp, K);
  if (dW)
    sgemm(true, false, K, N, int(M), 1.f, inp, K, dout, N, 1.f,
                dW, N);
}

}  // namespace rwkv
