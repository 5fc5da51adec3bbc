// rwkv7_train.cpp — RWKV-7 training step on the CPU: forward over B sequences of T tokens with
// every activation kept (or, with grad_cp, only each layer's input), mean CE loss with L2Wrap,
// and the explicit backward in reverse layer order (see rwkv7_train.h, rwkv7_block.h).
#include "model/rwkv7_train.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "model/rwkv7_block.h"
#include "ops/embedding.h"
#include "ops/l2wrap_ce.h"
#include "ops/layernorm.h"
#include "ops/matmul.h"

namespace rwkv {

namespace {
constexpr float kLnEps = 1e-5f;
enum class Mode { None, Eval, Train, TrainCp };
}  // namespace

// Every buffer of one (B, T, mode), allocated through a byte counter.
struct Rwkv7TrainArena {
  ModelConfig cfg;
  int B = 0, T = 0;
  Mode mode = Mode::None;
  size_t bytes = 0, peak = 0;
  std::vector<std::pair<void*, size_t>> blocks;

  std::vector<int32_t> inputs, targets;  // (M) each (counted in bytes)
  float *emb_out = nullptr, *ln0_mean = nullptr, *ln0_rstd = nullptr;  // (M,C), (M), (M)
  std::vector<float*> xs;                // L+1 residual streams (M,C): xs[l] enters layer l
  std::vector<Rwkv7LayerActs> acts;      // L (Train) or 1 (Eval, TrainCp)
  Rwkv7LayerActs gacts{};                // gradient buffers of one layer (Train, TrainCp)
  float* gacts_base = nullptr;
  size_t gacts_n = 0;
  float *v_first = nullptr, *dv_first = nullptr, *dres = nullptr, *dtmp = nullptr;  // (M,C)
  float *lnout = nullptr, *lnout_mean = nullptr, *lnout_rstd = nullptr;  // (M,C), (M), (M)
  float *logits = nullptr, *losses = nullptr;                            // (M,V), (M)
  // Planar states (see planar_layer): start, end, d(end), d(start); allocated on first use.
  float *st_in = nullptr, *st_out = nullptr, *dst_out = nullptr, *dst_in = nullptr;  // (B*S) each

  float* alloc(size_t n) {
    size_t nb = (n * sizeof(float) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, nb ? nb : 64);
    if (!p) fail("train", "out of memory allocating {} bytes of activations", nb);
    blocks.emplace_back(p, nb);
    bytes += nb;
    if (bytes > peak) peak = bytes;
    return static_cast<float*>(p);
  }
  void release() {
    for (auto& b : blocks) std::free(b.first);
    blocks.clear();
    bytes = 0;
    inputs = {};
    targets = {};
    acts.clear();
    xs.clear();
    st_in = st_out = dst_out = dst_in = nullptr;
    mode = Mode::None;
  }
  ~Rwkv7TrainArena() { release(); }

  // One of the planar state buffers (B * rwkv7_state_floats), allocated once per shape.
  float* state_buf(float*& slot) {
    if (!slot) slot = alloc(size_t(B) * size_t(rwkv7_state_floats(cfg)));
    return slot;
  }

  void ensure(const ModelConfig& c, int b, int t, Mode m) {
    if (mode == m && B == b && T == t && cfg.n_layer == c.n_layer && cfg.n_embd == c.n_embd &&
        cfg.vocab_size == c.vocab_size && cfg.dim_ffn == c.dim_ffn && cfg.head_size == c.head_size &&
        cfg.d_decay == c.d_decay && cfg.d_aaa == c.d_aaa && cfg.d_mv == c.d_mv &&
        cfg.d_gate == c.d_gate)
      return;
    release();
    cfg = c;
    B = b;
    T = t;
    mode = m;
    const Rwkv7Dims d = Rwkv7Dims::make(c, b, t);
    const size_t M = size_t(d.M), C = size_t(c.n_embd), V = size_t(c.vocab_size);
    inputs.resize(M);
    targets.resize(M);
    bytes += 2 * M * sizeof(int32_t);
    peak = std::max(peak, bytes);
    emb_out = alloc(M * C);
    ln0_mean = alloc(M);
    ln0_rstd = alloc(M);
    xs.resize(size_t(c.n_layer) + 1);
    for (auto& x : xs) x = alloc(M * C);
    const bool train = m != Mode::Eval;
    const int nacts = m == Mode::Train ? c.n_layer : 1;
    acts.resize(nacts);
    for (auto& a : acts) {
      size_t n = rwkv7_layer_acts_layout(a, d, nullptr, train);
      rwkv7_layer_acts_layout(a, d, alloc(n), train);
    }
    v_first = alloc(M * C);
    lnout = alloc(M * C);
    lnout_mean = alloc(M);
    lnout_rstd = alloc(M);
    logits = alloc(M * V);
    losses = alloc(M);
    if (train) {
      gacts_n = rwkv7_layer_acts_layout(gacts, d, nullptr, false);
      gacts_base = alloc(gacts_n);
      rwkv7_layer_acts_layout(gacts, d, gacts_base, false);
      dv_first = alloc(M * C);
      dres = alloc(M * C);
      dtmp = alloc(M * C);
    }
  }
};

Rwkv7TrainScratch::Rwkv7TrainScratch() : arena(std::make_unique<Rwkv7TrainArena>()) {}
Rwkv7TrainScratch::~Rwkv7TrainScratch() = default;
Rwkv7TrainScratch::Rwkv7TrainScratch(Rwkv7TrainScratch&&) noexcept = default;
Rwkv7TrainScratch& Rwkv7TrainScratch::operator=(Rwkv7TrainScratch&&) noexcept = default;
size_t Rwkv7TrainScratch::bytes() const { return arena ? arena->bytes : 0; }
size_t Rwkv7TrainScratch::peak_bytes() const { return arena ? arena->peak : 0; }
void Rwkv7TrainScratch::release() {
  if (arena) arena->release();
}

int64_t rwkv7_state_floats(const ModelConfig& c) {
  return int64_t(c.n_layer) * (2 * int64_t(c.n_embd) + int64_t(c.n_head) * c.head_size * c.head_size);
}

namespace {

// The loss's denominator: st->denom, else the rows that count (at least 1).
double loss_denom(const Rwkv7TrainState* st, int B, int T) {
  if (st && st->denom > 0) return st->denom;
  if (!st || !st->lengths) return double(B) * T;
  double n = 0;
  for (int b = 0; b < B; b++) n += st->lengths[b];
  return n > 0 ? n : 1.0;
}

// The block works on planar states: for layer l, at l * B * Ls (Ls = 2C + H*N*N): att_x (B,C),
// wkv (B,H,N,N), ffn_x (B,C). Callers hold slots (B, S): sequence b's layer l at b*S + l*Ls
// with att_x, wkv, ffn_x back to back (the engine's layout). For B = 1 both are the same.
struct PlanarDims {
  int64_t B, C, HNN, Ls;
  PlanarDims(const ModelConfig& c, int b)
      : B(b), C(c.n_embd), HNN(int64_t(c.n_head) * c.head_size * c.head_size), Ls(2 * C + HNN) {}
  int64_t att(int l) const { return l * B * Ls; }
  int64_t wkv(int l) const { return l * B * Ls + B * C; }
  int64_t ffn(int l) const { return l * B * Ls + B * (C + HNN); }
};

// dst = src, planar <- slots (to_planar) or slots <- planar; both (B * L * Ls) floats.
void convert_state(float* dst, const float* src, const PlanarDims& d, int L, bool to_planar) {
  const int64_t S = L * d.Ls;
  for (int64_t b = 0; b < d.B; b++)
    for (int l = 0; l < L; l++) {
      int64_t slot = b * S + l * d.Ls;
      const std::pair<int64_t, int64_t> parts[3] = {{d.att(l) + b * d.C, d.C},
                                                    {d.wkv(l) + b * d.HNN, d.HNN},
                                                    {d.ffn(l) + b * d.C, d.C}};
      for (auto [off, n] : parts) {
        if (to_planar)
          std::memcpy(dst + off, src + slot, sizeof(float) * n);
        else
          std::memcpy(dst + slot, src + off, sizeof(float) * n);
        slot += n;
      }
    }
}

// Splits tokens (B, T+1) into inputs/targets and runs embedding, ln0, the blocks, ln_out, head,
// and the CE forward. Returns the mean loss.
float forward(const Rwkv7Params& p, const int32_t* tokens, int B, int T, Rwkv7TrainArena& A,
              float* row_losses, const Rwkv7TrainState* st) {
  const ModelConfig& c = p.cfg;
  const Rwkv7Dims d = Rwkv7Dims::make(c, B, T);
  const int64_t M = d.M;
  const int C = c.n_embd, V = c.vocab_size, L = c.n_layer;
  auto checked = [&](int b, int t) {
    int32_t id = tokens[int64_t(b) * (T + 1) + t];
    if (id < 0 || id >= V)
      fail("train", "token id {} (sequence {}, position {}) is outside the vocabulary (size {})",
           id, b, t, V);
    return id;
  };
  for (int b = 0; b < B; b++) {
    const int len = st && st->lengths ? st->lengths[b] : T;
    RWKV_CHECK(len >= 0 && len <= T, "sequence {} length {} of {}", b, len, T);
    for (int t = 0; t < T; t++) {
      A.inputs[int64_t(b) * T + t] = t < len ? checked(b, t) : 0;
      A.targets[int64_t(b) * T + t] = t < len ? checked(b, t + 1) : -1;
    }
  }
  embedding_forward(A.emb_out, A.inputs.data(), p.emb, M, C);
  layernorm_forward(A.xs[0], A.ln0_mean, A.ln0_rstd, A.emb_out, p.layers[0].ln0_w,
                    p.layers[0].ln0_b, M, C, kLnEps);
  const PlanarDims pd(c, B);
  float* pin = nullptr;
  float* pout = nullptr;
  if (st && st->in) {
    pin = A.state_buf(A.st_in);
    convert_state(pin, st->in, pd, L, true);
  }
  if (st && st->out) pout = A.state_buf(A.st_out);
  for (int l = 0; l < L; l++) {
    const Rwkv7LayerActs& a = A.acts[A.mode == Mode::Train ? l : 0];
    Rwkv7LayerTrainState ts;
    if (pin) ts.att_x0 = pin + pd.att(l), ts.wkv0 = pin + pd.wkv(l), ts.ffn_x0 = pin + pd.ffn(l);
    if (pout) ts.att_x1 = pout + pd.att(l), ts.wkv1 = pout + pd.wkv(l), ts.ffn_x1 = pout + pd.ffn(l);
    rwkv7_layer_forward(p.layers[l], a, d, l, A.xs[l], A.xs[l + 1], A.v_first, {}, nullptr, &ts);
  }
  if (pout) convert_state(st->out, pout, pd, L, false);
  layernorm_forward(A.lnout, A.lnout_mean, A.lnout_rstd, A.xs[L], p.ln_out_w, p.ln_out_b, M, C,
                    kLnEps);
  matmul_linear_forward(A.logits, A.lnout, p.head, M, C, V);
  double total = l2wrap_ce_forward(row_losses ? row_losses : A.losses, A.logits, A.targets.data(),
                                   M, V);
  return float(total / loss_denom(st, B, T));
}

}  // namespace

float rwkv7_forward_loss(const Rwkv7Params& p, const int32_t* tokens, int B, int T,
                         Rwkv7TrainScratch& s, float* row_losses, const Rwkv7TrainState* st) {
  RWKV_CHECK(B > 0 && T > 0, "B {} T {}", B, T);
  s.arena->ensure(p.cfg, B, T, Mode::Eval);
  return forward(p, tokens, B, T, *s.arena, row_losses, st);
}

float rwkv7_forward_backward(const Rwkv7Params& p, const int32_t* tokens, int B, int T,
                             Rwkv7Params& g, Rwkv7TrainScratch& s, bool grad_cp, float l2wrap,
                             const Rwkv7TrainState* st, const Rwkv7GradsReady& grads_ready) {
  RWKV_CHECK(B > 0 && T > 0, "B {} T {}", B, T);
  Rwkv7TrainArena& A = *s.arena;
  A.ensure(p.cfg, B, T, grad_cp ? Mode::TrainCp : Mode::Train);
  const float loss = forward(p, tokens, B, T, A, nullptr, st);

  const ModelConfig& c = p.cfg;
  const Rwkv7Dims d = Rwkv7Dims::make(c, B, T);
  const int64_t M = d.M, MC = M * c.n_embd;
  const int C = c.n_embd, V = c.vocab_size, L = c.n_layer;
  const bool accumulate = st && st->accumulate;
  if (g.data.size() != p.data.size()) {
    RWKV_CHECK(!accumulate, "accumulating into gradients of another size");
    g = Rwkv7Params::zeros(c);
  }
  g.cfg = p.cfg;
  if (!accumulate) g.set_zero();
  const PlanarDims pd(c, B);
  const float* pin = st && st->in ? A.st_in : nullptr;  // converted by forward()
  float* pdout = nullptr;
  float* pdin = nullptr;
  if (st && st->d_out) {
    pdout = A.state_buf(A.dst_out);
    convert_state(pdout, st->d_out, pd, L, true);
  }
  if (st && st->d_in) {
    pdin = A.state_buf(A.dst_in);
    std::memset(pdin, 0, sizeof(float) * size_t(B) * size_t(rwkv7_state_floats(c)));
  }

  // Head and loss: dlogits overwrites the logits.
  const double denom = loss_denom(st, B, T);
  l2wrap_ce_backward(A.logits, A.logits, A.targets.data(), M, V, float(1.0 / denom),
                     float(double(l2wrap) / denom));
  std::memset(A.dtmp, 0, sizeof(float) * MC);
  const bool frozen = st && st->frozen_matrices;
  matmul_linear_backward(A.dtmp, frozen ? nullptr : g.head, A.logits, A.lnout, p.head, M, C, V);
  std::memset(A.dres, 0, sizeof(float) * MC);
  layernorm_backward(A.dres, g.ln_out_w, g.ln_out_b, A.dtmp, A.xs[L], p.ln_out_w, A.lnout_mean,
                     A.lnout_rstd, M, C);
  if (grads_ready) grads_ready(L);
  // Blocks in reverse; dres carries d(residual stream).
  std::memset(A.dv_first, 0, sizeof(float) * MC);
  for (int l = L - 1; l >= 0; l--) {
    const Rwkv7LayerActs& a = A.acts[grad_cp ? 0 : l];
    Rwkv7LayerTrainState ts;  // start state only
    if (pin) ts.att_x0 = pin + pd.att(l), ts.wkv0 = pin + pd.wkv(l), ts.ffn_x0 = pin + pd.ffn(l);
    if (grad_cp)  // recompute this layer's activations from its saved input
      rwkv7_layer_forward(p.layers[l], a, d, l, A.xs[l], A.dtmp, A.v_first, {}, nullptr, &ts);
    std::memset(A.gacts_base, 0, sizeof(float) * A.gacts_n);
    Rwkv7LayerStateGrad sg;
    if (pdout)
      sg.d_att_x1 = pdout + pd.att(l), sg.d_wkv1 = pdout + pd.wkv(l), sg.d_ffn_x1 = pdout + pd.ffn(l);
    if (pdin) sg.d_att_x0 = pdin + pd.att(l), sg.d_wkv0 = pdin + pd.wkv(l), sg.d_ffn_x0 = pdin + pd.ffn(l);
    Rwkv7LayerParams gl = g.layers[l];  // gradient pointers; null: not computed
    if (frozen) gl.receptance = gl.key = gl.value = gl.output = gl.ffn_key = gl.ffn_value = nullptr;
    rwkv7_layer_backward(p.layers[l], gl, a, A.gacts, d, l, A.xs[l], A.dres, A.v_first, A.dv_first, &sg);
    if (grads_ready && l > 0) grads_ready(l);
  }
  if (pdin) convert_state(st->d_in, pdin, pd, L, false);
  // ln0 and the embedding.
  std::memset(A.dtmp, 0, sizeof(float) * MC);
  layernorm_backward(A.dtmp, g.layers[0].ln0_w, g.layers[0].ln0_b, A.dres, A.emb_out,
                     p.layers[0].ln0_w, A.ln0_mean, A.ln0_rstd, M, C);
  if (grads_ready) grads_ready(0);
  embedding_backward(g.emb, A.dtmp, A.inputs.data(), M, C);
  if (grads_ready) grads_ready(-1);
  return loss;
}

}  // namespace rwkv
