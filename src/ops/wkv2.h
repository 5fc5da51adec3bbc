// wkv2.h — the RWKV-2 recurrence ("WKV-2", RWKV-v2-RNN-Pile model.py RWKV_RNN) over the T
// tokens of ONE sequence, per channel c, with w = exp(-exp(time_decay)) in (0, 1),
// u = exp(time_first) and k already exp(min(W_k x, 60)) (> 0):
//   y  = sr * (aa + u k v) / (bb + u k + K_EPS)     the state plus the current token's bonus
//   aa = w aa + k v;   bb = w bb + k                 the state never holds the u term
// sr is the receptance gate sigmoid(r). A fresh state is aa = bb = 0. Plain sums, as the
// official code: the state grows to ~1e26 for large k, still inside fp32's range. The same
// numbers as the GPT-mode convolution (wkv[t] = Σ_{s<=t} W[T-1-t+s] k_s v_s, with W the
// decay curve and u at s = t). Inference only (no backward).
#pragma once
#include <cstdint>

namespace rwkv {

// y, sr, k, v: (T, C); w, u: (C); aa, bb: (C) the sequence's state, read and updated in place.
void wkv2_forward(float* y, const float* sr, const float* k, const float* v, const float* w, const float* u,
                  float* aa, float* bb, float k_eps, int T, int C);

}  // namespace rwkv
