// wkv7.h — the RWKV-7 recurrence ("WKV-7"), per batch b and head h, for t = 0..T-1:
//   sa[i] = sum_j S[i][j] a[j]
//   S[i][j] = S[i][j] w[j] + sa[i] b[j] + v[i] k[j]      (i: value index, j: key index)
//   y[i] = sum_j S[i][j] r[j]
// with the decay w in (0, 1) already computed. The model calls it with a = -kk, b = kk * a.
// The forward carries the state and saves it every WKV7_CHUNK tokens; the backward recomputes
// the states of one chunk at a time from those checkpoints (exact, no division by w).
// Backward accumulates (+=).
#pragma once
#include <cstdint>

namespace rwkv {

inline constexpr int WKV7_CHUNK = 16;
inline int64_t wkv7_num_chunks(int T) { return (T + WKV7_CHUNK - 1) / WKV7_CHUNK; }

// r, w, k, v, a, b, y: (B, T, H, N); s0: (B, H, N, N) initial state or null (zeros);
// s_out: (B, H, N, N) final state or null; s_ckpt: (B, H, wkv7_num_chunks(T), N, N) state at
// the start of each chunk, or null (not needed without a backward). s_out may alias s0.
void wkv7_forward(float* y, float* s_out, float* s_ckpt, const float* r, const float* w,
                  const float* k, const float* v, const float* a, const float* b, const float* s0,
                  int B, int T, int H, int N);
// dy: (B, T, H, N); ds_out: (B, H, N, N) gradient of the final state or null.
// dr..db: (B, T, H, N); ds0: (B, H, N, N) or null.
void wkv7_backward(float* dr, float* dw, float* dk, float* dv, float* da, float* db, float* ds0,
                   const float* dy, const float* ds_out, const float* r, const float* w,
                   const float* k, const float* v, const float* a, const float* b,
                   const float* s_ckpt, int B, int T, int H, int N);

}  // namespace rwkv
