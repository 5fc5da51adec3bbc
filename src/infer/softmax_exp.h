// softmax_exp.h — the passes over the vocabulary inside the sampler's softmax, vectorised but bit
// for bit the values of the plain loops they replace (sampler.cpp's results stay the same):
// the max of the logits, exp(logit - max) as std::exp gives it, and fp64 sums in one fixed order.
//
// std::exp(float) is glibc's expf (glibc >= 2.28: a double-precision 2^(k/32) table and a cubic).
// On an x86 CPU with FMA and AVX2 glibc runs its FMA build of it (__expf_fma); exp_minus_max
// does the same double operations, FMAs where that build has them, 4 lanes at a time, so its
// floats are the ones std::exp returns there (the test pins it: Softmax.ExpMatchesStdExp).
// Built without AVX2/FMA it calls std::exp.
#pragma once
#include <cstdint>

namespace rwkv {

// The largest of p[0..n) (NaNs skipped, as std::max(m, x) with m first), -inf when n == 0 or
// all are -inf/NaN; *has_nan tells whether one was NaN.
float max_of(const float* p, int n, bool* has_nan);

// out[i] = std::exp(in[i] - mx) (the float difference) for i < n, in[i] <= mx; returns
// sum_f64(out, n). NaN in, NaN out (and a NaN sum).
double exp_minus_max(const float* in, float mx, float* out, int n);

// Σ p[i] in fp64, in this fixed order: 8 partial sums over i mod 8 for the first n / 8 * 8
// elements, then the rest in order into a total that then adds partial 0, 1, ..., 7. Zeros may be
// skipped without changing a bit (x + 0.0 == x for the non-negative partials here).
double sum_f64(const float* p, int n);

// p[i] = p[i] >= c ? p[i] : 0 (the top-p cut), and p[i] = p[i] / d (the renormalisation), each
// returning sum_f64 of the new values: one vectorised pass each.
double cut_below(float* p, int n, float c);
double divide_by(float* p, int n, float d);

// The scalar glibc expf (FMA build), used for the tails of exp_minus_max; exposed for the test.
float expf_glibc_fma(float x);

}  // namespace rwkv
