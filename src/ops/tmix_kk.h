// tmix_kk.h — RWKV-7 key preparation before WKV-7 (per head of N channels):
//   kk  = normalize(k * k_k)   (L2 per head, x / max(||x||, 1e-12) as F.normalize)
//   k2  = k * (1 + (a - 1) * k_a)
//   na  = -kk  (the WKV "a" input),  kka = kk * a  (the WKV "b" input)
// Backward accumulates (+=).
#pragma once
#include <cstdint>

namespace rwkv {

// k, a, k2, na, kka, kk: (M, H*N); k_k, k_a: (H*N); nrm: (M, H) saved norms (pre-clamp).
// kk and nrm may be null (an inference forward: only the backward reads them).
void tmix_kk_forward(float* k2, float* na, float* kka, float* kk, float* nrm, const float* k,
                     const float* k_k, const float* a, const float* k_a, int64_t M, int H, int N);
// dk2, dna, dkka: incoming (M, H*N); dk, da: (M, H*N); dk_k, dk_a: (H*N).
void tmix_kk_backward(float* dk, float* da, float* dk_k, float* dk_a, const float* dk2,
                      const float* dna, const float* dkka, const float* k, const float* k_k,
                      const float* a, const float* k_a, const float* kk, const float* nrm,
                      int64_t M, int H, int N);

}  // namespace rwkv
