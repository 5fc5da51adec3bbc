// test_model456.cpp — the RWKV-4/5/6 layers on the Model interface (make_rwkv{4,5,6}_model)
// without the engine: the parameter tables (params456.h) against the pip fixtures' files, the
// state layouts, the x050 / x051 file variants derived from the x052 fixture, a state-tuned
// file's start state, and load errors naming the tensor. (Batches and the fixtures' logits go
// through the engine: test_engine.cpp, test_rwkv456.cpp.)
#include <cmath>
#include <cstring>
#include <vector>

#include "core/arena.h"
#include "io/model_file.h"
#include "model/config.h"
#include "model/model.h"
#include "model/params456.h"
#include "test_util.h"

using namespace rwkv;
using Vec = std::vector<float>;

namespace {

StateDict pip_model(int v) {
  return load_model_file(test::fixture("pip/rwkv" + std::to_string(v) + "-L2-D128-V512/model.pth"));
}

std::unique_ptr<Model> make(int v, StateDict sd, const ModelConfig& cfg) {
  if (v == 4) return make_rwkv4_model(std::move(sd), cfg, "m");
  if (v == 5) return make_rwkv5_model(std::move(sd), cfg, "m");
  return make_rwkv6_model(std::move(sd), cfg, "m");
}

// Runs sequences (each from its own state, fresh when `states` is empty) as ONE batch; logits
// of every row, (M, V).
Vec run(const Model& m, const std::vector<std::vector<int32_t>>& seqs, std::vector<Vec>& states) {
  const StateLayout& L = m.state_layout();
  std::vector<int32_t> tokens;
  std::vector<SeqRun> runs;
  if (states.empty()) states.assign(seqs.size(), L.initial);
  for (size_t i = 0; i < seqs.size(); i++) {
    runs.push_back({int64_t(tokens.size()), int64_t(seqs[i].size()), states[i].data()});
    tokens.insert(tokens.end(), seqs[i].begin(), seqs[i].end());
  }
  const int64_t M = int64_t(tokens.size()), V = m.config().vocab_size;
  std::vector<int64_t> rows(M);
  for (int64_t r = 0; r < M; r++) rows[r] = r;
  Vec logits(size_t(M * V));
  Arena arena;
  m.forward({tokens.data(), M, runs, rows.data(), M, logits.data()}, arena);
  return logits;
}

TEST(Model456, TablesListEveryTensorOfTheFixtures) {
  for (int v : {4, 5, 6}) {
    StateDict sd = pip_model(v);
    ModelConfig cfg = detect_config(sd, "m");
    ParamTable t = v == 4 ? rwkv4_params(cfg) : v == 5 ? rwkv5_params(cfg) : rwkv6_params(cfg, 32);
    size_t required = 0;
    for (const ParamSpec& s : t) {
      required += !s.optional;
      const Tensor* f = sd.find(s.name);
      if (!f) {
        EXPECT_TRUE(s.optional) << "v" << v << ": " << s.name << " not in the file";
        continue;
      }
      EXPECT_EQ(shape_str(f->shape), shape_str(s.shape)) << "v" << v << ": " << s.name;
    }
    EXPECT_EQ(required, sd.size()) << "v" << v;
    for (const auto& [name, tensor] : sd.items) EXPECT_NE(find_param(t, name), nullptr) << "v" << v << ": " << name;
  }
}

TEST(Model456, InitialStateOfRwkv4) {
  StateDict sd = pip_model(4);
  ModelConfig cfg = detect_config(sd, "m");
  auto m = make_rwkv4_model(std::move(sd), cfg, "m");
  const StateLayout& L = m->state_layout();
  ASSERT_EQ(L.parts.size(), size_t(5 * cfg.n_layer));
  const char* names[5] = {"att_x", "att_aa", "att_bb", "att_pp", "ffn_x"};
  for (int i = 0; i < cfg.n_layer; i++)
    for (int p = 0; p < 5; p++) EXPECT_EQ(L.parts[5 * i + p].name, "state." + std::to_string(i) + "." + names[p]);
  const StatePart* pp = L.find("state.1.att_pp");
  ASSERT_NE(pp, nullptr);
  EXPECT_EQ(L.initial[pp->offset], -1e30f);
  EXPECT_EQ(L.initial[L.find("state.1.att_bb")->offset], 0.f);
}

// x052 -> x051: time_decay / time_faaaa made equal within each head, then stored per head (H).
// Both files must give the same logits (bit for bit: the loader expands them to the same values).
TEST(Model456, X051PerHeadMatchesX052Broadcast) {
  StateDict s52 = pip_model(5), s51 = pip_model(5);
  const ModelConfig c52 = detect_config(s52, "m");
  const int H = c52.n_head, N = c52.head_size;
  for (int l = 0; l < c52.n_layer; l++)
    for (const char* n : {"att.time_decay", "att.time_faaaa"}) {
      const std::string name = "blocks." + std::to_string(l) + "." + n;
      Vec full = s52.at(name).to_f32_vec();
      Tensor head = Tensor::zeros(DType::F32, {H}), bcast = Tensor::zeros(DType::F32, {H, N});
      for (int h = 0; h < H; h++) {
        head.ptr<float>()[h] = full[size_t(h) * N];
        for (int i = 0; i < N; i++) bcast.ptr<float>()[h * N + i] = full[size_t(h) * N];
      }
      s52.set(name, bcast);
      s51.set(name, head);
    }
  const ModelConfig c51 = detect_config(s51, "m");
  ASSERT_EQ(c51.arch, Arch::RWKV5_1);
  std::vector<Vec> st52, st51;
  const std::vector<int32_t> toks = {1, 2, 3, 400, 5};
  Vec l52 = run(*make_rwkv5_model(std::move(s52), c52, "m"), {toks}, st52);
  Vec l51 = run(*make_rwkv5_model(std::move(s51), c51, "m"), {toks}, st51);
  EXPECT_EQ(l51, l52);
  EXPECT_EQ(st51[0], st52[0]);

  // x050 (no gate), with the bonus as time_faaaa = u or as time_first = log(u) (u = e^time_first).
  StateDict a = pip_model(5);
  for (int l = 0; l < c52.n_layer; l++) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    Tensor decay = Tensor::zeros(DType::F32, {H}), u = Tensor::zeros(DType::F32, {H});
    for (int h = 0; h < H; h++) decay.ptr<float>()[h] = -1.f - h, u.ptr<float>()[h] = 0.5f + 0.25f * h;
    StateDict next;
    for (auto& [k, t] : a.items)
      if (k != b + "att.gate.weight" && k != b + "att.time_mix_g") next.set(k, t);
    next.set(b + "att.time_decay", decay);
    next.set(b + "att.time_faaaa", u);
    a = std::move(next);
  }
  StateDict f;
  for (auto& [k, t] : a.items) {
    if (k.find("att.time_faaaa") == std::string::npos) {
      f.set(k, t);
      continue;
    }
    Tensor lg = t.clone();
    for (int h = 0; h < H; h++) lg.ptr<float>()[h] = std::log(lg.ptr<float>()[h]);
    f.set(k.substr(0, k.size() - 5) + "first", lg);  // time_faaaa -> time_first
  }
  const ModelConfig c50 = detect_config(a, "m"), c50f = detect_config(f, "m");
  ASSERT_EQ(c50.arch, Arch::RWKV5);
  ASSERT_EQ(c50f.arch, Arch::RWKV5);
  std::vector<Vec> sa, sf;
  Vec la = run(*make_rwkv5_model(std::move(a), c50, "m"), {toks}, sa);
  Vec lf = run(*make_rwkv5_model(std::move(f), c50f, "m"), {toks}, sf);
  for (float x : la) ASSERT_TRUE(std::isfinite(x));
  EXPECT_LE(test::tol_excess(lf, la, test::tol::fp32_modes), 0.0);
}

TEST(Model456, TimeStateIsTheStartState) {
  for (int v : {5, 6}) {
    StateDict sd = pip_model(v);
    const ModelConfig cfg = detect_config(sd, "m");
    const int H = cfg.n_head, N = cfg.head_size;
    Tensor ts = Tensor::zeros(DType::F32, {H, N, N});
    for (int64_t e = 0; e < ts.numel(); e++) ts.ptr<float>()[e] = 0.001f * float(e % 97);
    sd.set("blocks.1.att.time_state", ts);
    EXPECT_EQ(detect_config(sd, "tuned").arch, cfg.arch);  // a state-tuned file is a model of its version
    auto m = make(v, std::move(sd), cfg);
    const StateLayout& L = m->state_layout();
    const StatePart* w1 = L.find("state.1.wkv");
    ASSERT_NE(w1, nullptr);
    EXPECT_EQ(Vec(L.initial.begin() + w1->offset, L.initial.begin() + w1->offset + w1->numel), ts.to_f32_vec());
    const StatePart* w0 = L.find("state.0.wkv");
    for (int64_t e = 0; e < w0->numel; e++) ASSERT_EQ(L.initial[w0->offset + e], 0.f);
  }
}

TEST(Model456, LoadErrorsNameTheTensor) {
  StateDict sd = pip_model(6);
  const ModelConfig cfg = detect_config(sd, "m");
  sd.set("blocks.1.att.time_decay_w2", Tensor::zeros(DType::F32, {64, 100}));
  std::string e = test::error_of([&] { make_rwkv6_model(std::move(sd), cfg, "bad6.pth"); });
  EXPECT_NE(e.find("bad6.pth"), std::string::npos) << e;
  EXPECT_NE(e.find("blocks.1.att.time_decay_w2"), std::string::npos) << e;
  StateDict s4 = pip_model(4);
  const ModelConfig c4 = detect_config(s4, "m");
  s4.set("blocks.0.att.extra", Tensor::zeros(DType::F32, {3}));
  e = test::error_of([&] { make_rwkv4_model(std::move(s4), c4, "bad4.pth"); });
  EXPECT_NE(e.find("blocks.0.att.extra"), std::string::npos) << e;
  StateDict s5 = pip_model(5);
  const ModelConfig c5 = detect_config(s5, "m");
  StateDict missing;
  for (auto& [k, t] : s5.items)
    if (k != "blocks.1.ffn.value.weight") missing.set(k, t);
  e = test::error_of([&] { make_rwkv5_model(std::move(missing), c5, "bad5.pth"); });
  EXPECT_NE(e.find("missing tensor 'blocks.1.ffn.value.weight'"), std::string::npos) << e;
}

}  // namespace
