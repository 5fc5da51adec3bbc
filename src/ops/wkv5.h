// wkv5.h — the RWKV-5 recurrence ("WKV-5", x050 / x051 / x052) over the T tokens of ONE
// sequence, per head h of N channels, state S (N, N) [value i, key j]:
//   y[t][i] = sum_j r[t][j] (S[i][j] + u[j] k[t][j] v[t][i])
//   S[i][j] = S[i][j] w[j] + v[t][i] k[t][j]
// with the decay w = exp(-exp(time_decay)) in (0, 1), the same for every token, and the bonus
// u = time_faaaa (or exp(time_first)). RWKV-6 is the same with w per token (ops/wkv6.h).
// Inference only (no backward).
#pragma once
#include <cstdint>

namespace rwkv {

// y, r, k, v: (T, H*N); w, u: (H*N); S: (H, N, N) the sequence's state, read and updated in
// place. OpenMP over heads.
void wkv5_forward(float* y, float* S, const float* r, const float* k, const float* v,
                  const float* w, const float* u, int T, int H, int N);

}  // namespace rwkv
