// rwkv56_train.h — RWKV-5.2 (x052) and RWKV-6 (x060) training math on the CPU: embedding, ln0,
// the blocks (model/rwkv56_block.h), ln_out, head, the mean cross-entropy and the explicit
// backward of every parameter including L2Wrap, as RWKV-LM RWKV-v5/train.py computes them.
// fp32 throughout; every sequence starts from a zero state.
#pragma once
#include <cstdint>
#include <vector>

#include "model/rwkv56_block.h"
#include "model/rwkv56_params.h"

namespace rwkv {

// Activations and work buffers for one (B, T); resized on first use.
struct Rwkv56TrainScratch {
  int B = 0, T = 0;
  std::vector<int32_t> inputs, targets;               // (M)
  std::vector<float> emb_out, ln0_mean, ln0_rstd;     // (M,C), (M), (M)
  std::vector<std::vector<float>> xs;                 // L+1 residual streams (M,C)
  std::vector<Rwkv56LayerActs> acts;                  // L
  Rwkv56BackScratch back;
  std::vector<float> lnout, lnout_mean, lnout_rstd;   // (M,C), (M), (M)
  std::vector<float> logits, losses, dres, dtmp;      // (M,V), (M), (M,C), (M,C)
};

// tokens: (B, T+1): inputs [:, :-1], targets [:, 1:]. Returns the mean CE loss; `g` is
// overwritten with d(loss)/d(param) plus L2Wrap (l2wrap/(B*T) * max logit at each row's argmax).
float rwkv56_forward_backward(const Rwkv56Params& p, const int32_t* tokens, int B, int T, Rwkv56Params& g,
                              Rwkv56TrainScratch& s, float l2wrap = 1e-4f);
// Forward only: mean CE loss; the logits stay in s.logits (M, V).
float rwkv56_forward_loss(const Rwkv56Params& p, const int32_t* tokens, int B, int T, Rwkv56TrainScratch& s);

}  // namespace rwkv
