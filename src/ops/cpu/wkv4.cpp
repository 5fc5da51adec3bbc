// wkv4.cpp — CPU WKV-4 forward (see ops/wkv4.h). One channel per iteration: its three state
// floats stay in registers over the T tokens; the arithmetic (and its order) is the one the
// RWKV-4 model had before it moved onto ops, so results are bit-identical to it.
#include "ops/wkv4.h"

#include "core/parallel_for.h"

#include <algorithm>
#include <cmath>

namespace rwkv {

void wkv4_forward(float* y, const float* sr, const float* k, const float* v, const float* w,
                  const float* u, float* aa, float* bb, float* pp, int T, int C) {
  parallel_for(C, int64_t(T) * C >= 8192, [&](int64_t c) {  // decode: serial
    float a = aa[c], b = bb[c], q = pp[c];
    const float uc = u[c], wc = w[c];
    for (int t = 0; t < T; t++) {
      const int64_t o = int64_t(t) * C + c;
      const float kk = k[o], vv = v[o];
      float ww = uc + kk, m = std::max(q, ww);
      float e1 = std::exp(q - m), e2 = std::exp(ww - m);
      if (sr)
        y[o] = sr[o] * (e1 * a + e2 * vv) / (e1 * b + e2);
      else
        y[o] = (e1 * a + e2 * vv) / (e1 * b + e2);
      ww = wc + q;
      m = std::max(ww, kk);
      e1 = std::exp(ww - m);
      e2 = std::exp(kk - m);
      a = e1 * a + e2 * vv;
      b = e1 * b + e2;
      q = m;
    }
    aa[c] = a, bb[c] = b, pp[c] = q;
  });
}

}  // namespace rwkv
