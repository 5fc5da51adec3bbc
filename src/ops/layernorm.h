// layernorm.h — LayerNorm over the last dim (nn.LayerNorm) and GroupNorm over G equal groups of
// each row (nn.GroupNorm on (M, C) input, as RWKV-7's ln_x). fp32, CPU.
// Convention for every op in src/ops: forward overwrites its outputs; backward ACCUMULATES (+=)
// into every gradient it is given (a null gradient pointer is skipped).
#pragma once
#include <cstdint>

namespace rwkv {

// out, inp: (M, C); w, b: (C); mean, rstd: (M) saved for the backward (may be null).
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* w,
                       const float* b, int64_t M, int C, float eps);
// dinp: (M, C); dw, db: (C).
void layernorm_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp,
                        const float* w, const float* mean, const float* rstd, int64_t M, int C);

// GroupNorm: each row of C channels is split in G groups of C/G, normalised per group, then the
// per-channel affine w, b (C). mean, rstd: (M, G).
void groupnorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* w,
                       const float* b, int64_t M, int C, int G, float eps);
void groupnorm_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp,
                        const float* w, const float* mean, const float* rstd, int64_t M, int C,
                        int G);

}  // namespace rwkv
