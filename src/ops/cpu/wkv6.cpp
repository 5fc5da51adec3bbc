// wkv6.cpp — CPU WKV-6: inference forward, the RWKV-6 decay, and the training forward and
// backward of x052 / x060 (see ops/wkv6.h).
#include "ops/wkv6.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/cpu/wkv56.h"

#include "core/parallel_for.h"

namespace rwkv {

void wkv6_forward(float* y, float* S, const float* r, const float* k, const float* v,
                  const float* w, const float* u, int T, int H, int N) {
  cpu::wkv56_forward(y, S, r, k, v, w, /*w_stride=*/int64_t(H) * N, u, T, H, N);
}

void wkv6_decay_forward(float* w, const float* lora, const float* time_decay, int64_t M, int A) {
  parallel_for(M, M * A > 16384, [&](int64_t m) {
    for (int c = 0; c < A; c++) w[m * A + c] = std::exp(-std::exp(time_decay[c] + lora[m * A + c]));
  });
}

void wkv6_decay_backward(float* dlora, float* dtime_decay, const float* dw, const float* w,
                         const float* lora, const float* time_decay, int64_t M, int A) {
  // Rows in parallel for dlora; dtime_decay per column in row order (a fixed sum order).
#pragma omp parallel for schedule(static) if (M * A > 16384)
  for (int c = 0; c < A; c++) {
    float acc = 0;
    for (int64_t m = 0; m < M; m++) {
      const int64_t o = m * A + c;
      const float g = -dw[o] * w[o] * std::exp(time_decay[c] + (lora ? lora[o] : 0.f));
      if (dlora) dlora[o] += g;
      acc += g;
    }
    if (dtime_decay) dtime_decay[c] += acc;
  }
}

void wkv6_train_forward(float* y, float* s_ckpt, const float* r, const float* k, const float* v,
                        const float* w, const float* u, int B, int T, int H, int N) {
  const int64_t A = int64_t(H) * N, NN = int64_t(N) * N, nch = wkv6_num_chunks(T);
#pragma omp parallel for schedule(dynamic) if (int64_t(B) * T * A * N > 65536)
  for (int bh = 0; bh < B * H; bh++) {
    const int b = bh / H, h = bh % H;
    std::vector<float> S(size_t(NN), 0.f);
    const float* uh = u + int64_t(h) * N;
    for (int t = 0; t < T; t++) {
      if (s_ckpt && t % WKV6_CHUNK == 0)
        std::memcpy(s_ckpt + (int64_t(bh) * nch + t / WKV6_CHUNK) * NN, S.data(), sizeof(float) * NN);
      const int64_t o = (int64_t(b) * T + t) * A + int64_t(h) * N;
      cpu::wkv56_token(y + o, S.data(), r + o, k + o, v + o, w + o, uh, N);
    }
  }
}

// Per (b, h), tokens in reverse with G = d(loss)/d(state after token t) (zero after the last):
//   dv[i] += dy[i] (r.u.k) + sum_j G[i][j] k[j]
//   dr[j] += sum_i dy[i] S'[i][j] + u[j] k[j] (dy.v)          (S' = state before token t)
//   dk[j] += sum_i G[i][j] v[i] + r[j] u[j] (dy.v);  du[j] += r[j] k[j] (dy.v)
//   dw[j] += sum_i G[i][j] S'[i][j];                  G[i][j] = G[i][j] w[j] + dy[i] r[j]
void wkv6_backward(float* dr, float* dk, float* dv, float* dw, float* du, const float* dy,
                   const float* r, const float* k, const float* v, const float* w, const float* u,
                   const float* s_ckpt, int B, int T, int H, int N) {
  const int64_t A = int64_t(H) * N, NN = int64_t(N) * N, nch = wkv6_num_chunks(T);
  std::vector<float> du_part(size_t(B) * A, 0.f);  // per (b, h): summed over b afterwards
#pragma omp parallel for schedule(dynamic) if (int64_t(B) * T * A * N > 65536)
  for (int bh = 0; bh < B * H; bh++) {
    const int b = bh / H, h = bh % H;
    const float* uh = u + int64_t(h) * N;
    float* duh = du_part.data() + int64_t(b) * A + int64_t(h) * N;
    std::vector<float> G(size_t(NN), 0.f), St(size_t(WKV6_CHUNK) * NN), col(size_t(3) * N);
    for (int64_t c = nch - 1; c >= 0; c--) {
      const int t0 = int(c) * WKV6_CHUNK, t1 = std::min(T, t0 + WKV6_CHUNK);
      // St[t - t0] = the state before token t.
      std::memcpy(St.data(), s_ckpt + (int64_t(bh) * nch + c) * NN, sizeof(float) * NN);
      for (int t = t0; t + 1 < t1; t++) {
        const int64_t o = (int64_t(b) * T + t) * A + int64_t(h) * N;
        const float *kt = k + o, *vt = v + o, *wt = w + o;
        const float* sp = St.data() + int64_t(t - t0) * NN;
        float* sn = St.data() + int64_t(t - t0 + 1) * NN;
        for (int i = 0; i < N; i++)
          for (int j = 0; j < N; j++) sn[i * N + j] = sp[i * N + j] * wt[j] + vt[i] * kt[j];
      }
      for (int t = t1 - 1; t >= t0; t--) {
        const int64_t o = (int64_t(b) * T + t) * A + int64_t(h) * N;
        const float *rt = r + o, *kt = k + o, *vt = v + o, *wt = w + o, *dyt = dy + o;
        const float* sp = St.data() + int64_t(t - t0) * NN;
        float ruk = 0, dyv = 0;
        for (int j = 0; j < N; j++) ruk += rt[j] * uh[j] * kt[j];
        for (int i = 0; i < N; i++) dyv += dyt[i] * vt[i];
        // Column sums over i: dr (dy . S'), dk (G . v), dw (G . S').
        std::fill(col.begin(), col.end(), 0.f);
        float *sdr = col.data(), *sdk = sdr + N, *sdw = sdk + N;
        for (int i = 0; i < N; i++) {
          const float* gi = G.data() + int64_t(i) * N;
          const float* si = sp + int64_t(i) * N;
          const float dyi = dyt[i], vi = vt[i];
          float dvi = 0;
          for (int j = 0; j < N; j++) {
            sdr[j] += dyi * si[j];
            sdk[j] += gi[j] * vi;
            sdw[j] += gi[j] * si[j];
            dvi += gi[j] * kt[j];
          }
          dv[o + i] += dyi * ruk + dvi;
        }
        for (int j = 0; j < N; j++) {
          dr[o + j] += sdr[j] + uh[j] * kt[j] * dyv;
          dk[o + j] += sdk[j] + rt[j] * uh[j] * dyv;
          dw[o + j] += sdw[j];
          duh[j] += rt[j] * kt[j] * dyv;
        }
        for (int i = 0; i < N; i++) {
          float* gi = G.data() + int64_t(i) * N;
          const float dyi = dyt[i];
          for (int j = 0; j < N; j++) gi[j] = gi[j] * wt[j] + dyi * rt[j];
        }
      }
    }
  }
  if (du)
    for (int b = 0; b < B; b++)
      for (int64_t a = 0; a < A; a++) du[a] += du_part[size_t(b * A + a)];
}

}  // namespace rwkv
