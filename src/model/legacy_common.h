// legacy_common.h — pieces shared by the RWKV-4/5/6 CPU forward passes (rwkv4/5/6.cpp): weight
// views checked by name and shape (matrices kept in their stored fp32/bf16/fp16, zero-copy;
// vectors as fp32), LayerNorm, GroupNorm, linear layers, token shift, embedding and head, the
// channel mix, the RWKV-5/6 WKV, and typed access to a named RunnerState. fp32 compute.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"

namespace rwkv::legacy {

// A weight matrix (rows, cols) in its stored dtype (fp32, bf16 or fp16).
struct Mat {
  const void* p = nullptr;
  DType dt = DType::F32;
  int64_t rows = 0, cols = 0;
};

// Weights of one model: vectors as fp32 (fp32 tensors used in place, others converted once),
// matrices as stored.
class Weights {
 public:
  Weights(StateDict sd, std::string source) : sd_(std::move(sd)), source_(std::move(source)) {}
  // The tensor `name`, whose shape with size-1 dims dropped must equal `squeezed`
  // (throws "[model] <source>: ..." naming the key otherwise).
  const float* get(const std::string& name, const Shape& squeezed);
  // A 2-D matrix (rows, cols) in its stored float dtype (fp64 is converted to fp32).
  Mat mat(const std::string& name, int64_t rows, int64_t cols);
  bool has(const std::string& name) const { return sd_.has(name); }
  const Tensor& at(const std::string& name) const;  // raw tensor; throws naming the source
  const std::string& source() const { return source_; }

 private:
  StateDict sd_;
  std::string source_;
  std::vector<Tensor> owned_;
};

// Model-wide weights every version has.
struct Common {
  int L = 0, C = 0, V = 0;
  const float *ln0_w, *ln0_b, *ln_out_w, *ln_out_b;
  Mat emb, head;  // (V, C)
  void load(Weights& w, int n_layer, int n_embd, int vocab);
};

// What every RWKV-4/5/6 model object holds: its config, weights, model-wide tensors, dim_att A
// and dim_ffn F. The model classes derive from it (or from WkvModelBase).
class ModelBase {
 public:
  const ModelConfig& config() const { return cfg_; }

 protected:
  ModelBase(StateDict sd, const std::string& source) : w_(std::move(sd), source) {}
  ModelConfig cfg_;
  Weights w_;
  Common c_;
  int A_ = 0, F_ = 0;
};

// RWKV-5/6: heads H of size N (A = H * N).
class WkvModelBase : public ModelBase {
 public:
  int n_head() const { return H_; }
  int head_size() const { return N_; }

 protected:
  using ModelBase::ModelBase;
  int H_ = 0, N_ = 0;
};

// y[t] = LayerNorm(x[t]) over C, eps 1e-5.  x, y: (T, C); may alias.
void layer_norm(const float* x, int64_t T, int C, const float* w, const float* b, float* y);
// In place over (T, H*N): each head's N values normalised, then * w + b (eps as given).
void group_norm(float* x, int64_t T, int H, int N, const float* w, const float* b, float eps);
// y (T, W.rows) = x (T, W.cols) @ W^T with W (out, in) as torch.nn.Linear stores it.
void linear(const float* x, int64_t T, const Mat& W, float* y);
// y (T, out) = x (T, in) @ W with W (in, out) (the LoRA matrices of RWKV-6).
void matmul_io(const float* x, int64_t T, int in, const float* W, int out, float* y);
// prev (T, C): row t = xx[t-1], row 0 = last (the state); then last = xx[T-1].
void token_shift(const float* xx, int64_t T, int C, float* last, float* prev);
// x (T, C) = ln0(emb[tokens]); throws "[infer] ..." for an id outside the vocabulary.
void embed(const Common& m, const int32_t* tokens, int64_t T, float* x);
// logits (T or 1, V) = head(ln_out(x)) for all rows or the last one.
void head(const Common& m, const float* x, int64_t T, float* logits, bool all_logits);

// The time mix's projections (r, k, v: (A, C); g: (A, C), null without a gate; o: (C, A)),
// loaded in the order k, v, r, g, o from "blocks.i.att.{key,value,receptance,gate,output}.weight".
struct AttProj {
  Mat k, v, r, g, o;
  void load(Weights& w, const std::string& prefix, int C, int A, bool gate);
};

// Heads H = dim 0 of tensor `name` and head size N = A / H; throws "[model] <source>: ..." unless
// H divides dim_att A.
int head_count(Weights& w, const std::string& name, int A, int& N);

// "blocks.i.att.time_state" (H, N, N) of a state-tuned file, or null when the file has none.
const float* load_time_state(Weights& w, const std::string& prefix, int H, int N);

// RWKV-5/6 state: per layer "att_x" (C), "wkv" (H, N, N) = time_state(i) or zeros, "ffn_x" (C).
// time_state(i): the layer's start state (H, N, N) or null.
template <class TimeState>
StateDict wkv_zero_state(int L, int C, int H, int N, TimeState time_state);

// Views of layer i's RWKV-5/6 state in `st` (checked as state_f32 does).
struct WkvLayerState {
  float *att_x, *S, *ffn_x;  // (C), (H, N, N), (C)
};
WkvLayerState wkv_layer_state(StateDict& st, int i, int C, int H, int N);

// RWKV-5/6 time-mix tail, x (T, C) += W_o·(GroupNorm(H, eps 64e-5)(wkv5(r, k, v)) [* g]);
// g (T, A) may be null (no gate); y (T, A) and tmp (T, C) are scratch. See wkv5_forward for w, u.
void wkv5_att_out(int64_t T, int H, int N, int C, const float* r, const float* k, const float* v,
                  const float* w, bool w_per_token, const float* u, float* S, const float* lnx_w,
                  const float* lnx_b, const float* g, const Mat& W_o, float* y, float* tmp, float* x);

// Token-shift mix coefficients in one form for every version: input = xx + (prev - xx) * c,
// c = 1 - time_mix_* (v4/v5) or c = time_maa_* (v6).
std::vector<float> one_minus(const float* mix, int n);

// The channel mix (RWKV-4/5/6 share it), applied in place to x (T, C):
//   xx = ln2(x); k = xx + (prev-xx)*ck; r = xx + (prev-xx)*cr
//   x += sigmoid(W_r·r) * W_v·relu(W_k·k)^2;  ffn_x (C) is the token-shift state.
struct ChannelMix {
  const float *ln_w, *ln_b;
  std::vector<float> ck, cr;  // (C)
  Mat k, r, v;                // (F, C), (C, C), (C, F)
  int F = 0;
  void load(Weights& w, const std::string& prefix, int C, int F, bool maa);  // prefix "blocks.i."
  void forward(float* x, int64_t T, int C, float* ffn_x) const;
};

// RWKV-5/6 WKV over T tokens for H heads of size N, state S (H, N, N) [head, value i, key j]:
//   y[t,h,i] = sum_j r[j] * (S[i][j] + u[j]*k[j]*v[i]);  S[i][j] = S[i][j]*w[j] + v[i]*k[j]
// r, k, v, y: (T, H*N); u: (H*N); w: (T, H*N) when w_per_token, else (H*N) for every token.
void wkv5_forward(int64_t T, int H, int N, const float* r, const float* k, const float* v,
                  const float* w, bool w_per_token, const float* u, float* S, float* y);

// fp32 data of state tensor `name`, checking its presence and element count.
float* state_f32(StateDict& st, const std::string& name, int64_t numel);

inline float sigmoidf(float x) { return 1.f / (1.f + std::exp(-x)); }

template <class TimeState>
StateDict wkv_zero_state(int L, int C, int H, int N, TimeState time_state) {
  StateDict st;
  for (int i = 0; i < L; i++) {
    std::string p = "state." + std::to_string(i) + ".";
    st.set(p + "att_x", Tensor::zeros(DType::F32, {C}));
    Tensor s = Tensor::zeros(DType::F32, {H, N, N});
    if (const float* ts = time_state(i)) std::memcpy(s.data, ts, s.nbytes());
    st.set(p + "wkv", s);
    st.set(p + "ffn_x", Tensor::zeros(DType::F32, {C}));
  }
  return st;
}

}  // namespace rwkv::legacy
