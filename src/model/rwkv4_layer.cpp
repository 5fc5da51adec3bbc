// rwkv4_layer.cpp — RWKV-4 inference on the Model interface, built from ops/. Per layer:
//   xx = ln1(x); d = shift(xx) - xx; kx, vx, rx = xx + d * (1 - time_mix_{k,v,r})
//   r = sigmoid(W_r · rx); k = W_k · kx; v = W_v · vx
//   y = WKV-4(r, k, v; w = -exp(time_decay), u = time_first)   (ops/wkv4.h, per sequence)
//   x += W_o · y;  then the channel mix (layer456.h).
// State per layer i (names and order as state files store them, the `rwkv` pip package's five
// vectors per layer):
//   "state.{i}.att_x"  (C)  last ln1 row (token shift)
//   "state.{i}.att_aa" (A)  WKV numerator   / e^pp
//   "state.{i}.att_bb" (A)  WKV denominator / e^pp
//   "state.{i}.att_pp" (A)  running max exponent, starts at -1e30
//   "state.{i}.ffn_x"  (C)  last ln2 row (channel-mix token shift)
#include <cmath>

#include "model/layer456.h"
#include "model/model.h"
#include "model/params456.h"
#include "ops/activation.h"
#include "ops/gemv.h"
#include "ops/token_shift.h"
#include "ops/wkv4.h"

namespace rwkv {

namespace {

struct Rwkv4Layer {
  const float *ln1_w = nullptr, *ln1_b = nullptr;  // (C)
  std::vector<float> mu_k, mu_v, mu_r;             // (C) 1 - time_mix_{k,v,r}
  std::vector<float> decay;                        // (A) -exp(time_decay)
  const float* first = nullptr;                    // (A) time_first
  WeightMat key, value, receptance, output;        // (A, C) x3, (C, A)
  int64_t off_x = 0, off_aa = 0, off_bb = 0, off_pp = 0;  // in a state slot
  ChannelMix456 ffn;
};

// The model: BlockModel's embedding and head around the RWKV-4 layers.
struct Rwkv4 final : LayerStack<Rwkv4Layer> {
  Rwkv4(StateDict sd, const ModelConfig& cfg, const std::string& source);
  void forward_blocks(float* x, int64_t M, std::span<const SeqRun> runs, Arena& scratch) const override;
};

Rwkv4::Rwkv4(StateDict sd, const ModelConfig& cfg, const std::string& source)
    : LayerStack(std::move(sd), cfg, source) {
  TableReader r(w_, rwkv4_params(cfg), arch_name(cfg.arch));
  load_io();
  const int C = cfg.n_embd, A = cfg.dim_att;
  for (int i = 0; i < cfg.n_layer; i++) {
    const LayerKeys keys(i);
    const std::string &b = keys.block, &s = keys.state;
    Rwkv4Layer l;
    r.ln(b + "ln1", &l.ln1_w, &l.ln1_b);
    l.mu_k = r.one_minus(b + "att.time_mix_k");
    l.mu_v = r.one_minus(b + "att.time_mix_v");
    l.mu_r = r.one_minus(b + "att.time_mix_r");
    const float* td = r.vec(b + "att.time_decay");
    l.decay.resize(A);
    for (int c = 0; c < A; c++) l.decay[c] = -std::exp(td[c]);
    l.first = r.vec(b + "att.time_first");
    l.key = r.mat(b + "att.key.weight");
    l.value = r.mat(b + "att.value.weight");
    l.receptance = r.mat(b + "att.receptance.weight");
    l.output = r.mat(b + "att.output.weight");
    l.off_x = layout_.add(s + "att_x", {C});
    l.off_aa = layout_.add(s + "att_aa", {A});
    l.off_bb = layout_.add(s + "att_bb", {A});
    l.off_pp = layout_.add(s + "att_pp", {A});
    l.ffn.load(r, b, C, cfg.dim_ffn, ChannelMix456::Names::TimeMix, layout_.add(s + "ffn_x", {C}));
    layers_.push_back(std::move(l));
  }
  for (const Rwkv4Layer& l : layers_)
    for (int c = 0; c < A; c++) layout_.initial[size_t(l.off_pp + c)] = -1e30f;
}

void Rwkv4::forward_blocks(float* x, int64_t M, std::span<const SeqRun> runs, Arena& scratch) const {
  const int C = cfg_.n_embd, A = cfg_.dim_att;
  const int64_t MC = M * C, MA = M * A;
  float* work = take_work456(scratch, 5 * MC + 4 * MA, M, cfg_);
  float* xx = work;     // (M, C) ln1(x)
  float* d = xx + MC;   // (M, C) shift(xx) - xx
  float* kx = d + MC;   // (M, C) the mixed inputs of W_k, W_v, W_r
  float* vx = kx + MC;
  float* rx = vx + MC;
  float* r = rx + MC;   // (M, A) sigmoid(W_r · rx)
  float* k = r + MA;    // (M, A)
  float* v = k + MA;    // (M, A)
  float* y = v + MA;    // (M, A) WKV output (gated by r)
  for (const Rwkv4Layer& l : layers_) {
    ln_shift(xx, d, x, l.ln1_w, l.ln1_b, M, C, runs, l.off_x);
    mix_forward(kx, xx, d, l.mu_k.data(), M, C);
    mix_forward(vx, xx, d, l.mu_v.data(), M, C);
    mix_forward(rx, xx, d, l.mu_r.data(), M, C);
    const Proj proj[3] = {{r, rx, &l.receptance}, {k, kx, &l.key}, {v, vx, &l.value}};
    project(proj, M);
    act_forward(r, r, MA, Act::Sigmoid);
    for_each_seq(runs, [&](const SeqRun& q) {
      const int64_t o = q.row0 * A;
      wkv4_forward(y + o, r + o, k + o, v + o, l.decay.data(), l.first, q.state + l.off_aa, q.state + l.off_bb,
                   q.state + l.off_pp, int(q.n), A);
    });
    linear_forward_mat(x, y, l.output, M, /*accumulate=*/true);
    l.ffn.forward(x, M, runs, work);
  }
}

}  // namespace

std::unique_ptr<Model> make_rwkv4_model(StateDict sd, const ModelConfig& cfg, const std::string& source) {
  return std::make_unique<Rwkv4>(std::move(sd), cfg, source);
}

}  // namespace rwkv
