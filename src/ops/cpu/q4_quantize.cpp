// q4_quantize.cpp — the q4 format's load-time conversion and its exact widening (see ops/q4.h).
#include <algorithm>
#include <cmath>

#include "core/dtype.h"
#include "core/error.h"
#include "ops/q4.h"

namespace rwkv {

void q4_quantize(uint8_t* q, uint16_t* d, uint16_t* m, const float* W, int64_t N, int64_t K) {
  if (K % kQ4Block != 0 || K <= 0) fail("ops", "q4: a matrix of {} inputs, expected a multiple of {}", K, kQ4Block);
  const int64_t nb = K / kQ4Block;
  for (int64_t o = 0; o < N; o++) {
    for (int64_t b = 0; b < nb; b++) {
      const float* w = W + o * K + b * kQ4Block;  // (32)
      float lo = w[0], hi = w[0];
      for (int j = 0; j < kQ4Block; j++) {
        if (!std::isfinite(w[j])) fail("ops", "q4: weight [{}, {}] is {}, expected a finite number", o, b * kQ4Block + j, w[j]);
        lo = std::min(lo, w[j]);
        hi = std::max(hi, w[j]);
      }
      if (std::max(std::fabs(lo), std::fabs(hi)) > 65504.f)
        fail("ops", "q4: weights of row {} reach {}, expected |w| <= 65504 (fp16 scales)", o, std::max(std::fabs(lo), std::fabs(hi)));
      const uint16_t mh = f32_to_f16(lo), dh = f32_to_f16((hi - lo) / 15.f);
      const float mf = f16_to_f32(mh), df = f16_to_f32(dh);
      d[o * nb + b] = dh;
      m[o * nb + b] = mh;
      uint8_t* qb = q + o * (K / 2) + b * (kQ4Block / 2);  // (16)
      auto level = [&](float x) {
        if (df == 0.f) return 0;
        return int(std::clamp(std::nearbyint((x - mf) / df), 0.f, 15.f));
      };
      for (int j = 0; j < 16; j++) qb[j] = uint8_t(level(w[j]) | (level(w[16 + j]) << 4));
    }
  }
}

void q4_dequant_rows(float* out, const Q4Weight& w, int64_t r0, int64_t r1) {
  const int64_t K = w.K, nb = K / kQ4Block;
  for (int64_t o = r0; o < r1; o++) {
    float* y = out + (o - r0) * K;  // (K)
    for (int64_t b = 0; b < nb; b++) {
      const float df = f16_to_f32(w.d[o * nb + b]), mf = f16_to_f32(w.m[o * nb + b]);
      const uint8_t* qb = w.q + o * (K / 2) + b * 16;
      float* yb = y + b * kQ4Block;
      for (int j = 0; j < 16; j++) {
        yb[j] = df * float(qb[j] & 15) + mf;
        yb[16 + j] = df * float(qb[j] >> 4) + mf;
      }
    }
  }
}

}  // namespace rwkv
