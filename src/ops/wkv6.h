// wkv6.h — the RWKV-6 recurrence ("WKV-6", x060) over the T tokens of ONE sequence: WKV-5
// (ops/wkv5.h) with a decay per token and channel, per head h of N channels:
//   y[t][i] = sum_j r[t][j] (S[i][j] + u[j] k[t][j] v[t][i])
//   S[i][j] = S[i][j] w[t][j] + v[t][i] k[t][j]
// and the data-dependent decay itself, w = exp(-exp(time_decay + lora)).
// Training (x052 and x060, RWKV-LM RWKV-v5/src/model.py): B sequences from a zero state, the
// state saved every WKV6_CHUNK tokens; the backward recomputes one chunk's states at a time from
// those checkpoints. x052 passes its one decay row repeated for every token. Backward
// accumulates (+=).
#pragma once
#include <cstdint>

namespace rwkv {

// y, r, k, v, w: (T, H*N); u: (H*N); S: (H, N, N) [head, value i, key j], the sequence's state,
// read and updated in place. OpenMP over heads.
void wkv6_forward(float* y, float* S, const float* r, const float* k, const float* v,
                  const float* w, const float* u, int T, int H, int N);

// w (M, A) = exp(-exp(time_decay + lora)); lora: (M, A) (w may alias it); time_decay: (A).
void wkv6_decay_forward(float* w, const float* lora, const float* time_decay, int64_t M, int A);
// dlora (M, A) += dw * dw/dd, dtime_decay (A) += its sum over rows (either may be null), with
// d = time_decay + lora and w = exp(-exp(d)) the forward's output: dw/dd = -w * exp(d).
void wkv6_decay_backward(float* dlora, float* dtime_decay, const float* dw, const float* w,
                         const float* lora, const float* time_decay, int64_t M, int A);

inline constexpr int WKV6_CHUNK = 16;
inline int64_t wkv6_num_chunks(int T) { return (T + WKV6_CHUNK - 1) / WKV6_CHUNK; }

// r, k, v, w, y: (B, T, H*N); u: (H*N); s_ckpt: (B, H, wkv6_num_chunks(T), N, N) the state at
// the start of each chunk, or null (no backward). OpenMP over (b, h).
void wkv6_train_forward(float* y, float* s_ckpt, const float* r, const float* k, const float* v,
                        const float* w, const float* u, int B, int T, int H, int N);
// dy: (B, T, H*N); dr, dk, dv, dw: (B, T, H*N); du: (H*N) (summed over b in a fixed order).
void wkv6_backward(float* dr, float* dk, float* dv, float* dw, float* du, const float* dy,
                   const float* r, const float* k, const float* v, const float* w, const float* u,
                   const float* s_ckpt, int B, int T, int H, int N);

}  // namespace rwkv
