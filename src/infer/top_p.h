// top_p.h — the sampler's top-p cutoff without sorting the vocabulary. The official sorts all V
// probabilities and takes the one where their fp32 running sum (in descending order) first reaches
// top_p; that sum depends on the order, so the probabilities above the cutoff must still be added
// largest first — but only those: a histogram of the float bits picks the buckets (values within
// 1/16 of each other) that provably hold the cutoff. Within a bucket the order matters only where
// the sum crosses a power of two or top_p, or where a value lies halfway between two multiples of
// the sum's ulp; any other bucket is added in one go, the rest radix-sorted (values only: ties add
// the same). Far cheaper than sorting 65,536 ids, and the same float.
#pragma once
#include <cstdint>

namespace rwkv {

struct TopP {
  float cutoff = 0;   // probabilities below it are dropped
  float kth = 0;      // with top_k: the top_k-th largest probability when it is needed (see below)
};

// probs: V finite probabilities >= 0, pmax the largest; top_p in [0, 1]; top_k >= 0 (0: off).
// cutoff: the probability at which the fp32 running sum of the descending probabilities first
// reaches top_p; the smallest probability when it never does.
// With 0 < top_k < V only the top_k largest can be kept: when the sum does not reach top_p
// within them, cutoff is 0 (top-k alone decides). Whenever more than top_k probabilities are >=
// cutoff, kth is the top_k-th largest (ties at kth are then kept highest id first, as the
// official's descending argsort).
TopP top_p_cutoff(const float* probs, int V, float pmax, float top_p, int top_k);

}  // namespace rwkv
