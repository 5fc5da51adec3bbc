// elementwise.h — products of two tensors of the same shape, element by element: the gates of
// the RWKV-4/5/6 blocks (the GroupNorm'd WKV times silu(g); the channel mix's
// sigmoid(r) * value added onto the residual). Backward accumulates (+=).
#pragma once
#include <cstdint>

namespace rwkv {

// out (n) = a (n) * b (n); out may alias a or b.
void mul_forward(float* out, const float* a, const float* b, int64_t n);
// out (n) += a (n) * b (n).
void addmul_forward(float* out, const float* a, const float* b, int64_t n);
// Backward of out = a * b: da (n) += dout * b, db (n) += dout * a (either may be null).
void mul_backward(float* da, float* db, const float* dout, const float* a, const float* b, int64_t n);

}  // namespace rwkv
