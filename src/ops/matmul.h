// matmul.h — dense products through OpenBLAS sgemm (fp32), forward and backward.
// "linear": nn.Linear without bias, W stored (N, K) as torch does, out = inp @ W^T.
// "plain":  W stored (K, N) (RWKV-7 LoRA factors w1, w2, ...), out = inp @ W.
// Backward accumulates (+=) into dinp and dW; either may be null.
#pragma once
#include <cstdint>

namespace rwkv {

// out (M, N) = inp (M, K) @ W^T, W (N, K). accumulate: out += instead of =.
void matmul_linear_forward(float* out, const float* inp, const float* W, int64_t M, int K, int N,
                           bool accumulate = false);
// dinp (M, K) += dout @ W;  dW (N, K) += dout^T @ inp.
void matmul_linear_backward(float* dinp, float* dW, const float* dout, const float* inp,
                            const float* W, int64_t M, int K, int N);

// out (M, N) = inp (M, K) @ W, W (K, N).
void matmul_plain_forward(float* out, const float* inp, const float* W, int64_t M, int K, int N,
                          bool accumulate = false);
// dinp (M, K) += dout @ W^T;  dW (K, N) += inp^T @ dout.
void matmul_plain_backward(float* dinp, float* dW, const float* dout, const float* inp,
                           const float* W, int64_t M, int K, int N);

}  // namespace rwkv
