// activation.cpp — CPU elementwise activations (see ops/activation.h).
#include "ops/activation.h"

#include <cmath>

#include "core/parallel_for.h"

namespace rwkv {

namespace {
constexpr float kDecayScale = 0.60653065971263342f;  // exp(-0.5)
inline float sigmoidf(float x) { return 1.f / (1.f + std::exp(-x)); }
// Elements above which a forward activation with exp/tanh is split over the threads: 16 decode
// rows of 768 (batched decode) are worth it, one row is not.
constexpr int64_t kTranscendentalPar = 4096;
constexpr int64_t kCheapPar = 16384;  // the same for plain arithmetic

// out[i] = f(i) over [0, n), split over the threads above `par_above` elements.
template <class F>
inline void for_each_elem(int64_t n, int64_t par_above, F f) {
  parallel_ranges(n, n > par_above, [&](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; i++) f(i);
  });
}
}  // namespace

void act_forward(float* out, const float* in, int64_t n, Act act) {
  switch (act) {
    case Act::Tanh:
      return for_each_elem(n, kTranscendentalPar, [=](int64_t i) { out[i] = std::tanh(in[i]); });
    case Act::Sigmoid:
      return for_each_elem(n, kTranscendentalPar, [=](int64_t i) { out[i] = sigmoidf(in[i]); });
    case Act::Relu2:
      return for_each_elem(n, kCheapPar, [=](int64_t i) {
        float r = in[i] > 0.f ? in[i] : 0.f;
        out[i] = r * r;
      });
    case Act::Decay:
      return for_each_elem(n, kTranscendentalPar, [=](int64_t i) { out[i] = std::exp(-kDecayScale * sigmoidf(in[i])); });
    case Act::Silu:
      return for_each_elem(n, kTranscendentalPar, [=](int64_t i) { out[i] = in[i] * sigmoidf(in[i]); });
  }
}

void act_backward(float* din, const float* dout, const float* in, const float* out, int64_t n,
                  Act act) {
  switch (act) {
    case Act::Tanh:  // 1 - out^2
      return for_each_elem(n, kCheapPar, [=](int64_t i) { din[i] += dout[i] * (1.f - out[i] * out[i]); });
    case Act::Sigmoid:  // out (1 - out)
      return for_each_elem(n, kCheapPar, [=](int64_t i) { din[i] += dout[i] * out[i] * (1.f - out[i]); });
    case Act::Relu2:  // 2 relu(in)
      return for_each_elem(n, kCheapPar, [=](int64_t i) { din[i] += in[i] > 0.f ? dout[i] * 2.f * in[i] : 0.f; });
    case Act::Decay:  // out * (-c) * s (1 - s), s = sigmoid(in)
      return for_each_elem(n, kCheapPar, [=](int64_t i) {
        float s = sigmoidf(in[i]);
        din[i] += dout[i] * out[i] * (-kDecayScale) * s * (1.f - s);
      });
    case Act::Silu:  // s (1 + in (1 - s)), s = sigmoid(in)
      return for_each_elem(n, kCheapPar, [=](int64_t i) {
        float s = sigmoidf(in[i]);
        din[i] += dout[i] * s * (1.f + in[i] * (1.f - s));
      });
  }
}

}  // namespace rwkv
