// top_p.cpp — see top_p.h. A probability's float bits, read as an unsigned integer, order as the
// probability (all are >= 0), so the bits serve as sort keys and their top bits as buckets.
#include "infer/top_p.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace rwkv {

namespace {

inline uint32_t key_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float value_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// bucket = key >> 19: the exponent and the top 4 mantissa bits (values within 1/16 of each other)
constexpr int kBucketShift = 19;

struct Scratch {
  std::vector<uint32_t> hist, keys, tmp, count;
};

// Ascending LSD radix sort of a[0..n), all in [lo, hi]: digits of <= 13 bits of key - lo (two
// passes for the 26 bits that a flat distribution's values around its cutoff span).
void radix_sort(uint32_t* a, size_t n, uint32_t lo, uint32_t hi, Scratch& s) {
  if (n <= 64) {
    std::sort(a, a + n);
    return;
  }
  const int bits = std::bit_width(hi - lo);
  if (bits == 0) return;
  const int passes = (bits + 12) / 13, w = (bits + passes - 1) / passes;
  const uint32_t mask = (1u << w) - 1;
  s.count.assign(size_t(passes) << w, 0);
  uint32_t* cnt = s.count.data();
  for (size_t i = 0; i < n; i++) {
    const uint32_t d = a[i] - lo;
    for (int q = 0; q < passes; q++) cnt[(size_t(q) << w) + ((d >> (q * w)) & mask)]++;
  }
  s.tmp.resize(n);
  uint32_t *src = a, *dst = s.tmp.data();
  for (int q = 0; q < passes; q++) {
    uint32_t* c = cnt + (size_t(q) << w);
    uint32_t sum = 0;
    for (uint32_t d = 0; d <= mask; d++) {
      const uint32_t k = c[d];
      c[d] = sum;
      sum += k;
    }
    const int sh = q * w;
    for (size_t i = 0; i < n; i++) {
      const uint32_t x = src[i];
      dst[c[((x - lo) >> sh) & mask]++] = x;
    }
    std::swap(src, dst);
  }
  if (src != a) std::copy(src, src + n, a);
}

// dst[0..m) = the src[i] >= lo in order (src: uint32 keys, or the floats' bits); returns m. dst
// may be src; dst has room for 16 more.
size_t compress_ge(const void* src_bits, size_t n, uint32_t lo, uint32_t* dst) {
  const unsigned char* src = static_cast<const unsigned char*>(src_bits);
  size_t m = 0, i = 0;
#ifdef __AVX512F__
  const __m512i vlo = _mm512_set1_epi32(int(lo));
  for (; i + 16 <= n; i += 16) {
    const __m512i k = _mm512_loadu_si512(src + 4 * i);
    const __mmask16 keep = _mm512_cmpge_epu32_mask(k, vlo);
    _mm512_storeu_si512(dst + m, _mm512_maskz_compress_epi32(keep, k));  // m <= i: nothing unread is hit
    m += size_t(std::popcount(unsigned(keep)));
  }
#endif
  for (; i < n; i++) {
    uint32_t k;
    std::memcpy(&k, src + 4 * i, 4);
    dst[m] = k;
    m += k >= lo;
  }
  return m;
}

}  // namespace

TopP top_p_cutoff(const float* p, int V, float pmax, float top_p, int top_k) {
  TopP r;
  if (top_p <= pmax) {  // the largest alone reaches top_p (top_p 0: greedy)
    r.cutoff = r.kth = pmax;
    return r;
  }
  thread_local Scratch s;
  const bool use_k = top_k > 0 && top_k < V;
  const size_t limit = use_k ? size_t(top_k) : size_t(V);
  const uint32_t top_key = key_of(pmax);
  s.keys.resize(size_t(V) + 16);
  uint32_t* keys = s.keys.data();
  const float* all = p;

  // Candidates: the probabilities >= pmax * 2^-20 (a trained model's few; a flat one's all).
  size_t n = compress_ge(all, size_t(V), key_of(std::ldexp(pmax, -20)), keys);

  // Histogram of their buckets (4 interleaved copies: no chain of increments to one counter),
  // then the lowest bucket needed: from the top, until top_k values, or until a lower bound of
  // their sum (each value >= its bucket's floor) passes top_p by more than the fp32 running sum
  // can lag. When the candidates do not get there, all probabilities are taken.
  const int nb = int(top_key >> kBucketShift) + 1;
  s.hist.assign(size_t(nb) * 4, 0);
  uint32_t* h = s.hist.data();
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; j++) h[size_t(j) * nb + (keys[i + j] >> kBucketShift)]++;
  for (; i < n; i++) h[keys[i] >> kBucketShift]++;
  int b = nb - 1;
  {
    size_t count = 0;
    double mass = 0;
    const double want = double(top_p) * (1 + 1e-4) + 1e-6;
    for (; b >= 0; b--) {
      const uint32_t c = h[b] + h[nb + b] + h[2 * nb + b] + h[3 * nb + b];
      count += c;
      mass += c * double(value_of(uint32_t(b) << kBucketShift));
      if (count >= limit || mass >= want) break;
    }
  }
  if (b < 0) b = 0, n = compress_ge(all, size_t(V), 0, keys);
  for (;;) {
    // the values in buckets >= b, ascending
    const uint32_t floor_key = uint32_t(b) << kBucketShift;
    n = compress_ge(keys, n, floor_key, keys);
    radix_sort(keys, n, floor_key, top_key, s);
    if (use_k && n >= limit) r.kth = value_of(keys[n - limit]);
    float cum = 0;
    for (size_t t = 0; t < n; t++) {
      const float v = value_of(keys[n - 1 - t]);
      if ((cum += v) >= top_p) {
        r.cutoff = v;
        return r;
      }
      if (use_k && t + 1 == limit) return r;  // not within the top_k: top-k decides (cutoff 0)
    }
    if (b == 0 && n == size_t(V)) {  // every probability added, top_p not reached (rounding): keep all
      r.cutoff = value_of(keys[0]);
      return r;
    }
    b = 0;  // the running sum fell short within the buckets taken (rounding): take them all
    n = compress_ge(all, size_t(V), 0, keys);
  }
}

}  // namespace rwkv
