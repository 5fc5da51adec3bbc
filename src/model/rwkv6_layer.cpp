// rwkv6_layer.cpp — RWKV-6 (x060) inference on the Model interface, built from ops/. Per layer:
//   xx = ln1(x); d = shift(xx) - xx
//   h = tanh((xx + d * maa_x) @ maa_w1)                        (M, 5*D), D = LoRA rank
//   in_s = xx + d * (maa_s + h[:, s*D:(s+1)*D] @ maa_w2[s])     s = w, k, v, r, g (ops/ddlerp.h)
//   r, k, v = W · in_{r,k,v};  g = silu(W_g · in_g)
//   w = exp(-exp(time_decay + tanh(in_w @ decay_w1) @ decay_w2))   per token and channel
//   y = WKV-6(r, k, v, w; u = time_faaaa)   (ops/wkv6.h, per sequence)
//   x += W_o · (GroupNorm_H(y) * g);  then the channel mix with ffn.time_maa_{k,r} (layer456.h).
// State per layer i: as RWKV-5 (WkvLayer56 in layer456.h): "state.{i}.att_x" (C),
// "state.{i}.wkv" (H, N, N) [head, value i, key j] (a state-tuned file's att.time_state to
// start from), "state.{i}.ffn_x" (C).
#include <cstring>

#include "core/error.h"
#include "model/layer456.h"
#include "model/model.h"
#include "model/params456.h"
#include "ops/activation.h"
#include "ops/ddlerp.h"
#include "ops/matmul.h"
#include "ops/token_shift.h"
#include "ops/wkv6.h"

namespace rwkv {

namespace {

constexpr int kMixes = 5;  // w, k, v, r, g: the order of time_maa_w1's column blocks and maa_w2

struct Rwkv6Layer : WkvLayer56 {
  const float* maa_x = nullptr;                          // (C)
  const float* maa[kMixes] = {};                         // (C) time_maa_{w,k,v,r,g}
  const float *maa_w1 = nullptr, *maa_w2 = nullptr;      // (C, 5*D) [in, out], (5, D, C)
  const float* time_decay = nullptr;                     // (A)
  const float *decay_w1 = nullptr, *decay_w2 = nullptr;  // (C, Dw), (Dw, A)
  const float* first = nullptr;                          // (A) time_faaaa
};

struct Rwkv6 final : LayerStack<Rwkv6Layer> {
  Rwkv6(StateDict sd, const ModelConfig& cfg, const std::string& source);
  void forward_blocks(float* x, int64_t M, std::span<const SeqRun> runs, Arena& scratch) const override;
  int D_ = 0;  // time_maa LoRA rank
};

Rwkv6::Rwkv6(StateDict sd, const ModelConfig& cfg, const std::string& source)
    : LayerStack(std::move(sd), cfg, source) {
  check_heads(cfg, source, "blocks.0.att.time_faaaa");
  const Tensor& w1 = w_.at("blocks.0.att.time_maa_w1");
  if (w1.dim() != 2 || w1.shape[1] % kMixes != 0)
    fail("model", "{}: blocks.0.att.time_maa_w1 has shape {}, expected (C, 5*D)", source, shape_str(w1.shape));
  D_ = int(w1.shape[1] / kMixes);
  TableReader r(w_, rwkv6_params(cfg, D_), arch_name(cfg.arch));
  load_io();
  static const char* kMaa[kMixes] = {"w", "k", "v", "r", "g"};
  for (int i = 0; i < cfg.n_layer; i++) {
    const std::string b = "blocks." + std::to_string(i) + ".";
    Rwkv6Layer l;
    l.load(r, layout_, i, cfg, /*gate=*/true, /*maa=*/true);
    l.maa_x = r.vec(b + "att.time_maa_x");
    for (int m = 0; m < kMixes; m++) l.maa[m] = r.vec(b + "att.time_maa_" + kMaa[m]);
    l.maa_w1 = r.vec(b + "att.time_maa_w1");
    l.maa_w2 = r.vec(b + "att.time_maa_w2");
    l.time_decay = r.vec(b + "att.time_decay");
    l.decay_w1 = r.vec(b + "att.time_decay_w1");
    l.decay_w2 = r.vec(b + "att.time_decay_w2");
    l.first = r.vec(b + "att.time_faaaa");
    layers_.push_back(std::move(l));
  }
}

void Rwkv6::forward_blocks(float* x, int64_t M, std::span<const SeqRun> runs, Arena& scratch) const {
  const int C = cfg_.n_embd, A = cfg_.dim_att, H = cfg_.n_head, N = cfg_.head_size, D = D_, Dw = cfg_.d_decay;
  const int64_t MC = M * C, MA = M * A;
  float* xx = take_work456(scratch, 7 * MC + M * (kMixes * D + D + Dw) + 6 * MA, M, cfg_);  // (M, C) ln1(x)
  float* d = xx + MC;           // (M, C) shift(xx) - xx
  float* in = d + MC;           // (5, M, C) the mixed inputs in_w, in_k, in_v, in_r, in_g
  float* h = in + kMixes * MC;  // (M, 5*D) tanh of the first LoRA factor
  float* hs = h + M * kMixes * D;  // (M, D) one mix's column block of h
  float* hw = hs + M * D;       // (M, Dw) tanh(in_w @ decay_w1)
  float* r = hw + M * Dw;       // (M, A) each: r, k, v, silu(g), decay w, WKV output
  float* k = r + MA;
  float* v = k + MA;
  float* g = v + MA;
  float* w = g + MA;
  float* y = w + MA;
  for (const Rwkv6Layer& l : layers_) {
    ln_shift(xx, d, x, l.ln1_w, l.ln1_b, M, C, runs, l.off_x);
    mix_forward(in, xx, d, l.maa_x, M, C);  // in_w's slot holds xx + d * maa_x until h is made
    matmul_plain_forward(h, in, l.maa_w1, M, C, kMixes * D);
    act_forward(h, h, M * kMixes * D, Act::Tanh);
    for (int m = 0; m < kMixes; m++) {
      for (int64_t t = 0; t < M; t++) std::memcpy(hs + t * D, h + (t * kMixes + m) * D, sizeof(float) * D);
      float* dst = in + m * MC;
      matmul_plain_forward(dst, hs, l.maa_w2 + int64_t(m) * D * C, M, D, C);
      ddlerp_forward(dst, xx, d, l.maa[m], dst, M, C);
    }
    const Proj proj[4] = {{r, in + 3 * MC, &l.receptance}, {k, in + MC, &l.key}, {v, in + 2 * MC, &l.value},
                          {g, in + 4 * MC, &l.gate}};
    project(proj, M);
    act_forward(g, g, MA, Act::Silu);
    matmul_plain_forward(hw, in, l.decay_w1, M, C, Dw);
    act_forward(hw, hw, M * Dw, Act::Tanh);
    matmul_plain_forward(w, hw, l.decay_w2, M, Dw, A);
    wkv6_decay_forward(w, w, l.time_decay, M, A);
    for_each_seq(runs, [&](const SeqRun& q) {
      const int64_t o = q.row0 * A;
      wkv6_forward(y + o, q.state + l.off_wkv, r + o, k + o, v + o, w + o, l.first, int(q.n), H, N);
    });
    wkv_tail456(x, y, g, l.lnx_w, l.lnx_b, l.output, M, H, N, C);
    l.ffn.forward(x, M, runs, xx);
  }
}

}  // namespace

std::unique_ptr<Model> make_rwkv6_model(StateDict sd, const ModelConfig& cfg, const std::string& source) {
  return std::make_unique<Rwkv6>(std::move(sd), cfg, source);
}

}  // namespace rwkv
