// ddlerp.h — RWKV-6's data-dependent token-shift mix: the per-channel mix of ops/token_shift.h
// (out = x + xx * mu) with a coefficient that also depends on the token,
//   out = x + xx * (mu + m)
// where xx = shift(x) - x and m is the token's LoRA term (tanh(xxx @ maa_w1) @ maa_w2[s] for
// the mix s of w, k, v, r, g). Backward accumulates (+=).
#pragma once
#include <cstdint>

namespace rwkv {

// out, x, xx, m: (M, C); mu: (C). out may alias m.
void ddlerp_forward(float* out, const float* x, const float* xx, const float* mu, const float* m,
                    int64_t M, int C);
// dx += dout; dxx += dout * (mu + m); dm += dout * xx; dmu (C) += sum over rows of dout * xx.
// Any gradient may be null.
void ddlerp_backward(float* dx, float* dxx, float* dmu, float* dm, const float* dout,
                     const float* xx, const float* mu, const float* m, int64_t M, int C);

}  // namespace rwkv
