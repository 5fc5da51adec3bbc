// rwkv2_params.h — THE parameter table of RWKV-2 (RWKV-v2-RNN-Pile and RWKV-LM's RWKV-v2-RNN
// enwik8 model with the head-QK trick): every tensor of a model file, official names and
// shapes, in the official training class's state_dict() order. Sizes: C = n_embd,
// V = vocab_size, A = dim_att, F = dim_ffn; head-QK: Q = cfg.head_qk (256), L = cfg.copy_len
// (the training ctx_len, the size of the copy_mask buffer).
//   [copy_mask (L, L)]  emb (V, C);  per block: ln1, ln2 (C); att.time_decay, att.time_first
//   (A, 1); att.time_mix (1, 1, C) (one mix for k, v and r); att.key, value, receptance (A, C);
//   att.output (C, A); ffn.time_mix (1, 1, C); ffn.key (F, C), receptance (C, C), value (C, F);
//   then ln_out (C), head (V, C) [, head_q, head_k (Q, C)].  No ln0.
#pragma once
#include "model/config.h"
#include "model/param_table.h"

namespace rwkv {

ParamTable rwkv2_params(const ModelConfig& cfg);

}  // namespace rwkv
