// rwkv7_block.cpp — RWKV-7 block forward/backward as a sequence of ops (see rwkv7_block.h and
// DESIGN.md §1 for the math). The backward calls the ops' backwards in reverse order.
#include "model/rwkv7_block.h"

#include <cstring>

#include "core/error.h"
#include "model/model.h"
#include "ops/activation.h"
#include "ops/gemv.h"
#include "ops/layernorm.h"
#include "ops/lora.h"
#include "ops/matmul.h"
#include "ops/row_invariant.h"
#include "ops/tmix_kk.h"
#include "ops/tmix_out.h"
#include "ops/token_shift.h"
#include "ops/wkv7.h"

namespace rwkv {

namespace {
constexpr float kLnEps = 1e-5f;

// out (M,N) = inp (M,K) @ W^T from the fp32 view, or from the stored matrix when given.
inline void linear(float* out, const float* inp, const float* w32, const Rwkv7Mat& stored,
                   int64_t M, int K, int N, bool accumulate = false) {
  if (stored.i8)
    mm8_forward(out, inp, *stored.i8, M, accumulate);
  else if (stored.q4)
    q4_forward(out, inp, *stored.q4, M, accumulate);
  else if (stored.p)
    linear_forward_any(out, inp, stored.p, stored.dt, M, K, N, accumulate);
  else
    matmul_linear_forward(out, inp, w32, M, K, N, accumulate);
}

// A LoRA over M rows (ops/lora.h): on a bf16 stage (w2t set, Rwkv7LayerMats::w2t) from the
// stored factors like the big matrices, else from the fp32 views.
void lora(float* out, float* h, const float* x, const float* w1, const float* w2, const float* bias, int64_t M,
          int C, int D, LoraAct act, const Rwkv7Mat& w1t, const Rwkv7Mat& w2t) {
  if (!w1t.p || !w2t.p || row_invariant_products()) return lora_forward(out, h, x, w1, w2, bias, M, C, D, act);
  lora_forward_linear(out, h, x, w1t.p, w1t.dt, w2t.p, w2t.dt, bias, M, C, D, act);
}

bool all_stored(const Rwkv7LayerMats& mm, int layer) {
  for (const Rwkv7Mat* m : {&mm.receptance, &mm.key, &mm.value, &mm.w1t, &mm.w2_tiles, &mm.a1t, &mm.a2_tiles, &mm.g1t, &mm.g2_tiles})
    if (!m->p) return false;
  return layer == 0 || (mm.v1t.p && mm.v2_tiles.p);
}

// The projections of one token (M = 1) in one parallel region (ops/gemv.h gemv_batch): r, k,
// v_lin from the token-shift mixes in row blocks, and each LoRA whole on one thread (x @ W1,
// tanh / sigmoid, + bias, @ W2) next to them.
void decode_projections(const Rwkv7LayerParams& w, const Rwkv7LayerActs& a, const Rwkv7Dims& d, int layer,
                        const Rwkv7LayerMats& mm) {
  const int C = d.C;
  auto job = [](float* y, const float* x, const Rwkv7Mat& m, int64_t N, int64_t K, bool acc = false) {
    return GemvJob{y, x, m.p, m.dt, N, K, acc, m.i8, m.q4};
  };
  // x (C) -> h (D) = W1t x -> act -> y (C) = bias + h @ W2 (column tiles)
  auto lora = [&](float* h, const float* x, const Rwkv7Mat& w1t, int64_t D, std::optional<Act> act, float* y,
                  const Rwkv7Mat& w2, const float* bias) {
    GemvLora l{job(h, x, w1t, D, C), job(y, h, w2, C, D, bias != nullptr), act, bias};
    l.second.tiles64 = true;
    return l;
  };
  const GemvJob rkv[3] = {job(a.r, a.xr, mm.receptance, C, C), job(a.k, a.xk, mm.key, C, C),
                          job(a.v_lin, a.xv, mm.value, C, C)};
  const GemvLora loras[4] = {lora(a.w_h, a.xw, mm.w1t, d.Dw, Act::Tanh, a.wraw, mm.w2_tiles, w.w0),
                             lora(a.a_h, a.xa, mm.a1t, d.Da, std::nullopt, a.a, mm.a2_tiles, w.a0),
                             lora(a.g_h, a.xg, mm.g1t, d.Dg, Act::Sigmoid, a.g, mm.g2_tiles, nullptr),
                             lora(a.v_h, a.xv, mm.v1t, d.Dv, std::nullopt, a.v_s, mm.v2_tiles, w.v0)};
  gemv_batch(rkv, 3, loras, layer == 0 ? 3 : 4);
}

// xx = token shift of x: d.B x d.T from the training start state prev0 (B,C) or zeros (no
// seqs), else per sequence from its state part `prev` (the shift reads the state; the caller
// updates it after the block).
void shift(float* xx, const float* x, std::span<const Rwkv7SeqState> seqs, float* Rwkv7SeqState::*prev, int B,
           int T, int C, const float* prev0) {
  if (seqs.empty()) return token_shift_forward(xx, x, prev0, B, T, C);
  for (const Rwkv7SeqState& q : seqs)
    token_shift_forward(xx + q.row0 * C, x + q.row0 * C, q.*prev, 1, int(q.n), C);
}
}  // namespace

Rwkv7Dims Rwkv7Dims::make(const ModelConfig& c, int B, int T) {
  Rwkv7Dims d;
  d.B = B;
  d.T = T;
  d.C = c.n_embd;
  d.H = c.n_head;
  d.N = c.head_size;
  d.F = c.dim_ffn;
  d.Dw = c.d_decay;
  d.Da = c.d_aaa;
  d.Dv = c.d_mv;
  d.Dg = c.d_gate;
  d.M = int64_t(B) * T;
  return d;
}

size_t rwkv7_layer_acts_layout(Rwkv7LayerActs& a, const Rwkv7Dims& d, float* base, bool ckpt) {
  size_t off = 0;
  auto take = [&](float*& p, int64_t n) {
    p = base ? base + off : nullptr;
    off += size_t((n + 15) / 16 * 16);  // 64-byte aligned spans
  };
  const int64_t M = d.M, MC = M * d.C, MH = M * d.H;
  take(a.ln1, MC); take(a.ln1_mean, M); take(a.ln1_rstd, M);
  take(a.xx, MC);
  take(a.xr, MC); take(a.xw, MC); take(a.xk, MC); take(a.xv, MC); take(a.xa, MC); take(a.xg, MC);
  take(a.r, MC);
  take(a.w_h, M * d.Dw); take(a.wraw, MC); take(a.decay, MC);
  take(a.k, MC);
  take(a.v_lin, MC);
  take(a.v_h, M * d.Dv); take(a.v_s, MC);
  take(a.v, MC);
  take(a.a_h, M * d.Da); take(a.a, MC);
  take(a.g_h, M * d.Dg); take(a.g, MC);
  take(a.kk, MC); take(a.kk_nrm, MH); take(a.k2, MC); take(a.na, MC); take(a.kka, MC);
  take(a.y, MC);
  if (ckpt)
    take(a.ckpt, int64_t(d.B) * d.H * wkv7_num_chunks(d.T) * d.N * d.N);
  else
    a.ckpt = nullptr;
  take(a.z, MC); take(a.gn_mean, MH); take(a.gn_rstd, MH); take(a.bonus, MH);
  take(a.zg, MC);
  take(a.x_mid, MC);
  take(a.ln2, MC); take(a.ln2_mean, M); take(a.ln2_rstd, M);
  take(a.fxx, MC); take(a.fxk, MC);
  take(a.fpre, M * d.F); take(a.fh, M * d.F);
  return off;
}

void rwkv7_layer_forward(const Rwkv7LayerParams& w, const Rwkv7LayerActs& a, const Rwkv7Dims& d,
                         int layer, const float* x_in, float* x_out, float* v_first,
                         std::span<const Rwkv7SeqState> seqs, const Rwkv7LayerMats* mats,
                         const Rwkv7LayerTrainState* ts) {
  RWKV_CHECK(!ts || seqs.empty(), "training state with an inference batch");
  const Rwkv7LayerTrainState no_state{};
  const Rwkv7LayerTrainState& st = ts ? *ts : no_state;
  const Rwkv7LayerMats none{};
  const Rwkv7LayerMats& mm = mats ? *mats : none;
  const int B = d.B, T = d.T, C = d.C, H = d.H, N = d.N, F = d.F;
  const int64_t M = d.M, MC = M * C;
  // ---- time mix ----
  layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, x_in, w.ln1_w, w.ln1_b, M, C, kLnEps);
  shift(a.xx, a.ln1, seqs, &Rwkv7SeqState::att_x, B, T, C, st.att_x0);
  mix_forward(a.xr, a.ln1, a.xx, w.x_r, M, C);
  mix_forward(a.xw, a.ln1, a.xx, w.x_w, M, C);
  mix_forward(a.xk, a.ln1, a.xx, w.x_k, M, C);
  mix_forward(a.xv, a.ln1, a.xx, w.x_v, M, C);
  mix_forward(a.xa, a.ln1, a.xx, w.x_a, M, C);
  mix_forward(a.xg, a.ln1, a.xx, w.x_g, M, C);
  // projections: r, k, v_lin and the LoRAs (wraw, v_s, a before their activations; g final)
  if (M == 1 && all_stored(mm, layer) && !row_invariant_products()) {
    decode_projections(w, a, d, layer, mm);
  } else {
    linear(a.r, a.xr, w.receptance, mm.receptance, M, C, C);
    lora(a.wraw, a.w_h, a.xw, w.w1, w.w2, w.w0, M, C, d.Dw, LoraAct::Tanh, mm.w1t, mm.w2t);
    linear(a.k, a.xk, w.key, mm.key, M, C, C);
    linear(a.v_lin, a.xv, w.value, mm.value, M, C, C);
    if (layer > 0) lora(a.v_s, a.v_h, a.xv, w.v1, w.v2, w.v0, M, C, d.Dv, LoraAct::None, mm.v1t, mm.v2t);
    lora(a.a, a.a_h, a.xa, w.a1, w.a2, w.a0, M, C, d.Da, LoraAct::None, mm.a1t, mm.a2t);
    lora(a.g, a.g_h, a.xg, w.g1, w.g2, nullptr, M, C, d.Dg, LoraAct::Sigmoid, mm.g1t, mm.g2t);
  }
  act_forward(a.decay, a.wraw, MC, Act::Decay);
  if (layer == 0) {
    std::memcpy(a.v, a.v_lin, sizeof(float) * MC);
    std::memcpy(v_first, a.v_lin, sizeof(float) * MC);
  } else {
    act_forward(a.v_s, a.v_s, MC, Act::Sigmoid);
    vres_forward(a.v, a.v_lin, v_first, a.v_s, M, C);
  }
  act_forward(a.a, a.a, MC, Act::Sigmoid);
  // kk and its norms only for a training backward (an inference batch skips their writes)
  const bool keep = seqs.empty();
  tmix_kk_forward(a.k2, a.na, a.kka, keep ? a.kk : nullptr, keep ? a.kk_nrm : nullptr, a.k, w.k_k, a.a, w.k_a, M, H, N);
  if (seqs.empty()) {
    wkv7_forward(a.y, st.wkv1, a.ckpt, a.r, a.decay, a.k2, a.v, a.na, a.kka, st.wkv0, B, T, H, N);
  } else {  // per sequence on its state
    const int64_t HN = int64_t(H) * N;
    auto one = [&](const Rwkv7SeqState& q) {
      const int64_t o = q.row0 * HN;
      wkv7_forward(a.y + o, q.wkv, nullptr, a.r + o, a.decay + o, a.k2 + o, a.v + o, a.na + o, a.kka + o, q.wkv, 1,
                   int(q.n), H, N);
    };
    for_each_seq(seqs, one);
  }
  tmix_out_forward(a.zg, a.z, a.gn_mean, a.gn_rstd, a.bonus, a.y, a.r, a.k2, a.v, w.r_k, w.ln_x_w,
                   w.ln_x_b, a.g, M, H, N);
  std::memcpy(a.x_mid, x_in, sizeof(float) * MC);
  linear(a.x_mid, a.zg, w.output, mm.output, M, C, C, /*accumulate=*/true);
  // ---- channel mix ----
  layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.x_mid, w.ln2_w, w.ln2_b, M, C, kLnEps);
  shift(a.fxx, a.ln2, seqs, &Rwkv7SeqState::ffn_x, B, T, C, st.ffn_x0);
  mix_forward(a.fxk, a.ln2, a.fxx, w.ffn_x_k, M, C);
  linear(a.fpre, a.fxk, w.ffn_key, mm.ffn_key, M, C, F);
  act_forward(a.fh, a.fpre, M * F, Act::Relu2);
  if (x_out != a.x_mid) std::memcpy(x_out, a.x_mid, sizeof(float) * MC);
  linear(x_out, a.fh, w.ffn_value, mm.ffn_value, M, F, C, /*accumulate=*/true);
  // ---- state: the last ln1 / ln2 rows of each sequence ----
  for (int b = 0; b < (seqs.empty() ? B : 0); b++) {
    const int64_t last = (int64_t(b) * T + T - 1) * C;
    if (st.att_x1) std::memcpy(st.att_x1 + int64_t(b) * C, a.ln1 + last, sizeof(float) * C);
    if (st.ffn_x1) std::memcpy(st.ffn_x1 + int64_t(b) * C, a.ln2 + last, sizeof(float) * C);
  }
  for (const Rwkv7SeqState& q : seqs) {
    const int64_t last = (q.row0 + q.n - 1) * C;
    std::memcpy(q.att_x, a.ln1 + last, sizeof(float) * C);
    std::memcpy(q.ffn_x, a.ln2 + last, sizeof(float) * C);
  }
}

void rwkv7_layer_backward(const Rwkv7LayerParams& w, const Rwkv7LayerParams& gw,
                          const Rwkv7LayerActs& a, const Rwkv7LayerActs& ga, const Rwkv7Dims& d,
                          int layer, const float* x_in, float* dres, const float* v_first,
                          float* dv_first, const Rwkv7LayerStateGrad* sg) {
  const int B = d.B, T = d.T, C = d.C, H = d.H, N = d.N, F = d.F;
  const int64_t M = d.M, MC = M * C;
  const Rwkv7LayerStateGrad no_grad{};
  const Rwkv7LayerStateGrad& sgr = sg ? *sg : no_grad;
  // d(end state) of a shift part reaches the last row of its layernorm's output (B,T,C).
  auto add_last_rows = [&](float* dln, const float* dend) {
    if (!dend) return;
    for (int b = 0; b < B; b++) {
      float* o = dln + (int64_t(b) * T + T - 1) * C;
      for (int c = 0; c < C; c++) o[c] += dend[int64_t(b) * C + c];
    }
  };
  // ---- channel mix: x_out = x_mid + relu(fxk @ key^T)^2 @ value^T ----
  matmul_linear_backward(ga.fh, gw.ffn_value, dres, a.fh, w.ffn_value, M, F, C);
  act_backward(ga.fpre, ga.fh, a.fpre, a.fh, M * F, Act::Relu2);
  matmul_linear_backward(ga.fxk, gw.ffn_key, ga.fpre, a.fxk, w.ffn_key, M, C, F);
  mix_backward(ga.ln2, ga.fxx, gw.ffn_x_k, ga.fxk, a.fxx, w.ffn_x_k, M, C);
  token_shift_backward(ga.ln2, sgr.d_ffn_x0, ga.fxx, B, T, C);
  add_last_rows(ga.ln2, sgr.d_ffn_x1);
  layernorm_backward(dres, gw.ln2_w, gw.ln2_b, ga.ln2, a.x_mid, w.ln2_w, a.ln2_mean, a.ln2_rstd,
                     M, C);  // dres is now d(x_mid)
  // ---- time mix: x_mid = x_in + zg @ output^T ----
  matmul_linear_backward(ga.zg, gw.output, dres, a.zg, w.output, M, C, C);
  tmix_out_backward(ga.y, ga.r, ga.k2, ga.v, ga.g, gw.r_k, gw.ln_x_w, gw.ln_x_b, ga.zg, a.y, a.r,
                    a.k2, a.v, w.r_k, w.ln_x_w, a.g, a.z, a.gn_mean, a.gn_rstd, a.bonus, M, H, N);
  wkv7_backward(ga.r, ga.decay, ga.k2, ga.v, ga.na, ga.kka, sgr.d_wkv0, ga.y, sgr.d_wkv1, a.r, a.decay,
                a.k2, a.v, a.na, a.kka, a.ckpt, B, T, H, N);
  tmix_kk_backward(ga.k, ga.a, gw.k_k, gw.k_a, ga.k2, ga.na, ga.kka, a.k, w.k_k, a.a, w.k_a, a.kk,
                   a.kk_nrm, M, H, N);
  // g = sigmoid(xg @ g1) @ g2
  lora_backward(ga.xg, gw.g1, gw.g2, nullptr, ga.g_h, ga.g, a.xg, a.g_h, w.g1, w.g2, M, C, d.Dg,
                LoraAct::Sigmoid);
  // a = sigmoid(a0 + xa @ a1 @ a2). ga.kka was consumed by tmix_kk_backward above, so it holds
  // the pre-activation gradients of the a and value-residual gates.
  float* dpre = ga.kka;
  std::memset(dpre, 0, sizeof(float) * MC);
  act_backward(dpre, ga.a, nullptr, a.a, MC, Act::Sigmoid);
  lora_backward(ga.xa, gw.a1, gw.a2, gw.a0, ga.a_h, dpre, a.xa, a.a_h, w.a1, w.a2, M, C, d.Da,
                LoraAct::None);
  // value: layer 0 gives v_first to every later layer; others mix it in.
  if (layer == 0) {
    for (int64_t e = 0; e < MC; e++) ga.v_lin[e] += ga.v[e] + dv_first[e];
  } else {
    vres_backward(ga.v_lin, dv_first, ga.v_s, ga.v, a.v_lin, v_first, a.v_s, M, C);
    std::memset(dpre, 0, sizeof(float) * MC);
    act_backward(dpre, ga.v_s, nullptr, a.v_s, MC, Act::Sigmoid);
    lora_backward(ga.xv, gw.v1, gw.v2, gw.v0, ga.v_h, dpre, a.xv, a.v_h, w.v1, w.v2, M, C, d.Dv,
                  LoraAct::None);
  }
  matmul_linear_backward(ga.xv, gw.value, ga.v_lin, a.xv, w.value, M, C, C);
  matmul_linear_backward(ga.xk, gw.key, ga.k, a.xk, w.key, M, C, C);
  // decay = exp(-e^-0.5 sigmoid(wraw)), wraw = w0 + tanh(xw @ w1) @ w2
  act_backward(ga.wraw, ga.decay, a.wraw, a.decay, MC, Act::Decay);
  lora_backward(ga.xw, gw.w1, gw.w2, gw.w0, ga.w_h, ga.wraw, a.xw, a.w_h, w.w1, w.w2, M, C, d.Dw,
                LoraAct::Tanh);
  matmul_linear_backward(ga.xr, gw.receptance, ga.r, a.xr, w.receptance, M, C, C);
  mix_backward(ga.ln1, ga.xx, gw.x_r, ga.xr, a.xx, w.x_r, M, C);
  mix_backward(ga.ln1, ga.xx, gw.x_w, ga.xw, a.xx, w.x_w, M, C);
  mix_backward(ga.ln1, ga.xx, gw.x_k, ga.xk, a.xx, w.x_k, M, C);
  mix_backward(ga.ln1, ga.xx, gw.x_v, ga.xv, a.xx, w.x_v, M, C);
  mix_backward(ga.ln1, ga.xx, gw.x_a, ga.xa, a.xx, w.x_a, M, C);
  mix_backward(ga.ln1, ga.xx, gw.x_g, ga.xg, a.xx, w.x_g, M, C);
  token_shift_backward(ga.ln1, sgr.d_att_x0, ga.xx, B, T, C);
  add_last_rows(ga.ln1, sgr.d_att_x1);
  layernorm_backward(dres, gw.ln1_w, gw.ln1_b, ga.ln1, x_in, w.ln1_w, a.ln1_mean, a.ln1_rstd, M,
                     C);  // dres is now d(x_in)
}

}  // namespace rwkv
