// q4_quantize.cpp — the q4 format's load-time conversion, its packing for the products and its
// exact widening (see ops/q4.h).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

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

void q4_pack(uint8_t* out, const uint8_t* q, const uint16_t* d, const uint16_t* m, int64_t N, int64_t K) {
  const int64_t nb = K / kQ4Block, RB = q4_row_bytes(K);
  for (int64_t o = 0; o < N; o++) {
    uint8_t* row = out + o * RB;  // (RB)
    for (int64_t b = 0; b < nb; b++) {
      const Q4Group g = q4_group_of(b, nb);
      const int64_t l = b - g.b0;
      for (int c = 0; c < 16; c++) row[g.off + q4_nibble_pos(g.n, l, c)] = q[o * (K / 2) + b * 16 + c];
      std::memcpy(row + g.d_at(l), d + o * nb + b, 2);
      std::memcpy(row + g.m_at(l), m + o * nb + b, 2);
    }
  }
}

void q4_dequant_rows(float* out, const Q4Weight& w, int64_t r0, int64_t r1) {
  const int64_t K = w.K, nb = K / kQ4Block, RB = q4_row_bytes(K);
  for (int64_t o = r0; o < r1; o++) {
    const uint8_t* row = w.p + o * RB;
    float* y = out + (o - r0) * K;  // (K)
    for (int64_t b0 = 0; b0 < nb;) {
      const Q4Group g = q4_group_of(b0, nb);
      const uint8_t* nib = row + g.off;
      for (int64_t l = 0; l < g.n; l++) {
        const float df = q4_half_at(row + g.d_at(l)), mf = q4_half_at(row + g.m_at(l));
        float* yb = y + (g.b0 + l) * kQ4Block;
#if defined(__AVX512F__)
        // the block's 16 bytes (4 at a time, 4n apart) in order; d * q exact in fp32, so the FMA
        // rounds as the scalar lines below
        int32_t c4[4];
        for (int i = 0; i < 4; i++) std::memcpy(&c4[i], nib + q4_nibble_pos(g.n, l, 4 * i), 4);
        const __m128i v = _mm_setr_epi32(c4[0], c4[1], c4[2], c4[3]), lo4 = _mm_set1_epi8(0x0F);
        const __m512 d = _mm512_set1_ps(df), m = _mm512_set1_ps(mf);
        const __m512i lo = _mm512_cvtepu8_epi32(_mm_and_si128(v, lo4));
        const __m512i hi = _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(v, 4), lo4));
        _mm512_storeu_ps(yb, _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), d, m));
        _mm512_storeu_ps(yb + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), d, m));
#else
        for (int c = 0; c < 16; c++) {
          const uint8_t v = nib[q4_nibble_pos(g.n, l, c)];
          yb[c] = df * float(v & 15) + mf;
          yb[16 + c] = df * float(v >> 4) + mf;
        }
#endif
      }
      b0 += g.n;
    }
  }
}

}  // namespace rwkv
