// model.h — what every RWKV version gives the engine: its sizes, the layout of one sequence's
// recurrent state, and a forward over a ragged batch (several sequences, each a run of >= 1
// consecutive rows). A version implements Model (usually through BlockModel, which does the
// shared embedding / ln0 / ln_out / head and leaves the blocks to the version). A forward
// writes only the batch's state slots, its logits and the caller's Arena: nothing in the model.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/arena.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/weights.h"
#include "ops/row_invariant.h"

namespace rwkv {

// One sequence of a batch: rows [row0, row0 + n) of the batch's (M, ...) activations, and its
// state slot (StateLayout::floats floats), read and updated in place.
struct SeqRun {
  int64_t row0 = 0, n = 0;
  float* state = nullptr;
};

// Calls f(seq) for each sequence of a batch (SeqRun, or a version's per-layer view of one):
// several run one sequence per thread; a single one runs on the calling thread outside any
// parallel region, so the op it calls keeps its own threads (inside a region, even an if(false)
// one, a nested region gets a team of one). The caller's row-invariant switch (ops/row_invariant.h,
// per thread) holds on every thread.
template <class Seq, class F>
void for_each_seq(std::span<const Seq> seqs, F&& f) {
  if (seqs.size() == 1) return f(seqs[0]);
  const bool invariant = row_invariant_products();
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < seqs.size(); i++) {
    const RowInvariantScope scope(invariant);
    f(seqs[i]);
  }
}

// One named tensor of a state slot, e.g. "state.3.wkv" (H, N, N) at `offset` floats.
struct StatePart {
  std::string name;
  Shape shape;
  int64_t offset = 0, numel = 0;
};

// The per-sequence state of a model: named fp32 tensors laid out back to back in one slot, in
// a fixed order (per layer; names as state files store them), and the fresh state a sequence
// starts from (zeros; RWKV-4's att_pp = -1e30; a state-tuned file's time_state).
struct StateLayout {
  std::vector<StatePart> parts;
  int64_t floats = 0;          // per slot
  std::vector<float> initial;  // (floats)

  // Appends a part (initial values 0) and returns its offset.
  int64_t add(const std::string& name, const Shape& shape);
  const StatePart* find(const std::string& name) const;
};

// A forward over the batch's M tokens. Runs cover [0, M) in row order, one per sequence.
// Logits are wanted for rows logit_rows[0..R) (ascending), written to logits (R, V).
struct ModelBatch {
  const int32_t* tokens = nullptr;  // (M), already checked to be < vocab_size
  int64_t M = 0;
  std::span<const SeqRun> runs;
  const int64_t* logit_rows = nullptr;
  int64_t R = 0;
  float* logits = nullptr;  // (R, V)
};

class Model {
 public:
  virtual ~Model() = default;
  const ModelConfig& config() const { return cfg_; }
  const StateLayout& state_layout() const { return layout_; }
  virtual void forward(const ModelBatch& b, Arena& scratch) const = 0;

 protected:
  ModelConfig cfg_;
  StateLayout layout_;
};

// The parts every version shares: x = ln0(emb[token]) before block 0; logits =
// head(ln_out(x)) after the last block. A version implements forward_blocks.
class BlockModel : public Model {
 public:
  void forward(const ModelBatch& b, Arena& scratch) const override;
  // x (M, C): ln0(emb) rows on entry, the last block's output on return.
  virtual void forward_blocks(float* x, int64_t M, std::span<const SeqRun> runs, Arena& scratch) const = 0;

 protected:
  BlockModel(StateDict sd, const std::string& source) : w_(std::move(sd), source) {}
  void load_io();  // emb, ln0, ln_out, head from w_ (cfg_ set first)
  WeightStore w_;
  ModelIo io_;

 private:
  void forward_rows(const ModelBatch& b, Arena& scratch) const;
};

// A BlockModel whose blocks are one weight struct per layer (RWKV-4/5/6); the version's
// constructor fills layers_.
template <class Layer>
class LayerStack : public BlockModel {
 protected:
  LayerStack(StateDict sd, const ModelConfig& cfg, const std::string& source) : BlockModel(std::move(sd), source) {
    cfg_ = cfg;
  }
  std::vector<Layer> layers_;
};

// Settings of a model that its file does not hold (each names the versions it applies to).
struct ModelOptions {
  // RWKV-2: the K_EPS added to the WKV denominator. Unset: 1e-8 for a Pile model (what the
  // RWKV-v2-RNN-Pile README asks for its released model; the code as shipped has 1e-9), 1e-16
  // for the enwik8 head-QK model (RWKV-LM RWKV-v2-RNN).
  std::optional<float> k_eps;
  // RWKV-2 head-QK: how many recent tokens the copy term covers (0: the file's ctx_len).
  int copy_window = 0;
};

// A loaded model of any supported version (architecture from detect_config). `source` names the
// file in errors. Throws "[model] <source>: ..." for an unsupported architecture or a bad tensor.
std::unique_ptr<Model> make_model(StateDict sd, const std::string& source, const ModelOptions& opt = {});

// Per-version constructors make_model dispatches to.
std::unique_ptr<Model> make_rwkv2_model(StateDict sd, const ModelConfig& cfg, const std::string& source,
                                        const ModelOptions& opt);
std::unique_ptr<Model> make_rwkv4_model(StateDict sd, const ModelConfig& cfg, const std::string& source);
std::unique_ptr<Model> make_rwkv5_model(StateDict sd, const ModelConfig& cfg, const std::string& source);
std::unique_ptr<Model> make_rwkv6_model(StateDict sd, const ModelConfig& cfg, const std::string& source);
std::unique_ptr<Model> make_rwkv7_model(StateDict sd, const ModelConfig& cfg, const std::string& source);

}  // namespace rwkv
