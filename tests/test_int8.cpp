// test_int8.cpp — int8 weights as the `rwkv` pip package's fp32i8 (ops/mm8.h, engine strategy "cpu fp32i8")
// against its fixtures pip/rwkv{4,5,6}-L2-D128-V512/expected_i8.safetensors:
//  - the example matrices' q, mx, my, rx, ry bit for bit (the fixture's q is (in, out): ours transposed);
//  - logits at every position within tol::pip_int8_logits (relative error in norm per position), in GPT
//    mode (few-row kernel), token by token (GEMV) and through the prefill (exact panels + sgemm) path;
//  - the final state vs the package's state list.
// Also: the mm8 products vs an fp64 product with the exactly dequantized W'; the per-layer strategy
// 'cpu fp32 *1 -> cpu fp32i8' vs an fp32 model whose layer-1 and head matrices are replaced by W';
// RWKV-7 int8 vs fp32 (reported).
#include <cstring>
#include <limits>

#include "engine/weight_placement.h"
#include "infer/runner.h"
#include "io/model_file.h"
#include "model/config.h"
#include "model/weights.h"
#include "ops/mm8.h"
#include "ops/row_invariant.h"
#include "test_rwkv7_fixture.h"
#include "test_util.h"

namespace {

using namespace rwkv;
using rwkv::test::rel_norm_err;

const char* kDirs[] = {"pip/rwkv4-L2-D128-V512", "pip/rwkv5-L2-D128-V512", "pip/rwkv6-L2-D128-V512"};

EngineOptions strategy(const std::string& s) {
  EngineOptions o;
  o.strategy = Strategy::parse(s);
  return o;
}

std::vector<int32_t> tokens_of(const StateDict& e) {
  std::vector<int32_t> t;
  for (float x : e.at("tokens").to_f32_vec()) t.push_back(int32_t(x));
  return t;
}

// Worst per-position relative error in norm of logits (T, V).
double worst_position(const std::vector<float>& got, const std::vector<float>& ref, int64_t T, int64_t V) {
  double worst = 0;
  for (int64_t t = 0; t < T; t++) {
    std::vector<float> g(got.begin() + t * V, got.begin() + (t + 1) * V), r(ref.begin() + t * V, ref.begin() + (t + 1) * V);
    worst = std::max(worst, rel_norm_err(g, r));
  }
  return worst;
}

class Int8Pip : public ::testing::TestWithParam<const char*> {};

TEST_P(Int8Pip, QuantizedMatricesBitIdentical) {
  const std::string d = rwkv::test::fixture(GetParam());
  StateDict sd = load_model_file(d + "/model.pth");
  StateDict ex = load_safetensors(d + "/expected_i8.safetensors");
  int checked = 0;
  for (const auto& [key, qt] : ex.items) {
    if (!key.starts_with("i8.") || !key.ends_with(".q")) continue;
    const std::string name = key.substr(3, key.size() - 5);
    SCOPED_TRACE(name);
    const Tensor W = sd.at(name).to(DType::F32);
    ASSERT_EQ(W.dim(), 2);
    const int64_t N = W.shape[0], K = W.shape[1];
    ASSERT_EQ(qt.shape, (Shape{K, N}));
    ASSERT_EQ(qt.dtype, DType::U8);
    std::vector<uint8_t> q(size_t(N * K));
    std::vector<float> mx(N), rx(N), my(K), ry(K);
    mm8_quantize(q.data(), mx.data(), rx.data(), my.data(), ry.data(), W.ptr<float>(), N, K);
    const uint8_t* fq = qt.ptr<uint8_t>();
    int64_t diff = 0;
    for (int64_t i = 0; i < K; i++)
      for (int64_t o = 0; o < N; o++) diff += fq[i * N + o] != q[o * K + i];
    EXPECT_EQ(diff, 0) << "q elements differing";
    auto same = [&](const char* part, const std::vector<float>& mine) {
      const Tensor& f = ex.at("i8." + name + "." + part);
      ASSERT_EQ(f.numel(), int64_t(mine.size())) << part;
      EXPECT_EQ(std::memcmp(f.data, mine.data(), mine.size() * 4), 0) << part << " not bit-identical";
    };
    same("mx", mx);
    same("rx", rx);
    same("my", my);
    same("ry", ry);
    checked++;
  }
  EXPECT_GE(checked, 5);
}

TEST_P(Int8Pip, LogitsAndStateMatchPip) {
  const std::string d = rwkv::test::fixture(GetParam());
  StateDict ex = load_safetensors(d + "/expected_i8.safetensors");
  const std::vector<int32_t> tok = tokens_of(ex);
  const std::vector<float> ref = ex.at("logits").to_f32_vec();
  auto r = make_runner(load_model_file(d + "/model.pth"), d, strategy("cpu fp32i8"));
  const int64_t T = int64_t(tok.size()), V = r->vocab_size();
  ASSERT_EQ(int64_t(ref.size()), T * V);

  // GPT mode: all T tokens in one call (few-row kernel)
  std::vector<float> lg(size_t(T * V));
  RunnerState st = r->zero_state();
  r->forward(tok.data(), T, st, lg.data(), true);
  const double gpt = worst_position(lg, ref, T, V);
  EXPECT_LE(gpt, rwkv::test::tol::pip_int8_logits.rel) << "GPT mode";
  RecordProperty("gpt_worst_position_rel_err", std::to_string(gpt));
  std::printf("%s int8 logits vs pip fp32i8: worst position rel err GPT %.3g", GetParam(), gpt);

  // Final state vs the package's state list (v4: five per layer in our order; v5/v6: wkv transposed)
  const int per = std::string(GetParam()).find("rwkv4") != std::string::npos ? 5 : 3;
  for (size_t k = 0; k < st.size(); k++) {
    std::vector<float> mine = st.items[k].second.to_f32_vec();
    if (per == 3 && k % 3 == 1) {
      const Shape& s = st.items[k].second.shape;
      const int64_t H = s[0], N = s[1];
      std::vector<float> tr(mine.size());
      for (int64_t h = 0; h < H; h++)
        for (int64_t a = 0; a < N; a++)
          for (int64_t b = 0; b < N; b++) tr[(h * N + b) * N + a] = mine[(h * N + a) * N + b];
      mine = tr;
    }
    EXPECT_LE(rel_norm_err(mine, ex.at("pip_state." + std::to_string(k)).to_f32_vec()),
              rwkv::test::tol::pip_int8_logits.rel)
        << st.items[k].first;
  }

  // RNN mode: one token per call (the decode GEMV)
  RunnerState s1 = r->zero_state();
  std::vector<float> rnn(size_t(T * V));
  for (int64_t t = 0; t < T; t++) r->forward(tok.data() + t, 1, s1, rnn.data() + t * V, false);
  const double e_rnn = worst_position(rnn, ref, T, V);
  EXPECT_LE(e_rnn, rwkv::test::tol::pip_int8_logits.rel) << "RNN mode";
  std::printf(", RNN %.3g", e_rnn);

  // Prefill path: the tokens repeated past 64 rows in one call; the first T rows are the fixture's.
  std::vector<int32_t> longer;
  for (int k = 0; k < 4; k++) longer.insert(longer.end(), tok.begin(), tok.end());
  std::vector<float> big(longer.size() * size_t(V));
  RunnerState s2 = r->zero_state();
  r->forward(longer.data(), int64_t(longer.size()), s2, big.data(), true);
  big.resize(size_t(T * V));
  const double e_pre = worst_position(big, ref, T, V);
  EXPECT_LE(e_pre, rwkv::test::tol::pip_int8_logits.rel) << "prefill (sgemm) path";
  std::printf(", prefill %.3g\n", e_pre);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Int8Pip, ::testing::ValuesIn(kDirs));

// mm8_forward / gemv path vs fp64 on the exactly dequantized weights, for every kernel choice.
TEST(Int8Ops, ProductsMatchDequantizedReference) {
  std::mt19937 g(7);
  for (auto [N, K] : {std::pair<int64_t, int64_t>{37, 83}, {128, 512}, {300, 64}}) {
    std::vector<float> W = rwkv::test::rnd(size_t(N * K), g, -0.3f, 0.3f);
    std::vector<uint8_t> q(size_t(N * K));
    std::vector<float> mx(N), rx(N), my(K), ry(K);
    mm8_quantize(q.data(), mx.data(), rx.data(), my.data(), ry.data(), W.data(), N, K);
    const Mm8Weight w{q.data(), mx.data(), rx.data(), my.data(), ry.data(), N, K};
    std::vector<float> Wd(size_t(N * K));
    mm8_dequant_rows(Wd.data(), w, 0, N);
    for (int64_t o = 0; o < N; o++)  // W' stays within one 1/256 bin (plus rounding) of W
      for (int64_t i = 0; i < K; i++) ASSERT_NEAR(Wd[o * K + i], W[o * K + i], 0.6 * 0.6 / 255) << o << "," << i;
    for (int64_t M : {1, 3, 64, 65, 130}) {
      std::vector<float> x = rwkv::test::rnd(size_t(M * K), g), ref(size_t(M * N));
      for (int64_t m = 0; m < M; m++)
        for (int64_t o = 0; o < N; o++) {
          double s = 0;
          for (int64_t i = 0; i < K; i++) s += double(x[m * K + i]) * Wd[o * K + i];
          ref[m * N + o] = float(s);
        }
      std::vector<float> out(size_t(M * N), 1.f);
      mm8_forward(out.data(), x.data(), w, M);
      EXPECT_LE(rwkv::test::tol_excess(out, ref, rwkv::test::tol::fp32_gemv), 0) << "M=" << M << " N=" << N;
      // accumulate, and row invariance: each row alone gives the same bits as inside the batch
      std::vector<float> acc(size_t(M * N), 1.f);
      mm8_forward(acc.data(), x.data(), w, M, true);
      for (size_t j = 0; j < acc.size(); j++) ASSERT_NEAR(acc[j], out[j] + 1.f, 1e-5);
      RowInvariantScope ri(true);
      std::vector<float> all(static_cast<size_t>(M * N)), one(static_cast<size_t>(N));
      mm8_forward(all.data(), x.data(), w, M);
      for (int64_t m = 0; m < M; m++) {
        mm8_forward(one.data(), x.data() + m * K, w, 1);
        ASSERT_EQ(std::memcmp(one.data(), all.data() + m * N, size_t(N) * 4), 0) << "row " << m << " M=" << M;
      }
    }
  }
}

// The products' 4-row-grouped q (mm8_group_rows, what the weight store holds) gives the plain
// layout's bits in every path: decode rows (integer and fp32 kernels), few rows, prefill panels,
// the dequantized rows; the last N % 4 rows stay plain.
TEST(Int8Ops, GroupedRowsGiveThePlainBits) {
  std::mt19937 g(11);
  for (auto [N, K] : {std::pair<int64_t, int64_t>{39, 192}, {12, 768}, {4, 64}}) {
    ASSERT_TRUE(mm8_groupable(N, K));
    std::vector<float> W = rwkv::test::rnd(size_t(N * K), g, -0.3f, 0.3f);
    std::vector<uint8_t> q(size_t(N * K)), qg(size_t(N * K));
    std::vector<float> mx(N), rx(N), my(K), ry(K);
    mm8_quantize(q.data(), mx.data(), rx.data(), my.data(), ry.data(), W.data(), N, K);
    mm8_group_rows(qg.data(), q.data(), N, K);
    if (K > 64) ASSERT_NE(std::memcmp(q.data(), qg.data(), q.size()), 0);  // the layout moved bytes (K 64: the same)
    ASSERT_EQ(std::memcmp(q.data() + N / 4 * 4 * K, qg.data() + N / 4 * 4 * K, size_t(N % 4 * K)), 0);
    const Mm8Weight w{q.data(), mx.data(), rx.data(), my.data(), ry.data(), N, K};
    Mm8Weight wg = w;
    wg.q = qg.data(), wg.grouped = true;
    std::vector<float> d(size_t(N * K)), dg(size_t(N * K));
    mm8_dequant_rows(d.data(), w, 0, N);
    mm8_dequant_rows(dg.data(), wg, 0, N);
    ASSERT_EQ(std::memcmp(d.data(), dg.data(), d.size() * 4), 0) << "dequantized rows N=" << N << " K=" << K;
    for (int64_t M : {1, 3, 100}) {
      std::vector<float> x = rwkv::test::rnd(size_t(M * K), g), a(size_t(M * N)), b(size_t(M * N));
      mm8_forward(a.data(), x.data(), w, M);
      mm8_forward(b.data(), x.data(), wg, M);
      ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << "M=" << M << " N=" << N << " K=" << K;
    }
    // rows from a group boundary; an x with an infinity takes the fp32 kernel (with VNNI only its
    // inf / NaN pattern, which follows the zero bytes of q at that input, is comparable; without
    // VNNI every product above runs the fp32 kernel)
    std::vector<float> x = rwkv::test::rnd(size_t(K), g), buf(mm8_prep_floats(K));
    for (int inf = 0; inf < 2; inf++) {
      if (inf) x[5] = std::numeric_limits<float>::infinity();
      Mm8Vec v;
      mm8_prepare(v, buf.data(), x.data(), w);
      std::vector<float> a(size_t(N), 0.f), b(size_t(N), 0.f);
      mm8_rows(a.data(), v, w, 4, N, false);
      mm8_rows(b.data(), v, wg, 4, N, false);
      ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << "rows 4.., inf " << inf;
    }
  }
  EXPECT_FALSE(mm8_groupable(8, 96));  // K not a multiple of 64: stays plain
  EXPECT_FALSE(mm8_groupable(3, 64));
}

// 'cpu fp32 *1 -> cpu fp32i8' on an L2 model: layer 0 fp32, layer 1 and ln_out+head int8. Reference:
// the fp32 model with exactly those matrices replaced by their dequantized W'.
TEST(Int8Strategy, PerLayerMatchesReference) {
  const std::string d = rwkv::test::fixture("pip/rwkv6-L2-D128-V512");
  StateDict ex = load_safetensors(d + "/expected_i8.safetensors");
  const std::vector<int32_t> tok = tokens_of(ex);
  StateDict sd = load_model_file(d + "/model.pth");
  auto r = make_runner(sd, d, strategy("cpu fp32 *1 -> cpu fp32i8"));
  const auto& pl = r->engine().placement();
  ASSERT_EQ(pl.size(), 3u);
  EXPECT_EQ(pl[0].quant_bits, 0);
  EXPECT_EQ(pl[1].quant_bits, 8);
  EXPECT_EQ(pl[2].quant_bits, 8);

  StateDict refsd;
  int replaced = 0;
  for (const auto& [name, t] : sd.items) {
    const int layer = strategy_layer_of(name, 2);
    if (layer >= 1 && mm8_quantizable(name, t)) {
      StateDict qd;
      mm8_quantize_into(qd, name, t, DType::F32);
      const Tensor& q = qd.at(name);
      const Mm8Weight w{q.ptr<uint8_t>(), qd.at(name + "_mx").ptr<float>(), qd.at(name + "_rx").ptr<float>(),
                        qd.at(name + "_my").ptr<float>(), qd.at(name + "_ry").ptr<float>(), q.shape[0], q.shape[1]};
      Tensor wd = Tensor::empty(DType::F32, q.shape);
      mm8_dequant_rows(wd.ptr<float>(), w, 0, w.N);
      refsd.set(name, std::move(wd));
      replaced++;
    } else {
      refsd.set(name, t.to(DType::F32));
    }
  }
  EXPECT_EQ(replaced, 8 + 1);  // layer 1: att r, k, v, g, o and ffn k, r, v; the head
  auto ref = make_runner(std::move(refsd), d);
  const int64_t T = int64_t(tok.size()), V = r->vocab_size();
  std::vector<float> a(size_t(T * V)), b(size_t(T * V));
  RunnerState sa = r->zero_state(), sb = ref->zero_state();
  r->forward(tok.data(), T, sa, a.data(), true);
  ref->forward(tok.data(), T, sb, b.data(), true);
  const double e = worst_position(a, b, T, V);
  EXPECT_LE(e, rwkv::test::tol::pip_int8_logits.rel);
  // and it is not the all-int8 model: layer 0 stayed fp32
  std::vector<float> ref_all = ex.at("logits").to_f32_vec();
  EXPECT_GT(worst_position(a, ref_all, T, V), 1e-4);
  std::printf("'cpu fp32 *1 -> cpu fp32i8' vs per-layer reference: worst position rel err %.3g\n", e);
}

// RWKV-7 (no pip fixture: the package has no int8 for x070): int8 vs fp32 logits on the fixture model.
TEST(Int8Rwkv7, CloseToFp32) {
  auto f = rwkv::test::load_rwkv7_fixture();
  auto r32 = make_runner(f.model, "rwkv7");
  auto r8 = make_runner(f.model, "rwkv7", strategy("cpu fp32i8"));
  const int64_t T = f.T, V = r32->vocab_size();
  std::vector<float> a(size_t(T * V)), b(size_t(T * V));
  RunnerState sa = r32->zero_state(), sb = r8->zero_state();
  r32->forward(f.tokens.data(), T, sa, a.data(), true);
  r8->forward(f.tokens.data(), T, sb, b.data(), true);
  const double e = rel_norm_err(b, a);
  EXPECT_LE(e, rwkv::test::tol::int8_vs_fp32.rel);
  EXPECT_GT(e, 0.0);  // it did quantize
  RecordProperty("rwkv7_int8_vs_fp32_rel_err", std::to_string(e));
  std::printf("RWKV-7 int8 vs fp32 logits: relative error in norm %.3g\n", e);
}

}  // namespace
