// rwkv5_layer.cpp — RWKV-5.x (x050 / x051 / x052) inference on the Model interface, built from
// ops/. Per layer:
//   xx = ln1(x); d = shift(xx) - xx; kx, vx, rx, gx = xx + d * (1 - time_mix_{k,v,r,g})
//   r, k, v = W · input;  g = silu(W_g · gx)   (x051, x052; x050 has no gate)
//   y = WKV-5(r, k, v; w = exp(-exp(time_decay)), u = time_faaaa)   (ops/wkv5.h, per sequence)
//       (files that name the bonus time_first: u = exp(time_first), as the pip package does)
//   x += W_o · (GroupNorm_H(y) [* g]);  then the channel mix (layer456.h).
// time_decay and the bonus are per head (H) in x050 / x051, expanded here to (H*N).
// State per layer i (names and order as state files store them; see WkvLayer56):
//   "state.{i}.att_x" (C), "state.{i}.wkv" (H, N, N) [head, value i, key j] (the pip package
//   keeps [head, key, value]; a state-tuned file's att.time_state is the start), "state.{i}.ffn_x" (C)
#include <cmath>

#include "model/layer456.h"
#include "model/model.h"
#include "model/params456.h"
#include "ops/activation.h"
#include "ops/token_shift.h"
#include "ops/wkv5.h"

namespace rwkv {

namespace {

// A per-head (H) or per-channel (H, N) tensor of the table as (H*N) values.
std::vector<float> per_channel(TableReader& r, const std::string& name, int H, int N, bool per_head) {
  const float* p = r.vec(name);
  std::vector<float> out(size_t(H) * N);
  for (int h = 0; h < H; h++)
    for (int i = 0; i < N; i++) out[size_t(h) * N + i] = per_head ? p[h] : p[size_t(h) * N + i];
  return out;
}

struct Rwkv5Layer : WkvLayer56 {
  std::vector<float> mu_k, mu_v, mu_r, mu_g;  // (C) 1 - time_mix_*; mu_g empty without gate
  std::vector<float> decay, first;            // (A) exp(-exp(time_decay)), u
};

struct Rwkv5 final : LayerStack<Rwkv5Layer> {
  Rwkv5(StateDict sd, const ModelConfig& cfg, const std::string& source);
  void forward_blocks(float* x, int64_t M, std::span<const SeqRun> runs, Arena& scratch) const override;
};

Rwkv5::Rwkv5(StateDict sd, const ModelConfig& cfg, const std::string& source)
    : LayerStack(std::move(sd), cfg, source) {
  check_heads(cfg, source, "blocks.0.att.time_decay");
  const int H = cfg.n_head, N = cfg.head_size;
  const bool time_first = !w_.has("blocks.0.att.time_faaaa") && w_.has("blocks.0.att.time_first");
  TableReader r(w_, rwkv5_params(cfg, time_first), arch_name(cfg.arch));
  load_io();
  const bool gate = cfg.arch != Arch::RWKV5, per_head = cfg.arch != Arch::RWKV5_2;
  for (int i = 0; i < cfg.n_layer; i++) {
    const std::string b = "blocks." + std::to_string(i) + ".";
    Rwkv5Layer l;
    l.load(r, layout_, i, cfg, gate, /*maa=*/false);
    l.mu_k = r.one_minus(b + "att.time_mix_k");
    l.mu_v = r.one_minus(b + "att.time_mix_v");
    l.mu_r = r.one_minus(b + "att.time_mix_r");
    if (gate) l.mu_g = r.one_minus(b + "att.time_mix_g");
    l.decay = per_channel(r, b + "att.time_decay", H, N, per_head);
    for (float& w : l.decay) w = std::exp(-std::exp(w));
    l.first = per_channel(r, b + (time_first ? "att.time_first" : "att.time_faaaa"), H, N, per_head);
    if (time_first)
      for (float& u : l.first) u = std::exp(u);
    layers_.push_back(std::move(l));
  }
}

void Rwkv5::forward_blocks(float* x, int64_t M, std::span<const SeqRun> runs, Arena& scratch) const {
  const int C = cfg_.n_embd, A = cfg_.dim_att, H = cfg_.n_head, N = cfg_.head_size;
  const int64_t MC = M * C, MA = M * A;
  float* xx = take_work456(scratch, 6 * MC + 5 * MA, M, cfg_);  // (M, C) ln1(x)
  float* d = xx + MC;      // (M, C) shift(xx) - xx
  float* in = d + MC;      // (4, M, C) the mixed inputs of W_k, W_v, W_r, W_g
  float* r = in + 4 * MC;  // (M, A) each: r, k, v, silu(g), WKV output
  float* k = r + MA;
  float* v = k + MA;
  float* g = v + MA;
  float* y = g + MA;
  for (const Rwkv5Layer& l : layers_) {
    const bool gate = l.gate.p != nullptr;
    ln_shift(xx, d, x, l.ln1_w, l.ln1_b, M, C, runs, l.off_x);
    const std::vector<float>* mu[4] = {&l.mu_k, &l.mu_v, &l.mu_r, &l.mu_g};
    for (int j = 0; j < (gate ? 4 : 3); j++) mix_forward(in + j * MC, xx, d, mu[j]->data(), M, C);
    const Proj proj[4] = {{k, in, &l.key}, {v, in + MC, &l.value}, {r, in + 2 * MC, &l.receptance},
                          {g, in + 3 * MC, &l.gate}};
    project(std::span(proj, gate ? 4 : 3), M);
    if (gate) act_forward(g, g, MA, Act::Silu);
    for_each_seq(runs, [&](const SeqRun& q) {
      const int64_t o = q.row0 * A;
      wkv5_forward(y + o, q.state + l.off_wkv, r + o, k + o, v + o, l.decay.data(), l.first.data(), int(q.n), H, N);
    });
    wkv_tail456(x, y, gate ? g : nullptr, l.lnx_w, l.lnx_b, l.output, M, H, N, C);
    l.ffn.forward(x, M, runs, xx);
  }
}

}  // namespace

std::unique_ptr<Model> make_rwkv5_model(StateDict sd, const ModelConfig& cfg, const std::string& source) {
  return std::make_unique<Rwkv5>(std::move(sd), cfg, source);
}

}  // namespace rwkv
