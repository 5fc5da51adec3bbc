// model.cpp — StateLayout, the shared embedding/head of BlockModel, and make_model (the one
// place that maps an architecture to its version's constructor).
#include "model/model.h"

#include <cstring>

#include "core/error.h"
#include "core/team.h"
#include "ops/embedding.h"
#include "ops/gemv.h"
#include "ops/layernorm.h"

namespace rwkv {

int64_t StateLayout::add(const std::string& name, const Shape& shape) {
  StatePart p{name, shape, floats, shape_numel(shape)};
  parts.push_back(p);
  floats += p.numel;
  initial.resize(size_t(floats), 0.f);
  return p.offset;
}

const StatePart* StateLayout::find(const std::string& name) const {
  for (auto& p : parts)
    if (p.name == name) return &p;
  return nullptr;
}

void BlockModel::load_io() { io_.load(w_, cfg_.n_embd, cfg_.vocab_size); }

void BlockModel::forward(const ModelBatch& b, Arena& scratch) const {
  // one token: the threads held as one team for the whole step (core/team.h), which its ~50
  // short products then share without a fork/join each
  if (b.M == 1) return team_scope([&] { forward_rows(b, scratch); });
  forward_rows(b, scratch);
}

void BlockModel::forward_rows(const ModelBatch& b, Arena& scratch) const {
  const int C = cfg_.n_embd;
  const int64_t M = b.M;
  float* x = scratch.floats(size_t(M) * C);  // (M, C) residual stream
  embedding_forward_any(x, b.tokens, io_.emb.p, io_.emb.dt, M, C);
  layernorm_forward(x, nullptr, nullptr, x, io_.ln0_w, io_.ln0_b, M, C, 1e-5f);
  forward_blocks(x, M, b.runs, scratch);
  if (b.R == 0) return;
  bool all_rows = b.R == M;
  float* rows = all_rows ? x : scratch.floats(size_t(b.R) * C);  // (R, C)
  if (!all_rows)
    for (int64_t r = 0; r < b.R; r++) std::memcpy(rows + r * C, x + b.logit_rows[r] * C, sizeof(float) * C);
  layernorm_forward(rows, nullptr, nullptr, rows, io_.ln_out_w, io_.ln_out_b, b.R, C, 1e-5f);
  linear_forward_mat(b.logits, rows, io_.head, b.R);
}

std::unique_ptr<Model> make_model(StateDict sd, const std::string& source, const ModelOptions& opt) {
  ModelConfig cfg = detect_config(without_mm8_companions(sd), source);
  switch (cfg.arch) {
    case Arch::RWKV2: return make_rwkv2_model(std::move(sd), cfg, source, opt);
    case Arch::RWKV7: return make_rwkv7_model(std::move(sd), cfg, source);
    case Arch::RWKV4: return make_rwkv4_model(std::move(sd), cfg, source);
    case Arch::RWKV5:
    case Arch::RWKV5_1:
    case Arch::RWKV5_2: return make_rwkv5_model(std::move(sd), cfg, source);
    case Arch::RWKV6: return make_rwkv6_model(std::move(sd), cfg, source);
  }
  fail("model", "{}: architecture {} is not supported", source, arch_name(cfg.arch));
}

}  // namespace rwkv
