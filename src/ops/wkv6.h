// wkv6.h — the RWKV-6 recurrence ("WKV-6", x060) over the T tokens of ONE sequence: WKV-5
// (ops/wkv5.h) with a decay per token and channel, per head h of N channels:
//   y[t][i] = sum_j r[t][j] (S[i][j] + u[j] k[t][j] v[t][i])
//   S[i][j] = S[i][j] w[t][j] + v[t][i] k[t][j]
// and the data-dependent decay itself, w = exp(-exp(time_decay + lora)). Inference only.
#pragma once
#include <cstdint>

namespace rwkv {

// y, r, k, v, w: (T, H*N); u: (H*N); S: (H, N, N) [head, value i, key j], the sequence's state,
// read and updated in place. OpenMP over heads.
void wkv6_forward(float* y, float* S, const float* r, const float* k, const float* v,
                  const float* w, const float* u, int T, int H, int N);

// w (M, A) = exp(-exp(time_decay + lora)); lora: (M, A) (w may alias it); time_decay: (A).
void wkv6_decay_forward(float* w, const float* lora, const float* time_decay, int64_t M, int A);

}  // namespace rwkv
