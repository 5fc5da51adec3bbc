// layer456.h — what the RWKV-4, 5.x and 6 layers (rwkv4/5/6_layer.cpp) share: reading a file
// through the version's parameter table (params456.h), the token shift over a ragged batch,
// projections batched for decode, the channel mix (the same block in all three versions), and
// for RWKV-5/6 the common per-layer weights and state parts (WkvLayer56) and the time-mix tail
// (GroupNorm, gate, output projection). RWKV-2 (rwkv2_layer.cpp) reads its file, shifts tokens
// and runs its channel mix with the same pieces.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/arena.h"
#include "model/config.h"
#include "model/model.h"
#include "model/param_table.h"
#include "model/weights.h"

namespace rwkv {

// A model file read through its parameter table: the shapes come from the table only.
class TableReader {
 public:
  // Checks every tensor of `w` against `table`: each required one present, each present one
  // listed, each with the listed shape (size-1 dims aside). Throws "[model] <source>: ..."
  // naming the tensor.
  TableReader(WeightStore& w, ParamTable table, const char* arch);
  const float* vec(const std::string& name);      // fp32 (converted once if stored otherwise)
  const float* opt_vec(const std::string& name);  // null when an optional tensor is absent
  WeightMat mat(const std::string& name);         // 2-D, in its stored dtype
  std::vector<float> one_minus(const std::string& name);  // 1 - vec(name), the v4/v5 mix mu
  // A LayerNorm's weight and bias: "<prefix>.weight", "<prefix>.bias" (C) each.
  void ln(const std::string& prefix, const float** w, const float** b);

 private:
  const ParamSpec& spec(const std::string& name) const;
  WeightStore& w_;
  ParamTable table_;
  std::unordered_map<std::string, size_t> index_;
};

// Key prefixes of layer i: "blocks.{i}." in the file, "state.{i}." in the state layout.
struct LayerKeys {
  explicit LayerKeys(int i) : block("blocks." + std::to_string(i) + "."), state("state." + std::to_string(i) + ".") {}
  std::string block, state;
};

// xx (M, C) = LayerNorm(x) (eps 1e-5; w, b: (C)), then the token shift over a ragged batch:
// d (M, C) = prev - xx, prev = the row before in the same run, or for a run's first row its
// state at `state_off` (the last row of its previous call); that state then takes the run's
// last row of xx.
void ln_shift(float* xx, float* d, const float* x, const float* w, const float* b, int64_t M, int C,
              std::span<const SeqRun> runs, int64_t state_off);

// One projection y (M, W.rows) = x (M, W.cols) @ W^T, W as torch.nn.Linear stores it.
struct Proj {
  float* y;
  const float* x;
  const WeightMat* W;
};
// Independent projections of the same M rows (no job's y is another's x). One token (M == 1):
// one gemv_batch, i.e. one parallel region for all of them.
void project(std::span<const Proj> jobs, int64_t M);

// The channel mix of RWKV-4/5/6, on x (M, C) in place:
//   xx = ln2(x); kx = xx + (shift(xx) - xx) * mu_k; rx = the same with mu_r
//   x += sigmoid(W_r · rx) * W_v · relu(W_k · kx)^2
// mu = 1 - ffn.time_mix_* (v4/v5) or ffn.time_maa_* (v6); the shift state is ffn_x (C).
struct ChannelMix456 {
  const float *ln_w = nullptr, *ln_b = nullptr;  // (C)
  std::vector<float> mu_k, mu_r;                  // (C)
  WeightMat key, receptance, value;               // (F, C), (C, C), (C, F)
  int C = 0, F = 0;
  int64_t state_off = 0;  // ffn_x in a state slot
  bool ln_replaces_x = false;  // RWKV-2: x = ln2(x), then x += FF(x) (the residual skips the norm)

  // How a version names the mix: v4/v5 ffn.time_mix_k/_r (mu = 1 - them), v6 ffn.time_maa_k/_r
  // (mu = them), v2 one ffn.time_mix for both (mu = 1 - it; and ln2 replaces x).
  enum class Names { TimeMix, TimeMaa, TimeMixOne };
  // prefix "blocks.{i}.".
  void load(TableReader& r, const std::string& prefix, int C, int F, Names names, int64_t state_off);
  static int64_t work_floats(int64_t M, int C, int F);  // scratch that forward needs
  void forward(float* x, int64_t M, std::span<const SeqRun> runs, float* work) const;
};

// The one scratch span of a forward_blocks call, shared by every layer: the larger of the time
// mix's `att_floats` and the channel mix's needs for M rows.
float* take_work456(Arena& scratch, int64_t att_floats, int64_t M, const ModelConfig& cfg);

// What an RWKV-5 and an RWKV-6 layer share: ln1, ln_x, the projections, the channel mix, and the
// state parts "state.{i}.att_x" (C), "state.{i}.wkv" (H, N, N) [head, value i, key j] (starting
// as the file's att.time_state when it has one), "state.{i}.ffn_x" (C), in that order.
struct WkvLayer56 {
  const float *ln1_w = nullptr, *ln1_b = nullptr;  // (C)
  const float *lnx_w = nullptr, *lnx_b = nullptr;  // (A)
  WeightMat key, value, receptance, gate, output;  // (A, C) x4 (gate.p null in x050), (C, A)
  int64_t off_x = 0, off_wkv = 0;                  // in a state slot
  ChannelMix456 ffn;
  // Block i's; adds its state parts to `layout`. maa: the v6 channel-mix names.
  void load(TableReader& r, StateLayout& layout, int i, const ModelConfig& cfg, bool gate, bool maa);
};

// Throws "[model] <source>: ..." unless n_head * head_size == dim_att (`key` gave n_head).
void check_heads(const ModelConfig& cfg, const std::string& source, const char* key);

// The RWKV-5/6 time-mix tail: x (M, C) += W_o · (GroupNorm_H(y) [* g]), ln_x eps 64e-5.
// y: (M, H*N), normalised in place; g: (M, H*N) the silu'd gate, or null (x050); lnx_w,
// lnx_b: (H*N); W_o: (C, H*N).
void wkv_tail456(float* x, float* y, const float* g, const float* lnx_w, const float* lnx_b,
                 const WeightMat& W_o, int64_t M, int H, int N, int C);

}  // namespace rwkv
