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
  std::vector<uint32_t> hist, cnt, keys, bucketed, tmp, count;
  std::vector<size_t> end;
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

// cnt[j] = how many of keys[0..n) are in bucket j < nb (4 interleaved histograms: no chain of
// increments to one counter).
void bucket_counts(const uint32_t* keys, size_t n, int nb, Scratch& s) {
  s.hist.assign(size_t(nb) * 4, 0);
  uint32_t* h = s.hist.data();
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; j++) h[size_t(j) * nb + (keys[i + j] >> kBucketShift)]++;
  for (; i < n; i++) h[keys[i] >> kBucketShift]++;
  s.cnt.resize(size_t(nb));
  for (int j = 0; j < nb; j++) s.cnt[j] = h[j] + h[nb + j] + h[2 * nb + j] + h[3 * nb + j];
}

// Adds the values v[0..m) to the fp32 running sum *S (> 0) in one go, without their order, when
// that is exact: while S stays in its binade [2^e, 2^(e+1)), S + v rounds to S + r(v) with r(v) the
// multiple of S's ulp nearest v, whatever S is — unless v is halfway between two (then the parity
// of S decides). So when no v is halfway and S + Σr stays below 2^(e+1) and below top_p, the
// running sum ends at S + Σr and never reaches top_p on the way. False (S unchanged) otherwise.
bool add_in_bulk(const uint32_t* v, size_t m, float* S, float top_p) {
  int ex;
  std::frexp(*S, &ex);  // S in [2^(ex-1), 2^ex)
  const float C = std::ldexp(1.0f, ex - 1), half = std::ldexp(1.0f, ex - 25);
  const double ulp = std::ldexp(1.0, ex - 24);
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // exact: multiples of ulp
  int tie = 0;
  size_t q = 0;
  for (; q + 8 <= m; q += 8)
    for (int j = 0; j < 8; j++) {
      const float x = value_of(v[q + j]), r = (C + x) - C;  // exact (Sterbenz), as is x - r
      part[j] += r;
      tie |= std::fabs(x - r) == half;
    }
  double R = 0;
  for (; q < m; q++) {
    const float x = value_of(v[q]), r = (C + x) - C;
    R += r;
    tie |= std::fabs(x - r) == half;
  }
  for (double d : part) R += d;
  const double end = double(*S) + R;
  // every exact partial sum S + r_0 + ... + v_i <= end + ulp / 2 stays in the binade
  if (tie || !(end + ulp < std::ldexp(1.0, ex)) || !(end < double(top_p))) return false;
  *S = float(end);  // a multiple of ulp below 2^ex: exact
  return true;
}

// The fp32 running sum over keys[0..n) (all in buckets b..nb-1, cnt[j] in bucket j) in
// descending order: buckets in order, each added in bulk when add_in_bulk may, else sorted and
// added one by one. True with r set when decided (top_p reached, or the top_k-th value passed);
// false when the sum never reached top_p.
bool walk(const uint32_t* keys, size_t n, int b, int nb, float top_p, bool use_k, size_t limit, TopP& r,
          Scratch& s) {
  s.end.resize(size_t(nb));
  size_t at = 0;
  for (int j = nb - 1; j >= b; j--) s.end[j] = at, at += s.cnt[j];
  s.bucketed.resize(n);
  uint32_t* out = s.bucketed.data();
  for (size_t i = 0; i < n; i++) out[s.end[keys[i] >> kBucketShift]++] = keys[i];
  float S = 0;
  size_t t = 0;  // values added
  for (int j = nb - 1; j >= b; j--) {
    const size_t m = s.cnt[j];
    if (m == 0) continue;
    uint32_t* e = out + s.end[j] - m;
    const bool kth_here = use_k && t + m >= limit;
    if (!kth_here && S > 0 && add_in_bulk(e, m, &S, top_p)) {
      t += m;
      continue;
    }
    radix_sort(e, m, uint32_t(j) << kBucketShift, (uint32_t(j) << kBucketShift) | ((1u << kBucketShift) - 1), s);
    if (kth_here) r.kth = value_of(e[m - (limit - t)]);
    for (size_t q = m; q-- > 0;) {
      const float v = value_of(e[q]);
      if ((S += v) >= top_p) {
        r.cutoff = v;
        return true;
      }
      if (++t == limit && use_k) return true;  // not within the top_k: top-k decides (cutoff 0)
    }
  }
  return false;
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
  const int nb = int(key_of(pmax) >> kBucketShift) + 1;
  s.keys.resize(size_t(V) + 16);
  uint32_t* keys = s.keys.data();

  // Candidates: the probabilities >= pmax * 2^-20 (a trained model's few; a flat one's all), their
  // buckets, and the lowest bucket needed: from the top, until top_k values, or until a lower
  // bound of their sum (each value >= its bucket's floor) passes top_p by more than the fp32
  // running sum can lag. When the candidates do not get there, all probabilities are taken.
  size_t n = compress_ge(p, size_t(V), key_of(std::ldexp(pmax, -20)), keys);
  bucket_counts(keys, n, nb, s);
  int b = nb - 1;
  {
    size_t count = 0;
    double mass = 0;
    const double want = double(top_p) * (1 + 1e-4) + 1e-6;
    for (; b >= 0; b--) {
      count += s.cnt[b];
      mass += s.cnt[b] * double(value_of(uint32_t(b) << kBucketShift));
      if (count >= limit || mass >= want) break;
    }
  }
  bool counted_all = n == size_t(V);  // cnt is of every probability
  auto take_all = [&] {
    b = 0;
    if (n != size_t(V)) n = compress_ge(p, size_t(V), 0, keys);
    if (!counted_all) bucket_counts(keys, n, nb, s), counted_all = true;
  };
  if (b < 0) take_all();
  for (;;) {
    if (b > 0) n = compress_ge(keys, n, uint32_t(b) << kBucketShift, keys);  // buckets >= b (counts unchanged)
    if (walk(keys, n, b, nb, top_p, use_k, limit, r, s)) return r;
    if (n == size_t(V)) {  // every probability added, top_p not reached (rounding): keep them all
      r.cutoff = value_of(*std::min_element(keys, keys + n));
      return r;
    }
    take_all();  // the running sum fell short within the buckets taken (rounding): take them all
  }
}

}  // namespace rwkv
