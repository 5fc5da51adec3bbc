// matmul.cpp — CPU matmuls via OpenBLAS cblas_sgemm (see ops/matmul.h). One row (decode) goes
// through sgemv. Called from serial code: OpenBLAS runs its own threads.
#include "ops/matmul.h"

#include <cblas.h>

namespace rwkv {

void matmul_linear_forward(float* out, const float* inp, const float* W, int64_t M, int K, int N,
                           bool accumulate) {
  float beta = accumulate ? 1.f : 0.f;
  if (M == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1.f, W, K, inp, 1, beta, out, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), N, K, 1.f, inp, K, W, K, beta, out,
              N);
}

void matmul_linear_backward(float* dinp, float* dW, const float* dout, const float* inp,
                            const float* W, int64_t M, int K, int N) {
  if (dinp)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(M), K, N, 1.f, dout, N, W, K, 1.f,
                dinp, K);
  if (dW)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, int(M), 1.f, dout, N, inp, K, 1.f,
                dW, K);
}

void matmul_plain_forward(float* out, const float* inp, const float* W, int64_t M, int K, int N,
                          bool accumulate) {
  float beta = accumulate ? 1.f : 0.f;
  if (M == 1) {
    cblas_sgemv(CblasRowMajor, CblasTrans, K, N, 1.f, W, N, inp, 1, beta, out, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(M), N, K, 1.f, inp, K, W, N, beta,
              out, N);
}

void matmul_plain_backward(float* dinp, float* dW, const float* dout, const float* inp,
                           const float* W, int64_t M, int K, int N) {
  if (dinp)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), K, N, 1.f, dout, N, W, N, 1.f,
                dinp, K);
  if (dW)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, int(M), 1.f, inp, K, dout, N, 1.f,
                dW, N);
}

}  // namespace rwkv
