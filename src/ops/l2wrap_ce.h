// l2wrap_ce.h — cross-entropy over the vocabulary with RWKV's L2Wrap: the loss value is plain
// mean CE; the gradient of the logits gets + factor * max_logit at each row's argmax
// (factor = 1e-4 / (B*T) in the official trainer).
#pragma once
#include <cstdint>

namespace rwkv {

// logits: (M, V); targets: (M), a negative target marks a padding row (loss 0, gradient 0,
// no L2Wrap term); losses: (M) per-row -log softmax(logits)[target].
// Returns the sum of losses (double).
double l2wrap_ce_forward(float* losses, const float* logits, const int32_t* targets, int64_t M,
                         int V);
// dlogits (M, V) = scale * (softmax - onehot(target)) + factor * max at argmax. Overwrites
// dlogits (which may alias logits). scale = 1/(B*T) for a mean loss.
void l2wrap_ce_backward(float* dlogits, const float* logits, const int32_t* targets, int64_t M,
                        int V, float scale, float factor);

}  // namespace rwkv
