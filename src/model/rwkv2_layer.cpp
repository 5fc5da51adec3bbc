// rwkv2_layer.cpp — RWKV-2 inference on the Model interface (RWKV-v2-RNN-Pile model.py RWKV_RNN,
// and RWKV-LM RWKV-v2-RNN model_run.py for the enwik8 head-QK model), built from ops/:
//   x = emb[token]                                      (no ln0)
//   per layer:  x = ln1(x)                              (the norm REPLACES x, GPT mode too)
//               xm = x * mu + shift(x) * (1 - mu)       (one mix for k, v and r)
//               r = sigmoid(W_r xm); k = exp(min(W_k xm, 60)); v = W_v xm
//               x = x + W_o WKV-2(r, k, v)              (ops/wkv2.h, per sequence)
//               x = ln2(x); x = x + sigmoid(W_r xm') * W_v relu(W_k xm')^2   (xm' as above, ffn.time_mix)
//   logits = head(ln_out(x)); head-QK models add, for each of the last `window` tokens s
//   (the current one included): logits[tok_s] += (head_k ln_out(x_s)) . (head_q ln_out(x)) / 256.
// GPT mode (a whole prompt at once) is one engine call: every projection of the prompt is one
// matrix product and WKV-2 runs as a scan, the same numbers as the official convolution form.
// State per layer i (official RWKV_RNN attributes in brackets):
//   "state.{i}.att_x"  (C) last ln1 output [xx['att.i']]   "state.{i}.att_aa" (A) [aa['att.i']]
//   "state.{i}.att_bb" (A) [bb['att.i']]                   "state.{i}.ffn_x"  (C) last ln2 output [xx['ffn.i']]
// and for head-QK models "state.hk" (W, 256) [hk: its last W rows, oldest first, zero rows unused],
// "state.hk_tok" (W) the window's token ids, "state.hk_len" (1) rows in use.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "model/layer456.h"
#include "model/model.h"
#include "model/rwkv2_params.h"
#include "ops/activation.h"
#include "ops/embedding.h"
#include "ops/gemv.h"
#include "ops/layernorm.h"
#include "ops/linear_f64acc.h"
#include "ops/token_shift.h"
#include "ops/wkv2.h"

namespace rwkv {

namespace {

constexpr float kKClamp = 60.f;     // k = exp(min(W_k xm, 60))
constexpr float kHeadQkScale = 256;  // RWKV_HEAD_QK_DIM, whatever head_q's size

struct Rwkv2Layer {
  const float *ln1_w = nullptr, *ln1_b = nullptr;  // (C)
  std::vector<float> mu;                           // (C) 1 - att.time_mix
  std::vector<float> w, u;                         // (A) exp(-exp(time_decay)), exp(time_first)
  WeightMat value, receptance, output;             // (A, C) x2, (C, A)
  const float* key = nullptr;                      // (A, C) fp32: W_k x is summed in double (ops/linear_f64acc.h)
  int64_t off_x = 0, off_aa = 0, off_bb = 0;       // in a state slot
  ChannelMix456 ffn;

  // Layer i's tensors through the table, its state parts appended to `layout`; `store` keeps
  // an fp32 copy of the key matrix when the file has it in another dtype.
  void load(TableReader& r, WeightStore& store, StateLayout& layout, int i, const ModelConfig& cfg);
};

void Rwkv2Layer::load(TableReader& r, WeightStore& store, StateLayout& layout, int i, const ModelConfig& cfg) {
  const int C = cfg.n_embd, A = cfg.dim_att;
  const LayerKeys at(i);
  r.ln(at.block + "ln1", &ln1_w, &ln1_b);
  mu = r.one_minus(at.block + "att.time_mix");
  const float* td = r.vec(at.block + "att.time_decay");
  const float* tf = r.vec(at.block + "att.time_first");
  w.resize(A);
  u.resize(A);
  for (int c = 0; c < A; c++) {
    w[c] = float(std::exp(-std::exp(double(td[c]))));
    u[c] = float(std::exp(double(tf[c])));
  }
  const std::string key_name = at.block + "att.key.weight";
  const WeightMat km = r.mat(key_name);
  key = km.dt == DType::F32 ? static_cast<const float*>(km.p) : store.keep(store.at(key_name).to(DType::F32)).ptr<float>();
  value = r.mat(at.block + "att.value.weight");
  receptance = r.mat(at.block + "att.receptance.weight");
  output = r.mat(at.block + "att.output.weight");
  off_x = layout.add(at.state + "att_x", {C});
  off_aa = layout.add(at.state + "att_aa", {A});
  off_bb = layout.add(at.state + "att_bb", {A});
  ffn.load(r, at.block, C, cfg.dim_ffn, ChannelMix456::Names::TimeMixOne, layout.add(at.state + "ffn_x", {C}));
}

class Rwkv2 final : public Model {
 public:
  Rwkv2(StateDict sd, const ModelConfig& cfg, const std::string& source, const ModelOptions& opt);
  void forward(const ModelBatch& b, Arena& scratch) const override;

 private:
  void head_qk(const ModelBatch& b, const float* xo, Arena& scratch) const;
  WeightStore w_;
  std::vector<Rwkv2Layer> layers_;
  WeightMat emb_, head_, head_q_, head_k_;
  const float *ln_out_w_ = nullptr, *ln_out_b_ = nullptr;
  float k_eps_ = 1e-8f;
  int window_ = 0;                                    // head-QK rows kept (0: no head-QK)
  int64_t off_hk_ = 0, off_hk_tok_ = 0, off_hk_len_ = 0;
};

Rwkv2::Rwkv2(StateDict sd, const ModelConfig& cfg, const std::string& source, const ModelOptions& opt)
    : w_(std::move(sd), source) {
  cfg_ = cfg;
  TableReader r(w_, rwkv2_params(cfg), arch_name(cfg.arch));
  k_eps_ = opt.k_eps ? *opt.k_eps : cfg.head_qk > 0 ? 1e-16f : 1e-8f;
  if (!(k_eps_ >= 0) || !std::isfinite(k_eps_)) fail("model", "{}: K_EPS must be a finite value >= 0, got {}", source, k_eps_);
  emb_ = r.mat("emb.weight");
  layers_.resize(size_t(cfg.n_layer));
  for (int i = 0; i < cfg.n_layer; i++) layers_[size_t(i)].load(r, w_, layout_, i, cfg);
  ln_out_w_ = r.vec("ln_out.weight");
  ln_out_b_ = r.vec("ln_out.bias");
  head_ = r.mat("head.weight");
  if (cfg.head_qk > 0) {
    head_q_ = r.mat("head_q.weight");
    head_k_ = r.mat("head_k.weight");
    window_ = opt.copy_window > 0 ? opt.copy_window : cfg.copy_len;
    off_hk_ = layout_.add("state.hk", {window_, cfg.head_qk});
    off_hk_tok_ = layout_.add("state.hk_tok", {window_});
    off_hk_len_ = layout_.add("state.hk_len", {1});
  }
}

void Rwkv2::forward(const ModelBatch& b, Arena& scratch) const {
  const int C = cfg_.n_embd, A = cfg_.dim_att, V = cfg_.vocab_size;
  const int64_t M = b.M, MC = M * C, MA = M * A;
  float* x = scratch.floats(size_t(MC));  // (M, C) residual stream
  embedding_forward_any(x, b.tokens, emb_.p, emb_.dt, M, C);
  const int64_t work = std::max(2 * MC + 5 * MA, ChannelMix456::work_floats(M, C, cfg_.dim_ffn));
  float* xx = scratch.floats(size_t(work));  // (M, C) ln1(x)
  float* d = xx + MC;                        // (M, C) shift(xx) - xx, then xm
  float* r = d + MC;                         // (M, A) sigmoid(W_r xm)
  float* k = r + MA;                         // (M, A) exp(min(W_k xm, 60))
  float* v = k + MA;                         // (M, A)
  float* y = v + MA;                         // (M, A) WKV-2 output (gated by r)
  for (const Rwkv2Layer& l : layers_) {
    ln_shift(xx, d, x, l.ln1_w, l.ln1_b, M, C, b.runs, l.off_x);
    mix_forward(d, xx, d, l.mu.data(), M, C);
    const Proj proj[2] = {{r, d, &l.receptance}, {v, d, &l.value}};
    project(proj, M);
    linear_f64acc_forward(k, d, l.key, M, C, A);
    act_forward(r, r, MA, Act::Sigmoid);
    for (int64_t i = 0; i < MA; i++) k[i] = std::exp(std::min(k[i], kKClamp));
    for_each_seq(b.runs, [&](const SeqRun& q) {
      const int64_t o = q.row0 * A;
      wkv2_forward(y + o, r + o, k + o, v + o, l.w.data(), l.u.data(), q.state + l.off_aa, q.state + l.off_bb,
                   k_eps_, int(q.n), A);
    });
    std::memcpy(x, xx, sizeof(float) * size_t(MC));  // the norm replaces x
    linear_forward_any(x, y, l.output.p, l.output.dt, M, A, C, /*accumulate=*/true);
    l.ffn.forward(x, M, b.runs, xx);
  }
  if (window_ == 0) {
    if (b.R == 0) return;
    float* rows = scratch.floats(size_t(b.R) * C);  // (R, C)
    for (int64_t i = 0; i < b.R; i++) std::memcpy(rows + i * C, x + b.logit_rows[i] * C, sizeof(float) * C);
    layernorm_forward(rows, nullptr, nullptr, rows, ln_out_w_, ln_out_b_, b.R, C, 1e-5f);
    linear_forward_any(b.logits, rows, head_.p, head_.dt, b.R, C, V);
    return;
  }
  // head-QK: every row's head_k enters its sequence's window, so ln_out runs on all rows
  layernorm_forward(x, nullptr, nullptr, x, ln_out_w_, ln_out_b_, M, C, 1e-5f);
  head_qk(b, x, scratch);
}

// logits of the wanted rows plus the copy term; every row's (head_k x, token) enters the window.
void Rwkv2::head_qk(const ModelBatch& b, const float* xo, Arena& scratch) const {
  const int C = cfg_.n_embd, V = cfg_.vocab_size, Q = cfg_.head_qk, W = window_;
  const int64_t M = b.M, R = b.R;
  float* hk = scratch.floats(size_t(M) * Q);         // (M, Q) head_k xo, every row
  float* rows = scratch.floats(size_t(R) * C + 1);   // (R, C) xo of the wanted rows
  float* q = scratch.floats(size_t(R) * Q + 1);      // (R, Q) head_q of the wanted rows
  for (int64_t i = 0; i < R; i++) std::memcpy(rows + i * C, xo + b.logit_rows[i] * C, sizeof(float) * C);
  linear_forward_any(hk, xo, head_k_.p, head_k_.dt, M, C, Q);
  if (R > 0) {
    linear_forward_any(b.logits, rows, head_.p, head_.dt, R, C, V);
    linear_forward_any(q, rows, head_q_.p, head_q_.dt, R, C, Q);
  }
  int64_t next = 0;  // the next wanted row (logit_rows ascend; runs cover rows in order)
  for (const SeqRun& run : b.runs) {
    float* win = run.state + off_hk_;           // (W, Q), oldest first
    float* tok = run.state + off_hk_tok_;       // (W)
    float& len = run.state[off_hk_len_];
    for (int64_t t = run.row0; t < run.row0 + run.n; t++) {
      int n = int(len);
      if (n == W) {  // full: drop the oldest row
        std::memmove(win, win + Q, sizeof(float) * size_t(W - 1) * Q);
        std::memmove(tok, tok + 1, sizeof(float) * size_t(W - 1));
        n--;
      }
      std::memcpy(win + int64_t(n) * Q, hk + t * Q, sizeof(float) * Q);
      tok[n] = float(b.tokens[t]);
      len = float(++n);
      if (next < R && b.logit_rows[next] == t) {
        float* lg = b.logits + next * V;
        const float* qr = q + next * Q;
        for (int s = 0; s < n; s++) {
          float dot = 0;
          for (int j = 0; j < Q; j++) dot += win[int64_t(s) * Q + j] * qr[j];
          lg[int64_t(tok[s])] += dot / kHeadQkScale;
        }
        next++;
      }
    }
  }
}

}  // namespace

std::unique_ptr<Model> make_rwkv2_model(StateDict sd, const ModelConfig& cfg, const std::string& source,
                                        const ModelOptions& opt) {
  return std::make_unique<Rwkv2>(std::move(sd), cfg, source, opt);
}

}  // namespace rwkv
