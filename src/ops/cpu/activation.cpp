// activation.cpp — CPU elementwise activations (see ops/activation.h).
#include "ops/activation.h"

#include <cmath>

namespace rwkv {

namespace {
constexpr float kDecayScale = 0.60653065971263342f;  // exp(-0.5)
inline float sigmoidf(float x) { return 1.f / (1.f + std::exp(-x)); }
// Elements above which a forward activation with exp/tanh is split over the threads: 16 decode
// rows of 768 (batched decode) are worth it, one row is not.
constexpr int64_t kTranscendentalPar = 4096;
}  // namespace

void act_forward(float* out, const float* in, int64_t n, Act act) {
  switch (act) {
    case Act::Tanh:
#pragma omp parallel for simd schedule(static) if (n > kTranscendentalPar)
      for (int64_t i = 0; i < n; i++) out[i] = std::tanh(in[i]);
      break;
    case Act::Sigmoid:
#pragma omp parallel for simd schedule(static) if (n > kTranscendentalPar)
      for (int64_t i = 0; i < n; i++) out[i] = sigmoidf(in[i]);
      break;
    case Act::Relu2:
#pragma omp parallel for simd schedule(static) if (n > 16384)
      for (int64_t i = 0; i < n; i++) {
        float r = in[i] > 0.f ? in[i] : 0.f;
        out[i] = r * r;
      }
      break;
    case Act::Decay:
#pragma omp parallel for simd schedule(static) if (n > kTranscendentalPar)
      for (int64_t i = 0; i < n; i++) out[i] = std::exp(-kDecayScale * sigmoidf(in[i]));
      break;
    case Act::Silu:
#pragma omp parallel for simd schedule(static) if (n > kTranscendentalPar)
      for (int64_t i = 0; i < n; i++) out[i] = in[i] * sigmoidf(in[i]);
      break;
  }
}

void act_backward(float* din, const float* dout, const float* in, const float* out, int64_t n,
                  Act act) {
  switch (act) {
    case Act::Tanh:  // 1 - out^2
#pragma omp parallel for simd schedule(static) if (n > 16384)
      for (int64_t i = 0; i < n; i++) din[i] += dout[i] * (1.f - out[i] * out[i]);
      break;
    case Act::Sigmoid:  // out (1 - out)
#pragma omp parallel for simd schedule(static) if (n > 16384)
      for (int64_t i = 0; i < n; i++) din[i] += dout[i] * out[i] * (1.f - out[i]);
      break;
    case Act::Relu2:  // 2 relu(in)
#pragma omp parallel for simd schedule(static) if (n > 16384)
      for (int64_t i = 0; i < n; i++) din[i] += in[i] > 0.f ? dout[i] * 2.f * in[i] : 0.f;
      break;
    case Act::Decay:  // out * (-c) * s (1 - s), s = sigmoid(in)
#pragma omp parallel for simd schedule(static) if (n > 16384)
      for (int64_t i = 0; i < n; i++) {
        float s = sigmoidf(in[i]);
        din[i] += dout[i] * out[i] * (-kDecayScale) * s * (1.f - s);
      }
      break;
    case Act::Silu:  // s (1 + in (1 - s)), s = sigmoid(in)
#pragma omp parallel for simd schedule(static) if (n > 16384)
      for (int64_t i = 0; i < n; i++) {
        float s = sigmoidf(in[i]);
        din[i] += dout[i] * s * (1.f + in[i] * (1.f - s));
      }
      break;
  }
}

}  // namespace rwkv
