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
}  // namespace

void act_forward(float* out, const float* in, int64_t n, Act act) {
  switch (act) {
    case Act::Tanh:
      return parallel_elems(n, n > kTranscendentalPar, [=](int64_t i) { out[i] = std::tanh(in[i]); });
    case Act::Sigmoid:
      return parallel_elems(n, n > kTranscendentalPar, [=](int64_t i) { out[i] = sigmoidf(in[i]); });
    case Act::Relu2:
      return parallel_elems(n, n > kCheapPar, [=](int64_t i) {
        float r = in[i] > 0.f ? in[i] : 0.f;
        out[i] = r * r;
      });
    case Act::Decay:
      return parallel_elems(n, n > kTranscendentalPar, [=](int64_t i) { out[i] = std::exp(-kDecayScale * sigmoidf(in[i])); });
    case Act::Silu:
      return parallel_elems(n, n > kTranscendentalPar, [=](int64_t i) { out[i] = in[i] * sigmoidf(in[i]); });
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
