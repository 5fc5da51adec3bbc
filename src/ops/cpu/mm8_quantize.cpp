// mm8_quantize.cpp — the pip package's int8 conversion and its exact dequantization (see
// ops/mm8.h). Built with -ffp-contract=off (CMakeLists.txt): every step is one fp32 operation
// rounded on its own, as torch computes it, so q, mx, my, rx, ry and W' match the package bit
// for bit.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/mm8.h"

namespace rwkv {

namespace {
inline float nonzero(float z) { return z == 0.f ? 1.f : z; }  // the package's make_nonzero
}  // namespace

void mm8_quantize(uint8_t* q, float* mx, float* rx, float* my, float* ry, const float* W, int64_t N, int64_t K) {
  std::vector<float> a(W, W + N * K);  // (N, K); the package's A = W^T is (K, N)
  auto row_min = [&](float* out) {     // per output o: min over inputs
    for (int64_t o = 0; o < N; o++) out[o] = *std::min_element(a.begin() + o * K, a.begin() + (o + 1) * K);
  };
  auto col_min = [&](float* out) {  // per input i: min over outputs
    std::copy(a.begin(), a.begin() + K, out);
    for (int64_t o = 1; o < N; o++)
      for (int64_t i = 0; i < K; i++) out[i] = std::min(out[i], a[o * K + i]);
  };
  auto sub_rows = [&](const float* v) {
    for (int64_t o = 0; o < N; o++)
      for (int64_t i = 0; i < K; i++) a[o * K + i] = a[o * K + i] - v[o];
  };
  auto sub_cols = [&](const float* v) {
    for (int64_t o = 0; o < N; o++)
      for (int64_t i = 0; i < K; i++) a[o * K + i] = a[o * K + i] - v[i];
  };
  if (K > N) {  // A has more rows than columns: its row minimum (per input) first
    col_min(my);
    sub_cols(my);
    row_min(mx);
    sub_rows(mx);
  } else {
    row_min(mx);
    sub_rows(mx);
    col_min(my);
    sub_cols(my);
  }
  // RX[o] = max over inputs; D = C / RX; RY[i] = max over outputs of D; E = D / RY.
  for (int64_t o = 0; o < N; o++) {
    rx[o] = *std::max_element(a.begin() + o * K, a.begin() + (o + 1) * K);
    const float d = nonzero(rx[o]);
    for (int64_t i = 0; i < K; i++) a[o * K + i] = a[o * K + i] / d;
  }
  std::copy(a.begin(), a.begin() + K, ry);
  for (int64_t o = 1; o < N; o++)
    for (int64_t i = 0; i < K; i++) ry[i] = std::max(ry[i], a[o * K + i]);
  for (int64_t o = 0; o < N; o++)
    for (int64_t i = 0; i < K; i++) {
      const float e = a[o * K + i] / nonzero(ry[i]);
      const float f = std::floor(e * 256.f);
      q[o * K + i] = uint8_t(std::clamp(f, 0.f, 255.f));
    }
  for (int64_t o = 0; o < N; o++) rx[o] = rx[o] / 16.f;
  for (int64_t i = 0; i < K; i++) ry[i] = ry[i] / 16.f;
}

bool mm8_groupable(int64_t N, int64_t K) { return K > 0 && K % 64 == 0 && N >= 4; }

void mm8_group_rows(uint8_t* out, const uint8_t* q, int64_t N, int64_t K) {
  const int64_t full = N / 4 * 4;
  for (int64_t g = 0; g < full; g += 4)
    for (int r = 0; r < 4; r++)
      for (int64_t c = 0; c < K; c += 64) std::copy_n(q + (g + r) * K + c, 64, out + g * K + 4 * c + 64 * r);
  std::copy(q + full * K, q + N * K, out + full * K);
}

void mm8_dequant_rows(float* out, const Mm8Weight& w, int64_t r0, int64_t r1) {
  const int64_t K = w.K, full = w.grouped ? w.N / 4 * 4 : 0;
  for (int64_t o = r0; o < r1; o++) {
    float* y = out + (o - r0) * K;
    const float rx = w.rx[o], mx = w.mx[o];
    // row o as runs of 64 bytes (grouped: 256 apart) or one run of K
    const int64_t run = o < full ? 64 : K, step = o < full ? 256 : K;
    const uint8_t* q = o < full ? w.q + (o & ~int64_t(3)) * K + 64 * (o & 3) : w.q + o * K;
    for (int64_t i0 = 0; i0 < K; i0 += run, q += step) {
#pragma omp simd
      for (int64_t i = i0; i < i0 + run; i++) y[i] = (((float(q[i - i0]) + 0.5f) * w.ry[i]) * rx + w.my[i]) + mx;
    }
  }
}

}  // namespace rwkv
