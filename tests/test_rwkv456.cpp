// test_rwkv456.cpp — RWKV-4, RWKV-5.2 and RWKV-6.0 against the `rwkv` pip package fixtures
// (pip/rwkv{4,5,6}-L2-D128-V512): GPT-mode logits (relative error in norm <= fp32_logits.rel),
// RNN mode and chunked prefill against GPT mode (<= fp32_modes.rel), and the final state against the package's state list mapped to our layout:
//   v4:    pip_state[5i+0..4] = state.{i}.att_x, att_aa, att_bb, att_pp, ffn_x   (identical)
//   v5/v6: pip_state[3i+0] = state.{i}.att_x, pip_state[3i+2] = state.{i}.ffn_x,
//          pip_state[3i+1][h][j][k] = state.{i}.wkv[h][k][j]  (pip keeps [head, key, value];
//          we keep [head, value, key] as RWKV-7 and the training code's time_state do)
#include "core/error.h"
#include "infer/runner.h"
#include "io/model_file.h"
#include "model/config.h"
#include "test_util.h"

namespace {

using namespace rwkv;
using rwkv::test::rel_norm_err;

struct Case {
  const char* dir;
  Arch arch;
  int per_layer;  // pip state vectors per layer
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.dir; }
const Case kCases[] = {{"pip/rwkv4-L2-D128-V512", Arch::RWKV4, 5},
                       {"pip/rwkv5-L2-D128-V512", Arch::RWKV5_2, 3},
                       {"pip/rwkv6-L2-D128-V512", Arch::RWKV6, 3}};

struct Loaded {
  std::unique_ptr<Runner> r;
  std::vector<int32_t> tokens;
  std::vector<float> logits;  // (T, V) from the pip package
  StateDict expected;
};

Loaded load_case(const Case& c) {
  std::string d = rwkv::test::fixture(c.dir);
  Loaded L;
  StateDict sd = load_model_file(d + "/model.pth");
  EXPECT_EQ(detect_config(sd, d).arch, c.arch);
  L.r = make_runner(std::move(sd), d);
  L.expected = load_safetensors(d + "/expected.safetensors");
  for (float t : L.expected.at("tokens").to_f32_vec()) L.tokens.push_back(int32_t(t));
  L.logits = L.expected.at("logits").to_f32_vec();
  return L;
}

class Rwkv456 : public ::testing::TestWithParam<Case> {};

TEST_P(Rwkv456, GptModeMatchesPip) {
  Loaded L = load_case(GetParam());
  const int64_t T = int64_t(L.tokens.size()), V = L.r->vocab_size();
  ASSERT_EQ(T, 24);
  std::vector<float> lg(size_t(T * V));
  RunnerState st = L.r->zero_state();
  L.r->forward(L.tokens.data(), T, st, lg.data(), true);
  double err = rel_norm_err(lg, L.logits);
  EXPECT_LE(err, rwkv::test::tol::fp32_logits.rel) << GetParam().dir;
  RecordProperty("logits_rel_err", std::to_string(err));

  // Final state vs the pip package's state list, mapped to our layout (see the header).
  const int L_ = L.r->config().n_layer, per = GetParam().per_layer;
  ASSERT_EQ(int(st.size()), L_ * per);
  for (int k = 0; k < L_ * per; k++) {
    std::vector<float> mine = st.items[k].second.to_f32_vec();
    const Tensor& pip = L.expected.at("pip_state." + std::to_string(k));
    if (per == 3 && k % 3 == 1) {  // wkv: transpose each head
      const Shape& s = st.items[k].second.shape;
      ASSERT_EQ(s.size(), 3u);
      ASSERT_EQ(pip.shape, s);
      int64_t H = s[0], N = s[1];
      std::vector<float> tr(mine.size());
      for (int64_t h = 0; h < H; h++)
        for (int64_t a = 0; a < N; a++)
          for (int64_t b = 0; b < N; b++) tr[(h * N + b) * N + a] = mine[(h * N + a) * N + b];
      mine = tr;
    }
    double e = rel_norm_err(mine, pip.to_f32_vec());
    EXPECT_LE(e, rwkv::test::tol::fp32_logits.rel) << st.items[k].first << " vs pip_state." << k;
  }
}

TEST_P(Rwkv456, RnnModeAndChunkedPrefillMatchGptMode) {
  Loaded L = load_case(GetParam());
  const int64_t T = int64_t(L.tokens.size()), V = L.r->vocab_size();
  std::vector<float> gpt(size_t(T * V));
  RunnerState st_gpt = L.r->zero_state();
  L.r->forward(L.tokens.data(), T, st_gpt, gpt.data(), true);

  // RNN mode: one token at a time.
  std::vector<float> rnn(size_t(T * V));
  RunnerState st_rnn = L.r->zero_state();
  for (int64_t t = 0; t < T; t++) L.r->forward(&L.tokens[t], 1, st_rnn, &rnn[t * V], false);
  EXPECT_LE(rel_norm_err(rnn, gpt), rwkv::test::tol::fp32_modes.rel);

  // Chunked prefill (5 + 7 + 12 tokens), last-token logits of each chunk.
  RunnerState st_chunk = L.r->zero_state();
  int64_t pos = 0;
  for (int64_t n : {5, 7, 12}) {
    std::vector<float> last(static_cast<size_t>(V));
    L.r->forward(&L.tokens[pos], n, st_chunk, last.data(), false);
    pos += n;
    std::vector<float> ref(gpt.begin() + (pos - 1) * V, gpt.begin() + pos * V);
    EXPECT_LE(rel_norm_err(last, ref), rwkv::test::tol::fp32_modes.rel) << "chunk ending at " << pos;
  }
  ASSERT_EQ(pos, T);
  for (size_t k = 0; k < st_gpt.size(); k++) {
    auto g = st_gpt.items[k].second.to_f32_vec();
    EXPECT_LE(rel_norm_err(st_rnn.items[k].second.to_f32_vec(), g), rwkv::test::tol::fp32_modes.rel)
        << st_gpt.items[k].first;
    EXPECT_LE(rel_norm_err(st_chunk.items[k].second.to_f32_vec(), g), rwkv::test::tol::fp32_modes.rel)
        << st_gpt.items[k].first;
  }
}

INSTANTIATE_TEST_SUITE_P(Pip, Rwkv456, ::testing::ValuesIn(kCases), [](const auto& info) {
  return std::string(arch_name(info.param.arch));
});

}  // namespace
