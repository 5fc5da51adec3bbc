// params456.h — THE parameter tables of RWKV-4, RWKV-5.x (x050 / x051 / x052) and RWKV-6
// (x060): every tensor of a model file of that version, with its official name and shape (from
// the model's sizes), in the order the official training code registers them (RWKV-LM
// RWKV-v4neo / v5 / v6 model.py: emb, then per block ln1, ln2, [ln0], att.*, ffn.*, then ln_out,
// head), whether a file may leave it out, and its optimizer group. The layers (rwkv4/5/6_layer)
// load and check files through these tables; nothing else lists these tensors.
//
// Sizes used: C = n_embd, V = vocab_size, A = dim_att, F = dim_ffn, H = n_head, N = head_size
// (v5/v6), Dw = d_decay (v6).
#pragma once
#include "model/config.h"
#include "model/param_table.h"

namespace rwkv {

// RWKV-4: att.time_decay, time_first (A); time_mix_{k,v,r} (1, 1, C); key, value, receptance
// (A, C); output (C, A); ffn.time_mix_{k,r} (1, 1, C); ffn.key (F, C), receptance (C, C),
// value (C, F).
ParamTable rwkv4_params(const ModelConfig& cfg);

// RWKV-5.x (cfg.arch = x050, x051 or x052): time_mix_{k,v,r} [, time_mix_g] (1, 1, C);
// time_decay and the bonus (H) in x050 / x051, (H, N) in x052; receptance, key, value [, gate]
// (A, C); output (C, A); ln_x (A); the gate only from x051 on; optional time_state (H, N, N).
// The bonus is att.time_faaaa (u itself), or in some x050 files att.time_first (u =
// exp(time_first)): `time_first` selects that name.
ParamTable rwkv5_params(const ModelConfig& cfg, bool time_first = false);

// RWKV-6: time_maa_{x,w,k,v,r,g} (1, 1, C); time_maa_w1 (C, 5 * d_mix); time_maa_w2
// (5, d_mix, C); time_decay (1, 1, A); time_decay_w1 (C, Dw); time_decay_w2 (Dw, A);
// time_faaaa (H, N); optional time_state (H, N, N); receptance, key, value, gate (A, C);
// output (C, A); ln_x (A); ffn.time_maa_{k,r} (1, 1, C). d_mix is the token-shift LoRA rank
// (official 32; ModelConfig does not carry it, so the loader passes the file's).
ParamTable rwkv6_params(const ModelConfig& cfg, int d_mix = 32);

}  // namespace rwkv
