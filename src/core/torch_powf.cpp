// torch_powf.cpp — see torch_powf.h. Compiled with -ffp-contract=off: only the std::fma calls fuse.
#include "core/torch_powf.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace rwkv {

namespace {

// A double-float: the unevaluated sum hi + lo of two floats.
struct F2 {
  float hi, lo;
};

int32_t bits_of(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}
float float_of(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}
// Integer arithmetic on the bit patterns wraps like the vector integer instructions.
int32_t wadd(int32_t a, int32_t b) { return int32_t(uint32_t(a) + uint32_t(b)); }
int32_t wsub(int32_t a, int32_t b) { return int32_t(uint32_t(a) - uint32_t(b)); }
int32_t wshl(int32_t a, int s) { return int32_t(uint32_t(a) << s); }

// --- double-float operations (error-free transformations; FMA forms) ---

// x + y for |x| >= |y| (fast two-sum).
F2 add_ff(float x, float y) {
  float s = x + y;
  return {s, (x - s) + y};
}
// x + y for any magnitudes (two-sum).
F2 add2_ff(float x, float y) {
  float s = x + y, v = s - x;
  return {s, (x - (s - v)) + (y - v)};
}
F2 add_f2f(F2 x, float y) {  // |x| >= |y|
  float s = x.hi + y;
  return {s, ((x.hi - s) + y) + x.lo};
}
F2 add2_f2f(F2 x, float y) {
  float s = x.hi + y, v = s - x.hi;
  float t = (x.hi - (s - v)) + (y - v);
  return {s, t + x.lo};
}
F2 add_ff2(float x, F2 y) {  // |x| >= |y|
  float s = x + y.hi;
  return {s, ((x - s) + y.hi) + y.lo};
}
F2 add_f2f2(F2 x, F2 y) {  // |x| >= |y|
  float s = x.hi + y.hi;
  return {s, (((x.hi - s) + y.hi) + x.lo) + y.lo};
}
F2 add2_f2f2(F2 x, F2 y) {
  float s = x.hi + y.hi, v = s - x.hi;
  float t = (x.hi - (s - v)) + (y.hi - v);
  return {s, t + (x.lo + y.lo)};
}
F2 normalize(F2 t) {
  float s = t.hi + t.lo;
  return {s, (t.hi - s) + t.lo};
}
F2 scale(F2 d, float s) { return {d.hi * s, d.lo * s}; }
F2 mul_f2f(F2 x, float y) {
  float s = x.hi * y;
  return {s, std::fma(x.lo, y, std::fma(x.hi, y, -s))};
}
F2 mul_f2f2(F2 x, F2 y) {
  float s = x.hi * y.hi;
  return {s, std::fma(x.hi, y.lo, std::fma(x.lo, y.hi, std::fma(x.hi, y.hi, -s)))};
}
F2 squ(F2 x) {
  float s = x.hi * x.hi;
  return {s, std::fma(x.hi + x.hi, x.lo, std::fma(x.hi, x.hi, -s))};
}
F2 div_f2f2(F2 n, F2 d) {
  float t = 1.0f / d.hi;
  float s = n.hi * t;
  float u = std::fma(t, n.hi, -s);
  float v = std::fma(-d.lo, t, std::fma(-d.hi, t, 1.0f));
  return {s, std::fma(s, v, std::fma(n.lo, t, u))};
}

// x * 2^q for the exponent range exp's reduction produces, as four exact scalings by a power of two
// and a last one (so that huge and tiny q saturate the same way as the vector code).
float ldexp_k(float x, int32_t q) {
  int32_t m = q >> 31;
  m = wshl((wadd(m, q) >> 6) - m, 4);
  q = wsub(q, wshl(m, 2));
  m = wadd(m, 0x7f);
  m = m > 0 ? m : 0;
  if (m > 0xff) m = 0xff;
  float u = float_of(wshl(m, 23));
  x = x * u * u * u * u;
  u = float_of(wshl(wadd(q, 0x7f), 23));
  return x * u;
}

// log(d) for d > 0 as a double-float.
F2 log_df(float d) {
  const bool tiny = d < std::numeric_limits<float>::min();
  if (tiny) d = d * 18446744073709551616.0f;  // 2^64: subnormals become normal
  int32_t e = ((bits_of(d * (1.0f / 0.75f)) >> 23) & 0xff) - 0x7f;
  const float m = float_of(wadd(bits_of(d), wshl(-e, 23)));  // d / 2^e, in [0.75, 1.5)
  if (tiny) e -= 64;

  const F2 x = div_f2f2(add2_ff(-1.0f, m), add2_ff(1.0f, m));  // (m-1)/(m+1)
  const F2 x2 = squ(x);
  float t = 0.240320354700088500976562f;
  t = std::fma(t, x2.hi, 0.285112679004669189453125f);
  t = std::fma(t, x2.hi, 0.400007992982864379882812f);
  const F2 c = {0.66666662693023681640625f, 3.69183861259614332084311e-09f};
  F2 s = mul_f2f({0.69314718246459960938f, -1.904654323148236017e-09f}, float(e));  // e ln 2
  s = add_f2f2(s, scale(x, 2.0f));
  s = add_f2f2(s, mul_f2f2(mul_f2f2(x2, x), add2_f2f2(mul_f2f(x2, t), c)));
  return s;
}

// exp(d) of a double-float, rounded to float.
float exp_df(F2 d) {
  constexpr float kLn2Hi = 0.693145751953125f, kLn2Lo = 1.428606765330187045e-06f;
  constexpr float kInvLn2 = 1.442695040888963407359924681001892137426645954152985934135449406931f;
  float u = (d.hi + d.lo) * kInvLn2;
  // Round half to even, as cvtps2dq; out of range (and NaN) gives its "integer indefinite" INT32_MIN.
  const int32_t q = std::fabs(u) < 2147483648.0f ? int32_t(std::nearbyint(u)) : std::numeric_limits<int32_t>::min();
  F2 s = add2_f2f(d, float(q) * -kLn2Hi);
  s = add2_f2f(s, float(q) * -kLn2Lo);
  s = normalize(s);

  u = 0.00136324646882712841033936f;
  u = std::fma(u, s.hi, 0.00836596917361021041870117f);
  u = std::fma(u, s.hi, 0.0416710823774337768554688f);
  u = std::fma(u, s.hi, 0.166665524244308471679688f);
  u = std::fma(u, s.hi, 0.499999850988388061523438f);

  F2 t = add_f2f2(s, mul_f2f(squ(s), u));
  t = add_ff2(1.0f, t);
  u = ldexp_k(t.hi + t.lo, q);
  if (d.hi < -104.0f) u = 0.0f;
  return u;
}

}  // namespace

float powf_u10(float x, float y) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const bool yisint = std::trunc(y) == y || std::fabs(y) > float(1 << 24);
  const bool yisodd = yisint && std::fabs(y) < float(1 << 24) && (int32_t(y) & 1) == 1;

  float r = exp_df(mul_f2f(log_df(std::fabs(x)), y));
  if (std::isnan(r)) r = inf;
  r = r * (x > 0 ? 1.0f : yisint ? (yisodd ? -1.0f : 1.0f) : nan);

  if (std::isinf(y)) {
    const float efx = std::signbit(y) ? -(std::fabs(x) - 1.0f) : std::fabs(x) - 1.0f;  // sign(y) * (|x| - 1)
    r = efx < 0.0f ? 0.0f : efx == 0.0f ? 1.0f : inf;
  }
  if (std::isinf(x) || x == 0.0f) {
    const float mag = (std::signbit(y) != (x == 0.0f)) ? 0.0f : inf;
    r = std::copysign(mag, yisodd ? x : 1.0f);
  }
  if (std::isnan(x) || std::isnan(y)) r = nan;
  if (y == 0.0f || x == 1.0f) r = 1.0f;
  return r;
}

float torch_pow_scalar(float x, double e) {
  if (e == 0.0) return 1.0f;
  if (e == 1.0) return x;
  if (e == 0.5) return std::sqrt(x);
  if (e == -0.5) return 1.0f / std::sqrt(x);
  if (e == -1.0) return 1.0f / x;
  if (e == 2.0) return x * x;
  if (e == 3.0) return x * x * x;
  if (e == -2.0) return 1.0f / (x * x);
  return powf_u10(x, float(e));
}

void torch_pow_tensor_scalar(const float* x, float* out, size_t n, double e, size_t block) {
  const size_t vec_end = block ? n / block * block : 0;
  const bool generic =
      !(e == 0.0 || e == 1.0 || e == 0.5 || e == -0.5 || e == -1.0 || e == 2.0 || e == 3.0 || e == -2.0);
  for (size_t i = 0; i < n; i++) {
    // The remainder of the vectorised loop runs the kernel's scalar lambda, std::pow(float, double).
    out[i] = (generic && i >= vec_end) ? float(std::pow(double(x[i]), e)) : torch_pow_scalar(x[i], e);
  }
}

}  // namespace rwkv
