// rwkv56_block.h — one RWKV-5.2 (x052) or RWKV-6 (x060) block for training on the CPU: forward
// over B sequences of T tokens from a zero state with every activation kept, and the explicit
// backward, as RWKV-LM RWKV-v5/src/model.py (RWKV_Tmix_x052 / _x060, RWKV_CMix_x052 / _x060)
// computes them (fixtures README "train56/" has the formulas). Built from src/ops.
#pragma once
#include <cstdint>
#include <vector>

#include "model/rwkv56_params.h"

namespace rwkv {

struct Rwkv56Dims {
  int B = 0, T = 0, C = 0, A = 0, H = 0, N = 0, F = 0, Dm = 0, Dw = 0;
  int64_t M = 0;  // B*T
  bool x060 = false;
  int head_size_divisor = 8;
  static Rwkv56Dims make(const Rwkv56Params& p, int B, int T);
};

// One block's activations ((M, C) unless noted). Buffers are sized by rwkv56_acts_resize.
struct Rwkv56LayerActs {
  std::vector<float> ln1, ln1_mean, ln1_rstd;  // ln1(x); (M), (M)
  std::vector<float> xx;                       // shift(ln1) - ln1
  std::vector<float> xm[5];                    // the mixed inputs of w (x060 only), k, v, r, g
  std::vector<float> xxx, mh, mhs, mf;         // x060: ln1 + xx*maa_x; tanh(xxx@w1) (M,5Dm);
                                               // its 5 slices (5,M,Dm); their @w2 (5,M,C)
  std::vector<float> dh, wl;                   // x060: tanh(xw@decay_w1) (M,Dw); ..@decay_w2 (M,A)
  std::vector<float> w;                        // decay exp(-exp(.)) (M,A) (x052: one row repeated)
  std::vector<float> r, k, v, gpre, g;         // (M,A): projections; gate pre-silu and silu
  std::vector<float> y, ckpt;                  // WKV output (M,A); state checkpoints
  std::vector<float> ys;                       // x052: y / head_size_divisor (M,A)
  std::vector<float> z, gn_mean, gn_rstd, zg;  // GroupNorm_H out (M,A); (M,H) x2; z*g (M,A)
  std::vector<float> x_mid;                    // x + att
  std::vector<float> ln2, ln2_mean, ln2_rstd;
  std::vector<float> fxx, fxk, fxr;            // cmix shift and mixes
  std::vector<float> fpre, fh;                 // key(fxk) (M,F), relu^2 (M,F)
  std::vector<float> fkv, frp, fr;             // value(fh), receptance(fxr), sigmoid
};
void rwkv56_acts_resize(Rwkv56LayerActs& a, const Rwkv56Dims& d);

// Work buffers of the backward (one set for all layers).
struct Rwkv56BackScratch {
  std::vector<float> c[9];       // (M,C)
  std::vector<float> a[7];       // (M,A)
  std::vector<float> f[2];       // (M,F)
  std::vector<float> lo[2], los; // (M, max(5Dm, Dw)) x2; (5, M, Dm)
  std::vector<float> vec;        // (C) a mix's gradient before the sign flip (x052)
};

// x_out (M,C) = block(x_in). `w` is layer `layer`'s tensors.
void rwkv56_layer_forward(const Rwkv56LayerParams& w, Rwkv56LayerActs& a, const Rwkv56Dims& d,
                          const float* x_in, float* x_out);
// dres (M,C): d(x_out) on entry, d(x_in) on return. gw: the layer's gradients (accumulated).
void rwkv56_layer_backward(const Rwkv56LayerParams& w, const Rwkv56LayerParams& gw,
                           const Rwkv56LayerActs& a, Rwkv56BackScratch& s, const Rwkv56Dims& d,
                           const float* x_in, float* dres);

}  // namespace rwkv
