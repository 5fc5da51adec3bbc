// rwkv7.cpp — RWKV-7 (x070) inference model for the engine: weight resolution (fp32 tensors,
// and bf16/fp16 GEMM matrices, are used in place, zero-copy; the small bf16/fp16 vectors and
// LoRA factors are converted to fp32 once at load), the state layout, and forward_blocks over
// a ragged batch (the block itself is rwkv7_block.cpp, shared with training).
// State per layer i: "state.{i}.att_x" (C), "state.{i}.wkv" (H, N, N) [head, value i, key j],
// "state.{i}.ffn_x" (C).
#include <cstring>

#include "core/error.h"
#include "model/model.h"
#include "model/rwkv7_block.h"
#include "model/rwkv7_params.h"
#include "ops/gemv.h"

namespace rwkv {

namespace {

// The matrices read by a GEMM/GEMV: kept in a bf16/fp16 file's dtype (zero-copy).
bool is_big_matrix(const std::string& n) {
  auto ends = [&](const char* suf) {
    size_t k = std::strlen(suf);
    return n.size() >= k && n.compare(n.size() - k, k, suf) == 0;
  };
  return ends(".att.receptance.weight") || ends(".att.key.weight") || ends(".att.value.weight") ||
         ends(".att.output.weight") || ends(".ffn.key.weight") || ends(".ffn.value.weight");
}

class Rwkv7Model final : public BlockModel {
 public:
  Rwkv7Model(StateDict sd, const ModelConfig& cfg, const std::string& source);
  void forward_blocks(float* x, int64_t M, std::span<const SeqRun> runs, Arena& scratch) const override;

 private:
  void bind(const std::string& source);
  Rwkv7Views v_;                      // fp32 views (null for matrices kept as stored)
  std::vector<Rwkv7LayerMats> mats_;  // per layer: matrices as stored, LoRA factors for decode
  int64_t layer_floats_ = 0;          // state floats per layer: att_x, wkv, ffn_x
};

Rwkv7Model::Rwkv7Model(StateDict sd, const ModelConfig& cfg, const std::string& source)
    : BlockModel(std::move(sd), source) {
  cfg_ = cfg;
  load_io();
  bind(source);
  const int64_t C = cfg.n_embd, H = cfg.n_head, N = cfg.head_size;
  for (int i = 0; i < cfg.n_layer; i++) {
    layout_.add(fmt::format("state.{}.att_x", i), {C});
    layout_.add(fmt::format("state.{}.wkv", i), {H, N, N});
    layout_.add(fmt::format("state.{}.ffn_x", i), {C});
  }
  layer_floats_ = 2 * C + H * N * N;
}

void Rwkv7Model::bind(const std::string& source) {
  const StateDict& sd = w_.tensors();
  // Resolve every parameter to an fp32 pointer, in the official order; the big matrices are
  // also read as stored (pointer + dtype in `stored`; bf16/fp16 ones only so, no fp32 copy).
  const ParamTable specs = rwkv7_param_specs(cfg_);
  std::vector<float*> ptrs;
  std::vector<Rwkv7Mat> stored;
  for (auto& s : specs) {
    stored.push_back({});
    const Tensor* t = sd.find(s.name);
    const int64_t n = shape_numel(s.shape);
    if (!t) {
      if (!s.optional) fail("model", "{}: missing tensor '{}'", source, s.name);
      ptrs.push_back(const_cast<float*>(w_.keep(Tensor::zeros(DType::F32, s.shape)).ptr<float>()));  // unused
      continue;
    }
    if (t->numel() != n || (t->shape != s.shape && s.shape.size() != 3))
      fail("model", "{}: '{}' has shape {}, expected {}", source, s.name, shape_str(t->shape), shape_str(s.shape));
    const bool big = is_big_matrix(s.name);
    if (s.name == "emb.weight" || s.name == "head.weight") {  // read as stored by BlockModel (io_)
      ptrs.push_back(nullptr);
      continue;
    }
    if (t->dtype == DType::F32) {
      ptrs.push_back(t->ptr<float>());
      if (big) stored.back() = {t->data, t->dtype};  // also read in place
    } else if ((t->dtype == DType::BF16 || t->dtype == DType::F16) && big) {
      stored.back() = {t->data, t->dtype};
      ptrs.push_back(nullptr);
    } else if (t->dtype == DType::U8 && big) {  // int8 or q4 (WeightStore)
      const WeightMat m = w_.mat(s.name, s.shape[0], s.shape[1]);
      stored.back() = {m.p, m.dt, m.i8, m.q4};
      ptrs.push_back(nullptr);
    } else {
      if (t->dtype != DType::BF16 && t->dtype != DType::F16 && t->dtype != DType::F64)
        fail("model", "{}: '{}' has dtype {}, expected a float type", source, s.name, dtype_name(t->dtype));
      ptrs.push_back(const_cast<float*>(w_.keep(t->to(DType::F32)).ptr<float>()));
    }
  }
  rwkv7_bind_views(v_, cfg_, [&](size_t i, const ParamSpec&) { return ptrs[i]; });
  mats_.assign(cfg_.n_layer, Rwkv7LayerMats{});
  for (size_t i = 0; i < specs.size(); i++) {
    if (!stored[i].p) continue;
    const std::string& n = specs[i].name;
    const int l = std::stoi(n.substr(7, n.find('.', 7) - 7));
    Rwkv7LayerMats& mm = mats_[l];
    Rwkv7Mat* slot = n.find(".att.receptance.") != std::string::npos ? &mm.receptance
                     : n.find(".att.key.") != std::string::npos      ? &mm.key
                     : n.find(".att.value.") != std::string::npos    ? &mm.value
                     : n.find(".att.output.") != std::string::npos   ? &mm.output
                     : n.find(".ffn.key.") != std::string::npos      ? &mm.ffn_key
                                                                     : &mm.ffn_value;
    *slot = stored[i];
  }
  // LoRA factors for decode (see Rwkv7LayerMats) in the file's float dtype (exact: the fp32 views
  // hold the file's values): the first halves transposed once to the Linear layout (rows of the
  // output, each a contiguous run of C), the second halves (D, C) laid out in column tiles of 64
  // (ops/gemv.h GemvJob::tiles64: a tile's D rows one contiguous run). Factors held in fp32 (an
  // fp32 or quantized placement) whose values are all exact bf16 (a model trained and shipped in
  // bf16) get a bf16 copy: the same numbers in half the bytes, which decode reads once per token
  // (21 MB -> 11 MB at L12-D768).
  const int64_t C = cfg_.n_embd;
  for (int l = 0; l < cfg_.n_layer; l++) {
    const Rwkv7LayerParams& lw = v_.layers[l];
    Rwkv7LayerMats& mm = mats_[l];
    // a bf16 stage: its big matrices bf16, or quantized with bf16 prefill (bf16i8 / bf16q4)
    const Rwkv7Mat& r = mm.receptance;
    const bool bf16_stage = (r.dt == DType::BF16 && !r.i8 && !r.q4) || (r.i8 && r.i8->bf16_prefill) ||
                            (r.q4 && r.q4->bf16_prefill);
    const std::string pre = fmt::format("blocks.{}.att.", l);
    // w (R, S) -> slot: (S, R) = w^T, or w in column tiles of 64
    auto relaid = [&](const char* name, const float* w, int64_t R, int64_t S, Rwkv7Mat& slot, bool tiles) {
      const Tensor* t = sd.find(pre + name);
      if (!t || !w) return;  // layer 0 has no v1/v2
      Tensor tt = Tensor::empty(DType::F32, {S, R});
      float* o = tt.ptr<float>();
      if (tiles) {
        tt.shape = {R, S};
        gemv_tiles64_layout(o, w, R, S, sizeof(float));
      } else {
        for (int64_t r = 0; r < R; r++)
          for (int64_t c = 0; c < S; c++) o[c * R + r] = w[r * S + c];
      }
      if (t->dtype == DType::BF16 || t->dtype == DType::F16) tt = tt.to(t->dtype);
      else if (all_bf16_exact(o, R * S)) tt = tt.to(DType::BF16);
      const Tensor& kept = w_.keep(std::move(tt));
      slot = {kept.data, kept.dtype};
    };
    auto transposed = [&](const char* name, const float* w, int64_t R, int64_t S, Rwkv7Mat& slot) {
      relaid(name, w, R, S, slot, false);
    };
    auto tiled = [&](const char* name, const float* w, int64_t R, int64_t S, Rwkv7Mat& slot) {
      relaid(name, w, R, S, slot, true);
    };
    transposed("w1", lw.w1, C, cfg_.d_decay, mm.w1t);
    transposed("a1", lw.a1, C, cfg_.d_aaa, mm.a1t);
    transposed("g1", lw.g1, C, cfg_.d_gate, mm.g1t);
    tiled("w2", lw.w2, cfg_.d_decay, C, mm.w2_tiles);
    tiled("a2", lw.a2, cfg_.d_aaa, C, mm.a2_tiles);
    tiled("g2", lw.g2, cfg_.d_gate, C, mm.g2_tiles);
    if (l > 0) {
      transposed("v1", lw.v1, C, cfg_.d_mv, mm.v1t);
      tiled("v2", lw.v2, cfg_.d_mv, C, mm.v2_tiles);
    }
    // prefill copies for a bf16 stage whose factors are bf16 (see Rwkv7LayerMats::w2t): those
    // whose decode tiles came out bf16
    if (bf16_stage && mm.w1t.dt == DType::BF16) {
      auto bf16_t = [&](const char* name, const float* w, int64_t R, const Rwkv7Mat& tiles, Rwkv7Mat& slot) {
        if (tiles.p && tiles.dt == DType::BF16) transposed(name, w, R, C, slot);
      };
      bf16_t("w2", lw.w2, cfg_.d_decay, mm.w2_tiles, mm.w2t);
      bf16_t("a2", lw.a2, cfg_.d_aaa, mm.a2_tiles, mm.a2t);
      bf16_t("g2", lw.g2, cfg_.d_gate, mm.g2_tiles, mm.g2t);
      if (l > 0) bf16_t("v2", lw.v2, cfg_.d_mv, mm.v2_tiles, mm.v2t);
    }
  }
}

void Rwkv7Model::forward_blocks(float* x, int64_t M, std::span<const SeqRun> runs, Arena& scratch) const {
  const int64_t C = cfg_.n_embd, HNN = int64_t(cfg_.n_head) * cfg_.head_size * cfg_.head_size;
  Rwkv7Dims d = Rwkv7Dims::make(cfg_, 1, int(M));
  Rwkv7LayerActs acts;
  rwkv7_layer_acts_layout(acts, d, scratch.floats(rwkv7_layer_acts_layout(acts, d, nullptr, false)), false);
  float* v_first = scratch.floats(size_t(M) * C);  // (M, C)
  Rwkv7SeqState* seqs = scratch.take<Rwkv7SeqState>(runs.size());
  for (int l = 0; l < cfg_.n_layer; l++) {
    for (size_t i = 0; i < runs.size(); i++) {
      float* st = runs[i].state + l * layer_floats_;
      seqs[i] = {runs[i].row0, runs[i].n, st, st + C, st + C + HNN};
    }
    rwkv7_layer_forward(v_.layers[l], acts, d, l, x, x, v_first, {seqs, runs.size()}, &mats_[l]);
  }
}

}  // namespace

std::unique_ptr<Model> make_rwkv7_model(StateDict sd, const ModelConfig& cfg, const std::string& source) {
  return std::make_unique<Rwkv7Model>(std::move(sd), cfg, source);
}

}  // namespace rwkv
