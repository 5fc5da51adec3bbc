// test_q4.cpp — 4-bit weights per block of 32 (ops/q4.h, strategy dtype "fp32q4", --dtype q4):
//  - quantization: every weight within half a step (plus the fp16 rounding of scale and offset) of W;
//    non-finite weights refused;
//  - products vs an fp64 reference on the same W' (and, up to 64 rows or row-invariant, the same
//    int8-quantized x), for every kernel choice, K with and without a partial group of blocks;
//    rows bit-identical alone and inside a batch; the gemv_batch path bit-identical to q4_forward;
//  - the fixture models (RWKV-7, pip RWKV-4/5/6) in q4 vs fp32: logits relative error reported and
//    bounded by tol::q4_vs_fp32, GPT mode, token by token and through the prefill path;
//  - strategy 'cpu fp32 *1 -> cpu fp32q4' places q4 only on layer 1 and the head.
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/weight_placement.h"
#include "infer/runner.h"
#include "io/model_file.h"
#include "model/weights.h"
#include "ops/gemv.h"
#include "ops/q4.h"
#include "ops/row_invariant.h"
#include "test_rwkv7_fixture.h"
#include "test_util.h"

namespace {

using namespace rwkv;
using rwkv::test::rel_norm_err;

struct Q4Mat {
  std::vector<uint8_t> q, packed;  // stored form (N, K/2), packed rows
  std::vector<uint16_t> d, m;
  Q4Weight w;
  Q4Mat(const std::vector<float>& W, int64_t N, int64_t K)
      : q(size_t(N * K / 2)), packed(size_t(N * q4_row_bytes(K))), d(size_t(N * K / 32)), m(size_t(N * K / 32)) {
    q4_quantize(q.data(), d.data(), m.data(), W.data(), N, K);
    q4_pack(packed.data(), q.data(), d.data(), m.data(), N, K);
    w = Q4Weight{packed.data(), N, K};
  }
};

// x quantized as the kernels do (per block of 32: dx = max|x| / 127, round to nearest), dequantized.
std::vector<float> quantized_x(const float* x, int64_t K) {
  std::vector<float> out(static_cast<size_t>(K));
  for (int64_t b = 0; b < K / 32; b++) {
    float amax = 0;
    for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float dx = amax / 127.f, inv = amax > 0 ? 127.f / amax : 0.f;
    for (int j = 0; j < 32; j++) out[size_t(b * 32 + j)] = std::nearbyint(x[b * 32 + j] * inv) * dx;
  }
  return out;
}

TEST(Q4Ops, QuantizeWithinHalfStep) {
  std::mt19937 g(3);
  const int64_t N = 50, K = 160;
  std::vector<float> W = rwkv::test::rnd(size_t(N * K), g, -0.4f, 0.3f);
  for (int64_t k = 0; k < 32; k++) W[size_t(k)] = 0.125f;  // a constant block: scale 0, exact
  Q4Mat q(W, N, K);
  std::vector<float> Wd(size_t(N * K));
  q4_dequant_rows(Wd.data(), q.w, 0, N);
  for (int64_t k = 0; k < 32; k++) ASSERT_EQ(Wd[size_t(k)], 0.125f);
  double worst = 0;
  for (int64_t o = 0; o < N; o++)
    for (int64_t b = 0; b < K / 32; b++) {
      float lo = 1e9f, hi = -1e9f;
      for (int j = 0; j < 32; j++) lo = std::min(lo, W[o * K + b * 32 + j]), hi = std::max(hi, W[o * K + b * 32 + j]);
      const double step = (hi - lo) / 15.0;
      for (int j = 0; j < 32; j++) {
        const double e = std::fabs(Wd[o * K + b * 32 + j] - W[o * K + b * 32 + j]);
        worst = std::max(worst, e / step);
        ASSERT_LE(e, 0.5 * step * (1 + 2e-3) + 1e-3 * std::fabs(lo)) << o << "," << b << "," << j;
      }
    }
  EXPECT_GT(worst, 0.3);  // it did round
  W[size_t(5 * K + 7)] = std::numeric_limits<float>::quiet_NaN();
  const std::string err = rwkv::test::error_of([&] { Q4Mat bad(W, N, K); });
  EXPECT_NE(err.find("[ops] q4: weight [5, 7] is nan"), std::string::npos) << err;
  const std::string err2 = rwkv::test::error_of([&] { Q4Mat bad(W, N, 80); });
  EXPECT_NE(err2.find("multiple of 32"), std::string::npos) << err2;
}

TEST(Q4Ops, ProductsMatchReference) {
  std::mt19937 g(7);
  // packed groups (ops/q4.h): K = 96: 3 single blocks; 256: one group of 8; 512: one of 16;
  // 864: 16 + 8 + 3; 1536: three of 16; 160: 5 single blocks
  for (auto [N, K] : {std::pair<int64_t, int64_t>{37, 96}, {9, 256}, {128, 512}, {21, 864}, {6, 1536}, {300, 160}}) {
    std::vector<float> W = rwkv::test::rnd(size_t(N * K), g, -0.3f, 0.3f);
    Q4Mat q(W, N, K);
    std::vector<float> Wd(size_t(N * K));
    q4_dequant_rows(Wd.data(), q.w, 0, N);
    for (int64_t M : {1, 3, 64, 65, 130}) {
      std::vector<float> x = rwkv::test::rnd(size_t(M * K), g);
      auto reference = [&](bool quantize_x) {
        std::vector<float> ref(size_t(M * N));
        for (int64_t m = 0; m < M; m++) {
          std::vector<float> xq = quantized_x(x.data() + m * K, K);
          for (int64_t o = 0; o < N; o++) {
            double s = 0;
            for (int64_t b = 0; b < K / 32; b++) {
              // the scale part on the quantized x, the offset part on x itself (ops/q4.h)
              const double mf = f16_to_f32(q.m[size_t(o * (K / 32) + b)]);
              for (int j = 0; j < 32; j++) {
                const int64_t k = b * 32 + j;
                const double xv = quantize_x ? xq[size_t(k)] : x[size_t(m * K + k)];
                s += (double(Wd[o * K + k]) - mf) * xv + mf * x[size_t(m * K + k)];
              }
            }
            ref[size_t(m * N + o)] = float(s);
          }
        }
        return ref;
      };
      const std::vector<float> ref_q = reference(true), ref_plain = reference(false);
      std::vector<float> out(size_t(M * N), 1.f);
      q4_forward(out.data(), x.data(), q.w, M);
      EXPECT_LE(rwkv::test::tol_excess(out, M <= 64 ? ref_q : ref_plain, rwkv::test::tol::fp32_gemv), 0)
          << "M=" << M << " N=" << N << " K=" << K;
      // x's int8 quantization itself: small next to the weights' 4 bits
      EXPECT_LE(rel_norm_err(ref_q, ref_plain), 2e-2) << "M=" << M;
      std::vector<float> acc(size_t(M * N), 1.f);
      q4_forward(acc.data(), x.data(), q.w, M, true);
      for (size_t j = 0; j < acc.size(); j++) ASSERT_NEAR(acc[j], out[j] + 1.f, 1e-5);
      // a row alone gives the same bits as inside the batch: always up to 64 rows, any M row-invariant
      for (bool ri : {false, true}) {
        RowInvariantScope scope(ri);
        if (!ri && M > 64) continue;
        std::vector<float> all(static_cast<size_t>(M * N)), one(static_cast<size_t>(N));
        q4_forward(all.data(), x.data(), q.w, M);
        if (ri) {
          EXPECT_LE(rwkv::test::tol_excess(all, ref_q, rwkv::test::tol::fp32_gemv), 0) << "row-invariant M=" << M;
        }
        for (int64_t m = 0; m < M; m++) {
          q4_forward(one.data(), x.data() + m * K, q.w, 1);
          ASSERT_EQ(std::memcmp(one.data(), all.data() + m * N, size_t(N) * 4), 0) << "row " << m << " M=" << M;
        }
      }
      // the decode batch path (ops/gemv.h) gives q4_forward's bits
      std::vector<float> y1(static_cast<size_t>(N)), y2(static_cast<size_t>(N));
      q4_forward(y1.data(), x.data(), q.w, 1);
      GemvJob job{y2.data(), x.data(), q.packed.data(), DType::U8, N, K};
      job.q4 = &q.w;
      gemv_batch(&job, 1);
      ASSERT_EQ(std::memcmp(y1.data(), y2.data(), size_t(N) * 4), 0) << "gemv_batch N=" << N;
    }
  }
}

EngineOptions strategy(const std::string& s) {
  EngineOptions o;
  o.strategy = Strategy::parse(s);
  return o;
}

// logits (T, V) of all T tokens at once (GPT mode), token by token (RNN), and the first T of the
// tokens repeated past 64 rows (prefill path).
struct Modes {
  std::vector<float> gpt, rnn, prefill;
};
Modes run_modes(Runner& r, const std::vector<int32_t>& tok) {
  const int64_t T = int64_t(tok.size()), V = r.vocab_size();
  Modes out;
  out.gpt.resize(size_t(T * V));
  RunnerState s0 = r.zero_state();
  r.forward(tok.data(), T, s0, out.gpt.data(), true);
  out.rnn.resize(size_t(T * V));
  RunnerState s1 = r.zero_state();
  for (int64_t t = 0; t < T; t++) r.forward(tok.data() + t, 1, s1, out.rnn.data() + t * V, false);
  std::vector<int32_t> longer;
  while (longer.size() <= 64) longer.insert(longer.end(), tok.begin(), tok.end());
  out.prefill.resize(longer.size() * size_t(V));
  RunnerState s2 = r.zero_state();
  r.forward(longer.data(), int64_t(longer.size()), s2, out.prefill.data(), true);
  out.prefill.resize(size_t(T * V));
  return out;
}

// q4 vs fp32 logits on one fixture model (relative error in norm over all positions).
void check_model(const StateDict& sd, const std::string& name, const std::vector<int32_t>& tok) {
  auto r32 = make_runner(sd, name);
  auto r4 = make_runner(sd, name, strategy("cpu fp32q4"));
  const Modes a = run_modes(*r32, tok), b = run_modes(*r4, tok);
  const double gpt = rel_norm_err(b.gpt, a.gpt), rnn = rel_norm_err(b.rnn, a.rnn), pre = rel_norm_err(b.prefill, a.prefill);
  std::printf("%s q4 vs fp32 logits: relative error in norm GPT %.4f, RNN %.4f, prefill %.4f\n", name.c_str(), gpt, rnn, pre);
  for (double e : {gpt, rnn, pre}) {
    EXPECT_LE(e, rwkv::test::tol::q4_vs_fp32.rel) << name;
    EXPECT_GT(e, 1e-3) << name << ": it did quantize";
  }
  // GPT mode (few rows) and token by token take the same kernel: the same numbers up to the
  // fp32 rounding of the model's own sequence ops, moved through x's int8 rounding
  const double modes = rel_norm_err(b.rnn, b.gpt);
  std::printf("  q4 token by token vs GPT mode: %.3g\n", modes);
  EXPECT_LE(modes, rwkv::test::tol::q4_modes.rel) << name;
}

TEST(Q4Models, CloseToFp32) {
  auto f = rwkv::test::load_rwkv7_fixture();
  std::vector<int32_t> tok(f.tokens.begin(), f.tokens.begin() + f.T);  // the first sequence
  check_model(f.model, "rwkv7-L2-D128-V512", tok);
  for (const char* d : {"pip/rwkv4-L2-D128-V512", "pip/rwkv5-L2-D128-V512", "pip/rwkv6-L2-D128-V512"}) {
    const std::string dir = rwkv::test::fixture(d);
    std::vector<int32_t> t;
    for (float x : load_safetensors(dir + "/expected_i8.safetensors").at("tokens").to_f32_vec()) t.push_back(int32_t(x));
    check_model(load_model_file(dir + "/model.pth"), d, t);
  }
}

TEST(Q4Strategy, PerLayerPlacement) {
  const Strategy s = Strategy::parse("cpu fp32 *1 -> cpu bf16q4");
  ASSERT_EQ(s.stages.size(), 2u);
  EXPECT_TRUE(s.stages[1].q4);
  EXPECT_EQ(s.stages[1].atype, DType::BF16);
  EXPECT_EQ(s.stages[1].quant_bits, 0);
  const std::string d = rwkv::test::fixture("pip/rwkv6-L2-D128-V512");
  StateDict sd = load_model_file(d + "/model.pth");
  auto r = make_runner(sd, d, strategy("cpu fp32 *1 -> cpu fp32q4"));
  const auto& pl = r->engine().placement();
  ASSERT_EQ(pl.size(), 3u);
  EXPECT_FALSE(pl[0].q4);
  EXPECT_TRUE(pl[1].q4);
  EXPECT_TRUE(pl[2].q4);
  StateDict placed = place_weights(sd, Strategy::parse("cpu fp32 *1 -> cpu fp32q4").plan(2), d);
  EXPECT_EQ(placed.at("blocks.0.att.key.weight").dtype, DType::F32);
  EXPECT_EQ(placed.at("blocks.1.att.key.weight").dtype, DType::U8);
  EXPECT_EQ(placed.at("blocks.1.att.key.weight").shape, (Shape{128, 64}));
  EXPECT_EQ(placed.at("blocks.1.att.key.weight_q4d").shape, (Shape{128, 4}));
  EXPECT_EQ(placed.at("head.weight").dtype, DType::U8);
  EXPECT_EQ(placed.at("emb.weight").dtype, DType::F32);
  EXPECT_TRUE(is_q4_matrix(placed, "head.weight"));
  EXPECT_FALSE(is_q4_matrix(placed, "blocks.0.att.key.weight"));
}

}  // namespace
