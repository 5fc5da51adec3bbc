// rwkv7_block.h — one RWKV-7 block (tmix + cmix) on the CPU, forward and explicit backward,
// over B sequences of T tokens (M = B*T rows), with the activations the backward needs as a
// named struct. Shared by inference (rwkv7.cpp, a ragged batch with states) and training
// (rwkv7_train.cpp, state zero, activations kept or recomputed).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "model/config.h"
#include "model/rwkv7_params.h"
#include "ops/mm8.h"
#include "ops/q4.h"

namespace rwkv {

struct Rwkv7Dims {
  int B = 0, T = 0, C = 0, H = 0, N = 0, F = 0, Dw = 0, Da = 0, Dv = 0, Dg = 0;
  int64_t M = 0;  // B*T
  static Rwkv7Dims make(const ModelConfig& cfg, int B, int T);
};

// Activations of one block (all (M, C) unless noted). The same struct, laid out the same way,
// holds their gradients in the backward.
struct Rwkv7LayerActs {
  float *ln1, *ln1_mean, *ln1_rstd;    // ln1(x): (M,C), (M), (M)
  float* xx;                           // token shift of ln1
  float *xr, *xw, *xk, *xv, *xa, *xg;  // the six mixes
  float* r;                            // receptance
  float *w_h, *wraw, *decay;           // tanh(xw@w1): (M,Dw); w0 + ..@w2; exp(-e^-.5 sigmoid)
  float* k;                            // key (before the a/k_a update)
  float* v_lin;                        // value projection
  float *v_h, *v_s;                    // xv@v1: (M,Dv); sigmoid(v0 + ..@v2)  (layers >= 1)
  float* v;                            // value after the residual (layer 0: = v_lin)
  float *a_h, *a;                      // xa@a1: (M,Da); sigmoid(a0 + ..@a2)
  float *g_h, *g;                      // sigmoid(xg@g1): (M,Dg); ..@g2
  float *kk, *kk_nrm, *k2, *na, *kka;  // normalised kk; norms (M,H) (both for training only); updated k; -kk; kk*a
  float* y;                            // WKV-7 output
  float* ckpt;                         // WKV state checkpoints (B,H,chunks,N,N) or null
  float *z, *gn_mean, *gn_rstd, *bonus;  // ln_x(y) + bonus*v; (M,H) x3
  float* zg;                           // z * g (input of att.output)
  float* x_mid;                        // x + att
  float *ln2, *ln2_mean, *ln2_rstd;    // ln2(x_mid)
  float *fxx, *fxk;                    // cmix shift, mix
  float *fpre, *fh;                    // key(fxk): (M,F); relu^2: (M,F)
};

// Assigns the pointers from `base` (may be null: only counts) and returns the floats needed.
size_t rwkv7_layer_acts_layout(Rwkv7LayerActs& a, const Rwkv7Dims& d, float* base, bool ckpt);

// One sequence of an inference batch (ragged: sequences of any length, one after another in
// the M rows) with this layer's part of its state slot, read and updated in place.
struct Rwkv7SeqState {
  int64_t row0 = 0, n = 0;  // rows [row0, row0 + n)
  float* att_x = nullptr;   // (C)  last ln1 output
  float* wkv = nullptr;     // (H,N,N)
  float* ffn_x = nullptr;   // (C)  last ln2 output
};

// The six big matrices of a block kept in their stored dtype (inference: bf16/fp16 straight
// from the file, read by gemv_forward / linear_forward_any). Null: use the fp32 views.
struct Rwkv7Mat {
  const void* p = nullptr;  // null: use the fp32 view
  DType dt = DType::F32;
  const Mm8Weight* i8 = nullptr;  // int8 (dt U8, p = i8->q)
  const Q4Weight* q4 = nullptr;   // q4 (dt U8, p = q4->p)
};
struct Rwkv7LayerMats {
  Rwkv7Mat receptance, key, value, output;  // (C,C)
  Rwkv7Mat ffn_key, ffn_value;              // (F,C), (C,F)
  // LoRA factors for decode, in the file's dtype: the first halves transposed to the Linear layout
  // and read by the row GEMV like the big matrices, w1t (D,C) = w1^T; the second halves w2 (D,C)
  // in column tiles of 64 (ops/gemv.h GemvJob::tiles64), each tile's D rows one contiguous run
  // (as rows of D, each output paid a reduction: ~30 us per layer for 0.44 MB on 2 threads).
  Rwkv7Mat w1t, a1t, v1t, g1t;
  Rwkv7Mat w2_tiles, a2_tiles, v2_tiles, g2_tiles;
  // A bf16 stage's second halves also as w2t (C,D) = w2^T, bf16: with the first halves above, the
  // prefill LoRAs then go through linear_forward_any like the big matrices (bf16 x bf16 past a few
  // rows) instead of fp32 sgemm at N or K = D. Null elsewhere (fp32 stages keep pip's fp32 products).
  Rwkv7Mat w2t, a2t, v2t, g2t;
};

// Training state of one layer for the d.B sequences of a training batch, planar: each part of
// every sequence back to back. Start parts null: zeros; end parts null: not wanted.
struct Rwkv7LayerTrainState {
  const float* att_x0 = nullptr;  // (B,C) last ln1 output before the first token
  const float* wkv0 = nullptr;    // (B,H,N,N) WKV state [head, value i, key j]
  const float* ffn_x0 = nullptr;  // (B,C) last ln2 output before the first token
  float* att_x1 = nullptr;        // (B,C) after the last token (forward writes)
  float* wkv1 = nullptr;          // (B,H,N,N)
  float* ffn_x1 = nullptr;        // (B,C)
};
// Its gradients in the backward: the end parts' gradients come in (null: zero), the start
// parts' gradients are accumulated (+=; null: not wanted).
struct Rwkv7LayerStateGrad {
  const float* d_att_x1 = nullptr;  // (B,C)
  const float* d_wkv1 = nullptr;    // (B,H,N,N)
  const float* d_ffn_x1 = nullptr;  // (B,C)
  float* d_att_x0 = nullptr;        // (B,C)
  float* d_wkv0 = nullptr;          // (B,H,N,N)
  float* d_ffn_x0 = nullptr;        // (B,C)
};

// x_out = block(x_in) (x_out may equal x_in when no backward follows). v_first: (M,C), written
// by layer 0, read by the others. seqs empty: d.B sequences of d.T tokens from a zero state
// (training); else the ragged inference batch (d.M rows), each sequence with its state.
// mats: optional stored matrices (forward only; the backward needs the fp32 views).
// ts: training only (seqs empty): start state instead of zeros, end state out; null: zeros.
void rwkv7_layer_forward(const Rwkv7LayerParams& w, const Rwkv7LayerActs& a, const Rwkv7Dims& d,
                         int layer, const float* x_in, float* x_out, float* v_first,
                         std::span<const Rwkv7SeqState> seqs, const Rwkv7LayerMats* mats = nullptr,
                         const Rwkv7LayerTrainState* ts = nullptr);

// dres: (M,C) gradient of x_out on entry, of x_in on return. gw: this layer's parameter
// gradients (accumulated). ga: zeroed gradient buffers with the acts layout (no ckpt).
// dv_first: (M,C) accumulated by layers >= 1, consumed by layer 0. The forward must have run
// from the same start state (the WKV checkpoints hold it). sg: state gradients, or null.
void rwkv7_layer_backward(const Rwkv7LayerParams& w, const Rwkv7LayerParams& gw,
                          const Rwkv7LayerActs& a, const Rwkv7LayerActs& ga, const Rwkv7Dims& d,
                          int layer, const float* x_in, float* dres, const float* v_first,
                          float* dv_first, const Rwkv7LayerStateGrad* sg = nullptr);

}  // namespace rwkv
