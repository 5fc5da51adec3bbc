// tmix_out.h — the RWKV-7 attention epilogue between WKV-7 and the output projection:
//   z = GroupNorm_H(y) (ln_x, eps 64e-5) + (sum_n r*k*r_k over each head) * v;  out = z * g
// and the value residual gate: v = v + (v_first - v) * s  (s = sigmoid(v0 + lora)).
// Backward accumulates (+=).
#pragma once
#include <cstdint>

namespace rwkv {

inline constexpr float LN_X_EPS = 64e-5f;

// y, r, k, v, g, out: (M, H*N); r_k: (H, N); lnx_w, lnx_b: (H*N);
// saved: gn_mean, gn_rstd: (M, H); bonus: (M, H) = sum_n r*k*r_k; z: (M, H*N) pre-gate.
void tmix_out_forward(float* out, float* z, float* gn_mean, float* gn_rstd, float* bonus,
                      const float* y, const float* r, const float* k, const float* v,
                      const float* r_k, const float* lnx_w, const float* lnx_b, const float* g,
                      int64_t M, int H, int N);
// Parallel over heads, so every gradient (incl. the per-channel ones) has a fixed sum order.
void tmix_out_backward(float* dy, float* dr, float* dk, float* dv, float* dg, float* dr_k,
                       float* dlnx_w, float* dlnx_b, const float* dout,
                       const float* y, const float* r, const float* k, const float* v,
                       const float* r_k, const float* lnx_w, const float* g, const float* z,
                       const float* gn_mean, const float* gn_rstd, const float* bonus, int64_t M,
                       int H, int N);

// out (M, C) = v + (v_first - v) * s. out may alias v.
void vres_forward(float* out, const float* v, const float* v_first, const float* s, int64_t M,
                  int C);
void vres_backward(float* dv, float* dv_first, float* ds, const float* dout, const float* v,
                   const float* v_first, const float* s, int64_t M, int C);

}  // namespace rwkv
