// wkv7.cpp — CPU WKV-7 forward and backward (see ops/wkv7.h). One (batch, head) per OpenMP
// task; the N x N state of a head (16 KiB for N = 64) stays in L1/L2 and the inner loops over
// the key index j are contiguous, so they vectorise. A step with N = 64 on AVX-512 keeps a, b,
// w, k in registers and reduces four rows' dot products together (decode at batch 16 spent 16 %
// of its time here, one horizontal reduction per row and dot). Runs of T >= 8 tokens without
// checkpoints hold the state transposed instead (wkv7_run64_transposed: no reductions, 2x).
#include "ops/wkv7.h"

#include "core/parallel_for.h"
#include "ops/row_invariant.h"

#include <cstring>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>

#include "ops/cpu/simd_reduce.h"
// GCC 12 warns inside _mm512_reduce_add_ps (its _mm512_undefined_ps helper); a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace rwkv {

namespace {

// sum_j x[j] y[j]. With AVX-512 and N % 16 == 0: vector FMAs and one shuffle reduction (the
// generic simd reduction spills 16 partial sums and adds them one by one).
inline float dot(const float* __restrict x, const float* __restrict y, int N) {
#if defined(__AVX512F__)
  if (N % 16 == 0) {
    __m512 acc = _mm512_setzero_ps();
    for (int j = 0; j < N; j += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(x + j), _mm512_loadu_ps(y + j), acc);
    return _mm512_reduce_add_ps(acc);
  }
#endif
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int j = 0; j < N; j++) s += x[j] * y[j];
  return s;
}

// One step of the recurrence on state S (N x N) in place; writes y (N) and, if sa_out, sa (N).
inline void wkv7_step(float* __restrict S, float* __restrict y, float* __restrict sa_out,
                      const float* __restrict r, const float* __restrict w,
                      const float* __restrict k, const float* __restrict v,
                      const float* __restrict a, const float* __restrict b, int N) {
#if defined(__AVX512F__)
  if (N == 64) {  // the RWKV-7 head size: a, b, w, k in registers, four rows at a time
    const __m512 a0 = _mm512_loadu_ps(a), a1 = _mm512_loadu_ps(a + 16), a2 = _mm512_loadu_ps(a + 32),
                 a3 = _mm512_loadu_ps(a + 48);
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), b2 = _mm512_loadu_ps(b + 32),
                 b3 = _mm512_loadu_ps(b + 48);
    const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16), w2 = _mm512_loadu_ps(w + 32),
                 w3 = _mm512_loadu_ps(w + 48);
    const __m512 k0 = _mm512_loadu_ps(k), k1 = _mm512_loadu_ps(k + 16), k2 = _mm512_loadu_ps(k + 32),
                 k3 = _mm512_loadu_ps(k + 48);
    for (int i = 0; i < 64; i += 4) {
      float* __restrict R = S + int64_t(i) * 64;  // rows i..i+3
      __m512 p[4];
      for (int q = 0; q < 4; q++) {  // sa = row . a
        const float* x = R + 64 * q;
        p[q] = _mm512_fmadd_ps(_mm512_loadu_ps(x + 48), a3,
               _mm512_fmadd_ps(_mm512_loadu_ps(x + 32), a2,
               _mm512_fmadd_ps(_mm512_loadu_ps(x + 16), a1, _mm512_mul_ps(_mm512_loadu_ps(x), a0))));
      }
      alignas(16) float sa[4];
      _mm_store_ps(sa, simd::hsum4(p[0], p[1], p[2], p[3]));
      for (int q = 0; q < 4; q++) {  // row = row * w + sa * b + v_i * k, then y_i = row . r
        float* x = R + 64 * q;
        const __m512 s = _mm512_set1_ps(sa[q]), vi = _mm512_set1_ps(v[i + q]);
        const __m512 n0 = _mm512_fmadd_ps(_mm512_loadu_ps(x), w0, _mm512_fmadd_ps(s, b0, _mm512_mul_ps(vi, k0)));
        const __m512 n1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16), w1, _mm512_fmadd_ps(s, b1, _mm512_mul_ps(vi, k1)));
        const __m512 n2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 32), w2, _mm512_fmadd_ps(s, b2, _mm512_mul_ps(vi, k2)));
        const __m512 n3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 48), w3, _mm512_fmadd_ps(s, b3, _mm512_mul_ps(vi, k3)));
        _mm512_storeu_ps(x, n0);
        _mm512_storeu_ps(x + 16, n1);
        _mm512_storeu_ps(x + 32, n2);
        _mm512_storeu_ps(x + 48, n3);
        if (y)
          p[q] = _mm512_fmadd_ps(n3, _mm512_loadu_ps(r + 48),
                 _mm512_fmadd_ps(n2, _mm512_loadu_ps(r + 32),
                 _mm512_fmadd_ps(n1, _mm512_loadu_ps(r + 16), _mm512_mul_ps(n0, _mm512_loadu_ps(r)))));
      }
      if (y) _mm_storeu_ps(y + i, simd::hsum4(p[0], p[1], p[2], p[3]));
      if (sa_out) _mm_storeu_ps(sa_out + i, _mm_load_ps(sa));
    }
    return;
  }
#endif
  for (int i = 0; i < N; i++) {
    float* __restrict row = S + int64_t(i) * N;
    const float sa = dot(row, a, N);
    const float vi = v[i];
#pragma omp simd
    for (int j = 0; j < N; j++) row[j] = row[j] * w[j] + sa * b[j] + vi * k[j];
    if (y) y[i] = dot(row, r, N);
    if (sa_out) sa_out[i] = sa;
  }
}

#if defined(__AVX512F__)
// T steps of one head, N = 64, with the state held transposed in L1 (ST[j][i] = S[i][j]): every
// sum over the key index j is then 4 vector accumulators over i, one fused multiply-add per j in
// order (the official CUDA kernel's order), with no horizontal reductions; and one pass over the
// state per token does the update, y of this token and sa of the next (sa_{t+1} = S_t a_{t+1}).
// The update itself, S w + sa b + v k, is grouped as wkv7_step groups it. S (64 x 64) in/out in
// its usual layout; the per-token vectors at `stride` floats apart. 2x the throughput of T calls
// of wkv7_step (no reductions in the way); for prefill, where T is long.
void wkv7_run64_transposed(float* __restrict S, float* __restrict y, const float* __restrict r,
                           const float* __restrict w, const float* __restrict k, const float* __restrict v,
                           const float* __restrict a, const float* __restrict b, int T, int64_t stride) {
  constexpr int kAhead = 4;
  alignas(64) float ST[64 * 64];
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 64; j++) ST[j * 64 + i] = S[i * 64 + j];
  __m512 sa[4];
  for (int q = 0; q < 4; q++) sa[q] = _mm512_setzero_ps();
  for (int j = 0; j < 64; j++) {
    const __m512 aj = _mm512_set1_ps(a[j]);
    for (int q = 0; q < 4; q++) sa[q] = _mm512_fmadd_ps(_mm512_load_ps(ST + j * 64 + 16 * q), aj, sa[q]);
  }
  for (int t = 0; t < T; t++) {
    const int64_t o = int64_t(t) * stride;
    const float *rt = r + o, *wt = w + o, *kt = k + o, *bt = b + o;
    const float* an = t + 1 < T ? a + o + stride : a + o;  // the next token's a (the last: unused)
    if (t + kAhead < T)  // the token kAhead on: its six vectors are 4 lines each, a row of (T, H*N) apart
      for (const float* p : {r, w, k, v, a, b})
        for (int l = 0; l < 4; l++) _mm_prefetch(reinterpret_cast<const char*>(p + o + kAhead * stride + 16 * l), _MM_HINT_T0);
    __m512 vv[4], ya[4], sn[4];
    for (int q = 0; q < 4; q++) {
      vv[q] = _mm512_loadu_ps(v + o + 16 * q);
      ya[q] = sn[q] = _mm512_setzero_ps();
    }
    for (int j = 0; j < 64; j++) {
      const __m512 wj = _mm512_set1_ps(wt[j]), bj = _mm512_set1_ps(bt[j]), kj = _mm512_set1_ps(kt[j]),
                   rj = _mm512_set1_ps(rt[j]), aj = _mm512_set1_ps(an[j]);
      float* x = ST + j * 64;
      for (int q = 0; q < 4; q++) {
        const __m512 n = _mm512_fmadd_ps(_mm512_load_ps(x + 16 * q), wj,
                                         _mm512_fmadd_ps(sa[q], bj, _mm512_mul_ps(vv[q], kj)));
        _mm512_store_ps(x + 16 * q, n);
        ya[q] = _mm512_fmadd_ps(n, rj, ya[q]);
        sn[q] = _mm512_fmadd_ps(n, aj, sn[q]);
      }
    }
    for (int q = 0; q < 4; q++) {
      _mm512_storeu_ps(y + o + 16 * q, ya[q]);
      sa[q] = sn[q];
    }
  }
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 64; j++) S[i * 64 + j] = ST[j * 64 + i];
}
#endif

}  // namespace

void wkv7_forward(float* y, float* s_out, float* s_ckpt, const float* r, const float* w,
                  const float* k, const float* v, const float* a, const float* b, const float* s0,
                  int B, int T, int H, int N) {
  const int64_t NN = int64_t(N) * N, nch = wkv7_num_chunks(T);
  const int64_t tstride = int64_t(H) * N;  // between tokens
  // Heads split over the threads when the work is large (a decode step runs on this thread). The
  // state evolves in s_out where there is one (in place when s0 == s_out: a decode step copies
  // nothing), else in a scratch of the thread.
  [[maybe_unused]] const bool invariant = row_invariant_products();  // the caller's thread's switch
  parallel_ranges(int64_t(B) * H, int64_t(B) * H * T * N * N > 65536, [&](int64_t bh0, int64_t bh1) {
    std::vector<float> scratch(s_out ? 0 : NN);
    for (int bh = int(bh0); bh < int(bh1); bh++) {
      const int bi = bh / H, h = bh % H;
      float* S = s_out ? s_out + bh * NN : scratch.data();
      if (!s0)
        std::memset(S, 0, sizeof(float) * NN);
      else if (s0 + bh * NN != S)
        std::memcpy(S, s0 + bh * NN, sizeof(float) * NN);
#if defined(__AVX512F__)
      // a forward without checkpoints (inference prefill, training's evaluation and BPTT's forward
      // sweep; a forward that saves checkpoints keeps the step its backward replays); not under
      // row-invariant products (one kernel at any T: a token's numbers do not depend on the cut)
      if (N == 64 && !s_ckpt && T >= 8 && !invariant) {
        const int64_t o = int64_t(bi) * T * tstride + int64_t(h) * N;
        wkv7_run64_transposed(S, y + o, r + o, w + o, k + o, v + o, a + o, b + o, T, tstride);
        continue;
      }
#endif
      for (int t = 0; t < T; t++) {
        if (s_ckpt && t % WKV7_CHUNK == 0)
          std::memcpy(s_ckpt + (bh * nch + t / WKV7_CHUNK) * NN, S, sizeof(float) * NN);
        const int64_t o = (int64_t(bi) * T + t) * tstride + int64_t(h) * N;
        wkv7_step(S, y + o, nullptr, r + o, w + o, k + o, v + o, a + o, b + o, N);
      }
    }
  });
}

void wkv7_backward(float* dr, float* dw, float* dk, float* dv, float* da, float* db, float* ds0,
                   const float* dy, const float* ds_out, const float* r, const float* w,
                   const float* k, const float* v, const float* a, const float* b,
                   const float* s_ckpt, int B, int T, int H, int N) {
  const int64_t NN = int64_t(N) * N, nch = wkv7_num_chunks(T);
  const int64_t tstride = int64_t(H) * N;
#pragma omp parallel if (int64_t(B) * H * T * N * N > 65536)
  {
    std::vector<float> St((WKV7_CHUNK + 1) * NN);  // states S_{t0-1} .. S_{t1-1} of one chunk
    std::vector<float> SA(WKV7_CHUNK * N);           // sa of each step of the chunk
    std::vector<float> dS(NN);
    std::vector<float> gr(N), gk(N), gb(N), gw(N), ga(N);
#pragma omp for schedule(static)
    for (int bh = 0; bh < B * H; bh++) {
      const int bi = bh / H, h = bh % H;
      if (ds_out)
        std::memcpy(dS.data(), ds_out + bh * NN, sizeof(float) * NN);
      else
        std::memset(dS.data(), 0, sizeof(float) * NN);
      for (int64_t c = nch - 1; c >= 0; c--) {
        const int t0 = int(c * WKV7_CHUNK), t1 = t0 + WKV7_CHUNK < T ? t0 + WKV7_CHUNK : T;
        // Recompute the chunk's states from its checkpoint.
        std::memcpy(St.data(), s_ckpt + (bh * nch + c) * NN, sizeof(float) * NN);
        for (int t = t0; t < t1; t++) {
          const int l = t - t0;
          std::memcpy(St.data() + (l + 1) * NN, St.data() + l * NN, sizeof(float) * NN);
          const int64_t o = (int64_t(bi) * T + t) * tstride + int64_t(h) * N;
          wkv7_step(St.data() + (l + 1) * NN, nullptr, SA.data() + l * N, r + o, w + o, k + o,
                    v + o, a + o, b + o, N);
        }
        for (int t = t1 - 1; t >= t0; t--) {
          const int l = t - t0;
          const int64_t o = (int64_t(bi) * T + t) * tstride + int64_t(h) * N;
          const float *__restrict rt = r + o, *__restrict wt = w + o, *__restrict kt = k + o,
                      *__restrict vt = v + o, *__restrict at = a + o, *__restrict bt = b + o,
                      *__restrict dyt = dy + o;
          const float* __restrict Sprev = St.data() + l * NN;
          const float* __restrict Scur = St.data() + (l + 1) * NN;
          const float* __restrict sa = SA.data() + l * N;
          float *__restrict pr = gr.data(), *__restrict pk = gk.data(), *__restrict pb = gb.data(),
                *__restrict pw = gw.data(), *__restrict pa = ga.data();
          for (int j = 0; j < N; j++) pr[j] = pk[j] = pb[j] = pw[j] = pa[j] = 0;
          for (int i = 0; i < N; i++) {
            float* __restrict dSi = dS.data() + int64_t(i) * N;
            const float* __restrict Sci = Scur + int64_t(i) * N;
            const float* __restrict Spi = Sprev + int64_t(i) * N;
            const float dyi = dyt[i], vi = vt[i], sai = sa[i];
#pragma omp simd
            for (int j = 0; j < N; j++) dSi[j] += dyi * rt[j];  // dL/dS_t
            const float dvi = dot(dSi, kt, N), dsai = dot(dSi, bt, N);
#pragma omp simd
            for (int j = 0; j < N; j++) {
              float d = dSi[j];
              pr[j] += Sci[j] * dyi;
              pk[j] += d * vi;
              pb[j] += d * sai;
              pw[j] += Spi[j] * d;
              pa[j] += Spi[j] * dsai;
              dSi[j] = d * wt[j] + dsai * at[j];  // dL/dS_{t-1}
            }
            dv[o + i] += dvi;
          }
          for (int j = 0; j < N; j++) {
            dr[o + j] += pr[j];
            dk[o + j] += pk[j];
            db[o + j] += pb[j];
            dw[o + j] += pw[j];
            da[o + j] += pa[j];
          }
        }
      }
      if (ds0)
        for (int64_t e = 0; e < NN; e++) ds0[bh * NN + e] += dS[e];
    }
  }
}

}  // namespace rwkv
