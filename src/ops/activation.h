// activation.h — elementwise activations with forward and backward:
// tanh, sigmoid, relu^2 (cmix), the RWKV-7 decay exp(-e^-0.5 * sigmoid(w))
// (= exp(-exp(-softplus(-w) - 0.5)), the soft clamp of the official kernel), and silu
// x * sigmoid(x) (the RWKV-5.x / 6 gate).
// Backward accumulates (+=) into din and reads the forward's input and/or output.
#pragma once
#include <cstdint>

namespace rwkv {

enum class Act { Tanh, Sigmoid, Relu2, Decay, Silu };

// out (n) = act(in (n)); in-place (out == in) is allowed.
void act_forward(float* out, const float* in, int64_t n, Act act);
// din += dout * act'(in); `in` and `out` are the forward's input and output.
void act_backward(float* din, const float* dout, const float* in, const float* out, int64_t n,
                  Act act);

}  // namespace rwkv
