// test_quant_bf16_prefill.cpp — int8 and q4 weights of a bf16 strategy stage (bf16i8 / bf16q4):
//  - prefill products (more than 64 rows) vs an fp64 reference on bf16(x) and bf16(W') where the
//    bf16 GEMM runs (ops/cpu/bf16_gemm.h), else on x and W' as the fp32 stage multiplies them; shapes
//    with one panel and with several (a narrower last one), with and without accumulate; up to 64
//    rows the same bits as the fp32 stage;
//  - the stage is read from the layer's other float tensors (model/weights.h): 'cpu bf16i8' and
//    'cpu bf16q4' mark their matrices, 'cpu fp32i8' and 'cpu fp32q4' do not, a two-stage strategy
//    marks only its bf16 layers;
//  - the RWKV-7 fixture model in bf16, bf16q4 and bf16i8 (their LoRAs' prefill products on the
//    bf16 GEMM too, model/rwkv7_block.h Rwkv7LayerMats::w2t): prefill logits vs the same with exact
//    products within tol::bf16_weights.
#include <cmath>
#include <cstring>
#include <random>

#include "engine/engine.h"
#include "engine/weight_placement.h"
#include "infer/runner.h"
#include "model/weights.h"
#include "ops/cpu/bf16_gemm.h"
#include "ops/mm8.h"
#include "ops/q4.h"
#include "test_rwkv7_fixture.h"
#include "test_util.h"

namespace {

using namespace rwkv;

float bf16_round(float v) { return bf16_to_f32(f32_to_bf16(v)); }

// out (M, N) vs the fp64 product of x (M, K) and Wd (N, K), both rounded to bf16 when `round`,
// on top of `init` when accumulating.
void check_against(const std::vector<float>& out, const std::vector<float>& init, const std::vector<float>& x,
                   const std::vector<float>& Wd, int64_t M, int64_t N, int64_t K, bool round, bool acc,
                   const std::string& what) {
  std::vector<float> ref(size_t(M * N));
  for (int64_t m = 0; m < M; m++)
    for (int64_t o = 0; o < N; o++) {
      double s = acc ? init[size_t(m * N + o)] : 0.0;
      for (int64_t k = 0; k < K; k++) {
        const float a = x[size_t(m * K + k)], w = Wd[size_t(o * K + k)];
        s += double(round ? bf16_round(a) : a) * double(round ? bf16_round(w) : w);
      }
      ref[size_t(m * N + o)] = float(s);
    }
  // sums of K products of unit-scale inputs: the absolute part grows with sqrt(K)
  const test::Tol t{test::tol::fp32_gemv.abs * std::sqrt(double(K)), test::tol::fp32_gemv.rel};
  EXPECT_LE(test::tol_excess(out, ref, t), 0.0) << what << " M=" << M << " N=" << N << " K=" << K << " acc=" << acc;
}

// Panels hold up to 2^20 / K rows, equal ones rounded up to 16 (ops/cpu/quant_matmul.h): K = 512,
// N = 2100 -> panels of 1056 and 1044 rows.
const std::pair<int64_t, int64_t> kShapes[] = {{37, 96}, {300, 160}, {2100, 512}};

// forward(out, x, M, acc, bf16_stage) on one quantized (N, K) matrix whose W' is Wd: up to 64 rows
// the stage changes no bit (decode, batched decode); past them, the reference of check_against.
template <class Forward>
void check_stage(Forward forward, const std::vector<float>& Wd, int64_t N, int64_t K, std::mt19937& g,
                 const char* what) {
  for (int64_t M : {3, 64, 65, 130})
    for (bool acc : {false, true}) {
      const std::vector<float> x = test::rnd(size_t(M * K), g), init = test::rnd(size_t(M * N), g);
      std::vector<float> a = init, b = init;
      forward(a.data(), x.data(), M, acc, true);
      forward(b.data(), x.data(), M, acc, false);
      if (M <= 64) {
        ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << what << " M=" << M;
        continue;
      }
      check_against(a, init, x, Wd, M, N, K, bf16_gemm_available(), acc, what);
    }
}

TEST(QuantBf16Prefill, Int8ProductsMatchReference) {
  std::mt19937 g(5);
  for (auto [N, K] : kShapes) {
    std::vector<float> W = test::rnd(size_t(N * K), g, -0.3f, 0.3f), Wd(size_t(N * K));
    std::vector<uint8_t> q(size_t(N * K));
    std::vector<float> mx(N), rx(N), my(K), ry(K);
    mm8_quantize(q.data(), mx.data(), rx.data(), my.data(), ry.data(), W.data(), N, K);
    const Mm8Weight w{q.data(), mx.data(), rx.data(), my.data(), ry.data(), N, K};
    mm8_dequant_rows(Wd.data(), w, 0, N);
    check_stage([&](float* out, const float* x, int64_t M, bool acc, bool bf16) {
      Mm8Weight ws = w;
      ws.bf16_prefill = bf16;
      mm8_forward(out, x, ws, M, acc);
    }, Wd, N, K, g, "int8 bf16 stage");
  }
}

TEST(QuantBf16Prefill, Q4ProductsMatchReference) {
  std::mt19937 g(6);
  for (auto [N, K] : kShapes) {
    std::vector<float> W = test::rnd(size_t(N * K), g, -0.3f, 0.3f), Wd(size_t(N * K));
    std::vector<uint8_t> q(size_t(N * K / 2)), packed(size_t(N * q4_row_bytes(K)));
    std::vector<uint16_t> d(size_t(N * K / 32)), m(size_t(N * K / 32));
    q4_quantize(q.data(), d.data(), m.data(), W.data(), N, K);
    q4_pack(packed.data(), q.data(), d.data(), m.data(), N, K);
    const Q4Weight w{packed.data(), N, K};
    q4_dequant_rows(Wd.data(), w, 0, N);
    check_stage([&](float* out, const float* x, int64_t M, bool acc, bool bf16) {
      Q4Weight ws = w;
      ws.bf16_prefill = bf16;
      q4_forward(out, x, ws, M, acc);
    }, Wd, N, K, g, "q4 bf16 stage");
  }
}

// The placed model's matrices as the layers read them: which are marked bf16-stage.
TEST(QuantBf16Prefill, StageReadFromTheLayersFloatTensors) {
  auto f = test::load_rwkv7_fixture();
  const std::string key0 = "blocks.0.att.key.weight", key1 = "blocks.1.ffn.value.weight";
  auto marks = [&](const std::string& strategy, const std::string& name) {
    WeightStore ws(place_weights(f.model, Strategy::parse(strategy).plan(2), "fixture"), "fixture");
    const Tensor& t = ws.at(name);
    const WeightMat m = ws.mat(name, t.shape[0], t.shape[1]);
    if (m.i8) return m.i8->bf16_prefill ? 1 : 0;
    if (m.q4) return m.q4->bf16_prefill ? 1 : 0;
    return -1;  // not quantized
  };
  EXPECT_EQ(marks("cpu bf16i8", key0), 1);
  EXPECT_EQ(marks("cpu bf16q4", key1), 1);
  EXPECT_EQ(marks("cpu bf16q4", "head.weight"), 1);
  EXPECT_EQ(marks("cpu fp32i8", key0), 0);
  EXPECT_EQ(marks("cpu fp32q4", "head.weight"), 0);
  EXPECT_EQ(marks("cpu fp32q4 *1 -> cpu bf16q4", key0), 0);
  EXPECT_EQ(marks("cpu fp32q4 *1 -> cpu bf16q4", key1), 1);
  EXPECT_EQ(marks("cpu bf16 *1 -> cpu fp32i8", key0), -1);
  EXPECT_EQ(marks("cpu bf16 *1 -> cpu fp32i8", key1), 0);
}

// Logits of the fixture's first sequence repeated past 64 tokens, all at once (the prefill
// products), in each bf16 stage, with the bf16 GEMM and with it switched off (x and W' exact): the
// same model tensors, only the products' bf16 rounding apart.
TEST(QuantBf16Prefill, FixtureModelPrefillCloseToExactProducts) {
  auto f = test::load_rwkv7_fixture();
  std::vector<int32_t> tok;
  while (tok.size() <= 64) tok.insert(tok.end(), f.tokens.begin(), f.tokens.begin() + f.T);
  const int64_t T = int64_t(tok.size());
  for (const char* s : {"cpu bf16", "cpu bf16q4", "cpu bf16i8"}) {
    EngineOptions o;
    o.strategy = Strategy::parse(s);
    auto r = make_runner(f.model, "fixture", o);
    const int64_t V = r->vocab_size();
    std::vector<float> bf(size_t(T * V)), exact(size_t(T * V));
    RunnerState s0 = r->zero_state(), s1 = r->zero_state();
    r->forward(tok.data(), T, s0, bf.data(), true);
    set_bf16_gemm_enabled(false);
    r->forward(tok.data(), T, s1, exact.data(), true);
    set_bf16_gemm_enabled(true);
    const double e = test::rel_norm_err(bf, exact);
    std::printf("%s: prefill on the bf16 GEMM vs exact products, relative error in norm %.3g\n", s, e);
    EXPECT_LE(e, test::tol::bf16_weights.rel) << s;
    if (bf16_gemm_available()) {
      EXPECT_GT(e, 1e-5) << s << ": the bf16 GEMM did not run";
    } else {
      EXPECT_EQ(e, 0.0) << s;
    }
  }
}

// A bf16 model's LoRAs on the bf16 GEMM in prefill (model/rwkv7_block.h Rwkv7LayerMats::w2t):
// model A holds the fixture in bf16 (its LoRA factors bf16, so they get the prefill copies); model
// B is A with each LoRA factor back in fp32 and one element moved by an fp32 ulp, so that they are
// no longer bf16 values: B's LoRAs take the fp32 products (activations exact), A's round theirs to
// bf16. Past 64 rows A and B differ by that rounding (far more than the ulps), within
// tol::bf16_weights; with the bf16 GEMM off both multiply exact activations and differ only by the
// ulps.
TEST(QuantBf16Prefill, Bf16LorasUseTheBf16Gemm) {
  auto f = test::load_rwkv7_fixture();
  std::vector<int32_t> tok;
  while (tok.size() <= 64) tok.insert(tok.end(), f.tokens.begin(), f.tokens.begin() + f.T);
  const int64_t T = int64_t(tok.size());
  StateDict a = convert_float_tensors(f.model, DType::BF16), b = a;
  int moved = 0;
  for (auto& [name, t] : b.items) {
    const std::string leaf = name.substr(name.rfind('.') + 1);
    if (name.find(".att.") == std::string::npos || leaf.size() != 2 || std::string("wavg").find(leaf[0]) == std::string::npos ||
        (leaf[1] != '1' && leaf[1] != '2'))
      continue;
    Tensor w = t.to(DType::F32);
    float* p = w.ptr<float>();
    p[0] = std::nextafter(p[0], 1e30f);
    t = std::move(w);
    moved++;
  }
  ASSERT_GE(moved, 7);  // w, a, g in each layer, v past layer 0
  auto logits = [&](const StateDict& sd) {
    auto r = make_runner(sd, "fixture");
    std::vector<float> out(size_t(T * r->vocab_size()));
    RunnerState s = r->zero_state();
    r->forward(tok.data(), T, s, out.data(), true);
    return out;
  };
  const double e_gemm = test::rel_norm_err(logits(a), logits(b));
  set_bf16_gemm_enabled(false);
  const double e_exact = test::rel_norm_err(logits(a), logits(b));
  set_bf16_gemm_enabled(true);
  std::printf("bf16 LoRAs vs fp32 ones in prefill: relative error in norm %.3g (bf16 GEMM), %.3g (off)\n", e_gemm, e_exact);
  EXPECT_LE(e_gemm, test::tol::bf16_weights.rel);
  EXPECT_LE(e_exact, 1e-5);
  if (bf16_gemm_available()) EXPECT_GT(e_gemm, 10 * e_exact + 1e-6) << "the LoRAs did not round to bf16";
}

}  // namespace
