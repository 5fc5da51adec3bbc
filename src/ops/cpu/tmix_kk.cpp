// tmix_kk.cpp — CPU key preparation of RWKV-7 (see ops/tmix_kk.h). The backward runs one head
// per OpenMP task over all rows, so the per-channel sums k_k / k_a have a fixed order.
#include "ops/tmix_kk.h"

#include "core/parallel_for.h"

#include <cmath>
#include <vector>

namespace rwkv {

namespace {
constexpr float kNormEps = 1e-12f;
}

void tmix_kk_forward(float* k2, float* na, float* kka, float* kk, float* nrm, const float* k,
                     const float* k_k, const float* a, const float* k_a, int64_t M, int H, int N) {
  const int C = H * N;
  parallel_for(M, M * C > 8192, [&](int64_t m) {
    for (int h = 0; h < H; h++) {
      const int64_t o = m * C + int64_t(h) * N;
      const float* kh = k + o;
      const float* kkh = k_k + int64_t(h) * N;
      float ss = 0;
      for (int n = 0; n < N; n++) {
        float x = kh[n] * kkh[n];
        ss += x * x;
      }
      float nr = std::sqrt(ss);
      float inv = 1.f / (nr > kNormEps ? nr : kNormEps);
      if (nrm) nrm[m * H + h] = nr;
      for (int n = 0; n < N; n++) {
        const int c = h * N + n;
        float q = kh[n] * kkh[n] * inv;
        float av = a[o + n];
        if (kk) kk[o + n] = q;
        na[o + n] = -q;
        kka[o + n] = q * av;
        k2[o + n] = kh[n] * (1.f + (av - 1.f) * k_a[c]);
      }
    }
  });
}

void tmix_kk_backward(float* dk, float* da, float* dk_k, float* dk_a, const float* dk2,
                      const float* dna, const float* dkka, const float* k, const float* k_k,
                      const float* a, const float* k_a, const float* kk, const float* nrm,
                      int64_t M, int H, int N) {
  const int C = H * N;
#pragma omp parallel if (M * C > 8192)
  {
    std::vector<float> dq(N), gkk(N), gka(N);
#pragma omp for schedule(static)
    for (int h = 0; h < H; h++) {
      for (int n = 0; n < N; n++) gkk[n] = gka[n] = 0;
      for (int64_t m = 0; m < M; m++) {
        const int64_t o = m * C + int64_t(h) * N;
        float dot = 0;
        for (int n = 0; n < N; n++) {
          const int64_t e = o + n;
          dq[n] = -dna[e] + dkka[e] * a[e];  // dL/dkk
          dot += dq[n] * kk[e];
        }
        const float nr = nrm[m * H + h];
        const bool clamped = !(nr > kNormEps);
        const float inv = 1.f / (clamped ? kNormEps : nr);
        for (int n = 0; n < N; n++) {
          const int64_t e = o + n;
          const int c = h * N + n;
          float d0 = clamped ? dq[n] * inv : (dq[n] - kk[e] * dot) * inv;  // dL/d(k*k_k)
          float kv = k[e], av = a[e];
          dk[e] += d0 * k_k[c] + dk2[e] * (1.f + (av - 1.f) * k_a[c]);
          da[e] += dkka[e] * kk[e] + dk2[e] * kv * k_a[c];
          gkk[n] += d0 * kv;
          gka[n] += dk2[e] * kv * (av - 1.f);
        }
      }
      for (int n = 0; n < N; n++) {
        if (dk_k) dk_k[h * N + n] += gkk[n];
        if (dk_a) dk_a[h * N + n] += gka[n];
      }
    }
  }
}

}  // namespace rwkv
