// activation.cpp — CPU elementwise activations (see ops/activation.h).
#include "ops/activation.h"

// GCC 12 flags its own AVX-512 intrinsics (cvtps_pd, slli, cvtpd_ps) as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cmath>

#include "core/parallel_for.h"
#include "ops/cpu/expf_glibc.h"

namespace rwkv {

namespace {
constexpr float kDecayScale = 0.60653065971263342f;  // exp(-0.5)
inline float sigmoidf(float x) { return 1.f / (1.f + std::exp(-x)); }
// Elements above which a forward activation with exp/tanh is split over the threads: 16 decode
// rows of 768 (batched decode) are worth it, one row is not.
constexpr int64_t kTranscendentalPar = 4096;
constexpr int64_t kCheapPar = 16384;  // the same for plain arithmetic

// The activations built on exp, each as a scalar function and (where ops/cpu/expf_glibc.h builds
// its exp8, which is std::exp bit for bit) the same float operations on 8 lanes.
struct SigmoidOp {
  float operator()(float x) const { return sigmoidf(x); }
#ifdef RWKV_EXP_FMA
  __m256 operator()(__m256 x, const expf_glibc::Tab& tab) const {  // 1 / (1 + exp(-x))
    const __m256 one = _mm256_set1_ps(1.f);
    return _mm256_div_ps(one, _mm256_add_ps(one, expf_glibc::exp8(_mm256_sub_ps(_mm256_setzero_ps(), x), tab)));
  }
#endif
};
struct DecayOp {
  float operator()(float x) const { return std::exp(-kDecayScale * sigmoidf(x)); }
#ifdef RWKV_EXP_FMA
  __m256 operator()(__m256 x, const expf_glibc::Tab& tab) const {
    return expf_glibc::exp8(_mm256_mul_ps(_mm256_set1_ps(-kDecayScale), SigmoidOp{}(x, tab)), tab);
  }
#endif
};
struct SiluOp {
  float operator()(float x) const { return x * sigmoidf(x); }
#ifdef RWKV_EXP_FMA
  __m256 operator()(__m256 x, const expf_glibc::Tab& tab) const { return _mm256_mul_ps(x, SigmoidOp{}(x, tab)); }
#endif
};

// out[i] = op(in[i]), 8 lanes at a time where built.
template <class Op>
void exp_act(float* out, const float* in, int64_t n, Op op) {
  parallel_ranges(n, n > kTranscendentalPar, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
#ifdef RWKV_EXP_FMA
    const expf_glibc::Tab tab;
    for (; i + 8 <= i1; i += 8) _mm256_storeu_ps(out + i, op(_mm256_loadu_ps(in + i), tab));
#endif
    for (; i < i1; i++) out[i] = op(in[i]);
  });
}

}  // namespace

void act_forward(float* out, const float* in, int64_t n, Act act) {
  switch (act) {
    case Act::Tanh:
      return parallel_elems(n, n > kTranscendentalPar, [=](int64_t i) { out[i] = std::tanh(in[i]); });
    case Act::Sigmoid:
      return exp_act(out, in, n, SigmoidOp{});
    case Act::Relu2:
      return parallel_elems(n, n > kCheapPar, [=](int64_t i) {
        float r = in[i] > 0.f ? in[i] : 0.f;
        out[i] = r * r;
      });
    case Act::Decay:
      return exp_act(out, in, n, DecayOp{});
    case Act::Silu:
      return exp_act(out, in, n, SiluOp{});
  }
}

void act_backward(float* din, const float* dout, const float* in, const float* out, int64_t n,
                  Act act) {
  switch (act) {
    case Act::Tanh:  // 1 - out^2
      return parallel_elems(n, n > kCheapPar, [=](int64_t i) { din[i] += dout[i] * (1.f - out[i] * out[i]); });
    case Act::Sigmoid:  // out (1 - out)
      return parallel_elems(n, n > kCheapPar, [=](int64_t i) { din[i] += dout[i] * out[i] * (1.f - out[i]); });
    case Act::Relu2:  // 2 relu(in)
      return parallel_elems(n, n > kCheapPar, [=](int64_t i) { din[i] += in[i] > 0.f ? dout[i] * 2.f * in[i] : 0.f; });
    case Act::Decay:  // out * (-c) * s (1 - s), s = sigmoid(in)
      return parallel_elems(n, n > kCheapPar, [=](int64_t i) {
        float s = sigmoidf(in[i]);
        din[i] += dout[i] * out[i] * (-kDecayScale) * s * (1.f - s);
      });
    case Act::Silu:  // s (1 + in (1 - s)), s = sigmoid(in)
      return parallel_elems(n, n > kCheapPar, [=](int64_t i) {
        float s = sigmoidf(in[i]);
        din[i] += dout[i] * s * (1.f + in[i] * (1.f - s));
      });
  }
}

}  // namespace rwkv
