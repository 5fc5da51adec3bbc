// test_gemv.cpp — gemv_forward / linear_forward_any with fp32, bf16 and fp16 weights against an
// fp64 reference on the same (widened) weights, over shapes that hit every SIMD tail; past
// gemm_rows_max_m rows, bf16 weights multiply bf16-rounded inputs where ops/cpu/bf16_gemm.h runs
// (the reference rounds them too), and the exact inputs with it switched off.
#include <omp.h>

#include <cmath>
#include <optional>
#include <random>

#include "core/dtype.h"
#include "core/tensor.h"
#include "ops/cpu/bf16_gemm.h"
#include "ops/gemm_rows.h"
#include "ops/gemv.h"
#include "test_util.h"

using namespace rwkv;

static void check_linear(DType dt, int64_t M, int64_t K, int64_t N, bool acc) {
  std::mt19937 g(unsigned(M * 1000003 + K * 1009 + N));
  std::normal_distribution<float> nd(0.f, 1.f);
  Tensor w32 = Tensor::empty(DType::F32, {N, K});
  for (int64_t i = 0; i < N * K; i++) w32.ptr<float>()[i] = nd(g);
  Tensor w = w32.to(dt);
  std::vector<float> wf = w.to_f32_vec();  // the weights as stored, widened
  std::vector<float> x(M * K), out(M * N), ref(M * N);
  for (auto& v : x) v = nd(g);
  for (auto& v : out) v = nd(g);
  // the inputs as the chosen path multiplies them (ops/gemv.h linear_forward_any)
  const bool x_bf16 = dt == DType::BF16 && M > gemm_rows_max_m(dt) && bf16_gemm_available();
  std::vector<float> xr(x);
  if (x_bf16)
    for (auto& v : xr) v = bf16_to_f32(f32_to_bf16(v));
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < N; n++) {
      double s = acc ? out[m * N + n] : 0.0;
      for (int64_t k = 0; k < K; k++) s += double(wf[n * K + k]) * xr[m * K + k];
      ref[m * N + n] = float(s);
    }
  linear_forward_any(out.data(), x.data(), w.data, dt, M, K, N, acc);
  // scale the absolute part by sqrt(K): sums of K unit-variance products
  test::Tol t{test::tol::fp32_gemv.abs * std::sqrt(double(K)), test::tol::fp32_gemv.rel};
  EXPECT_LE(test::tol_excess(out, ref, t), 0.0)
      << dtype_name(dt) << " M=" << M << " K=" << K << " N=" << N << " acc=" << acc;
}

TEST(Gemv, MatchesReferenceAllDtypesAndTails) {
  for (DType dt : {DType::F32, DType::BF16, DType::F16})
    for (int64_t K : {1, 7, 16, 33, 100, 768})
      for (int64_t N : {1, 3, 4, 5, 64, 67, 300})
        for (bool acc : {false, true}) check_linear(dt, 1, K, N, acc);
}

TEST(Gemv, LinearBatchedPanels) {
  for (DType dt : {DType::F32, DType::BF16, DType::F16})
    for (int64_t M : {2, 5, 17})
      for (bool acc : {false, true}) check_linear(dt, M, 130, 2000, acc);
  check_linear(DType::BF16, 8, 1500, 1100, false);  // more than one scratch panel
}

// Few rows with K a multiple of 16: the gemm_rows kernel (tile edges in M and N, blocks of 64
// rows of W, both sides of gemm_rows_max_m) and, past it, sgemm / widened panels.
TEST(Gemv, LinearFewRowsKernelTilesAndEdges) {
  for (DType dt : {DType::F32, DType::BF16, DType::F16})
    for (int64_t M : {2, 3, 16, 33, 64, 65})
      for (int64_t N : {1, 7, 9, 65, 300})
        for (bool acc : {false, true}) check_linear(dt, M, 48, N, acc);
  check_linear(DType::BF16, 16, 768, 1000, true);
  check_linear(DType::F32, 16, 3072, 130, false);
}

// Prefill-sized products with bf16 weights on odd shapes, through ops/cpu/bf16_gemm.h where it
// runs (rounded inputs) and through the widened-sgemm path with it off (exact inputs).
TEST(Gemv, LinearBf16PrefillOddShapes) {
  for (bool on : {true, false}) {
    set_bf16_gemm_enabled(on);
    for (int64_t M : {65, 100, 257})
      for (int64_t K : {1, 7, 33, 100, 768})
        for (int64_t N : {1, 3, 67, 300})
          for (bool acc : {false, true}) check_linear(DType::BF16, M, K, N, acc);
  }
  set_bf16_gemm_enabled(true);
}

TEST(Gemv, RejectsIntegerWeights) {
  std::vector<float> x(4), y(4);
  std::vector<int32_t> w(16);
  EXPECT_THROW(gemv_forward(y.data(), x.data(), w.data(), DType::I32, 4, 4), std::exception);
}

// Several products of different dtypes and sizes (LoRA-like short K among them) in one
// gemv_batch: each as the fp64 reference.
TEST(Gemv, BatchOfMixedJobsMatchesReference) {
  std::mt19937 g(11);
  std::normal_distribution<float> nd(0.f, 1.f);
  struct Case { DType dt; int64_t N, K; bool acc; };
  const std::vector<Case> cases = {{DType::BF16, 768, 256, false}, {DType::F32, 32, 768, false},
                                   {DType::F16, 300, 100, true},   {DType::BF16, 64, 768, true},
                                   {DType::BF16, 5, 33, false},    {DType::BF16, 768, 64, true},
                                   {DType::F32, 200, 32, false},   {DType::F16, 70, 7, true}};
  std::vector<Tensor> ws;
  std::vector<std::vector<float>> xs, ys, refs;
  std::vector<GemvJob> jobs;
  for (const Case& c : cases) {
    Tensor w32 = Tensor::empty(DType::F32, {c.N, c.K});
    for (int64_t i = 0; i < c.N * c.K; i++) w32.ptr<float>()[i] = nd(g);
    ws.push_back(w32.to(c.dt));
    std::vector<float> wf = ws.back().to_f32_vec(), x(c.K), y(c.N), ref(c.N);
    for (auto& v : x) v = nd(g);
    for (auto& v : y) v = nd(g);
    for (int64_t n = 0; n < c.N; n++) {
      double s = c.acc ? y[n] : 0.0;
      for (int64_t k = 0; k < c.K; k++) s += double(wf[n * c.K + k]) * x[k];
      ref[n] = float(s);
    }
    xs.push_back(std::move(x)), ys.push_back(std::move(y)), refs.push_back(std::move(ref));
  }
  for (size_t i = 0; i < cases.size(); i++)
    jobs.push_back({ys[i].data(), xs[i].data(), ws[i].data, cases[i].dt, cases[i].N, cases[i].K, cases[i].acc});
  gemv_batch(jobs.data(), int(jobs.size()));
  for (size_t i = 0; i < cases.size(); i++) {
    test::Tol t{test::tol::fp32_gemv.abs * std::sqrt(double(cases[i].K)), test::tol::fp32_gemv.rel};
    EXPECT_LE(test::tol_excess(ys[i], refs[i], t), 0.0) << "job " << i;
  }
}

// Jobs whose W is (K, N) in column tiles of 64 (GemvJob::tiles64, the RWKV-7 LoRA second factors
// in decode), next to a row job in one gemv_batch: each as the fp64 reference of x @ W; full
// tiles and a partial last one, every float dtype, with and without accumulate.
TEST(Gemv, Tiles64JobsMatchReference) {
  std::mt19937 g(12);
  std::normal_distribution<float> nd(0.f, 1.f);
  struct Case { DType dt; int64_t N, K; bool acc; };
  const std::vector<Case> cases = {{DType::BF16, 768, 64, true}, {DType::F32, 100, 32, false},
                                   {DType::F16, 130, 7, true},   {DType::BF16, 64, 128, false},
                                   {DType::F32, 3, 5, true}};
  std::vector<std::vector<uint8_t>> tiled;
  std::vector<std::vector<float>> xs, ys, refs;
  std::vector<GemvJob> jobs;
  for (const Case& c : cases) {
    Tensor w32 = Tensor::empty(DType::F32, {c.K, c.N});
    for (int64_t i = 0; i < c.N * c.K; i++) w32.ptr<float>()[i] = nd(g);
    const Tensor w = w32.to(c.dt);
    const std::vector<float> wf = w.to_f32_vec();  // (K, N) as stored, widened
    tiled.emplace_back(size_t(c.N * c.K) * dtype_size(c.dt));
    gemv_tiles64_layout(tiled.back().data(), w.data, c.K, c.N, dtype_size(c.dt));
    std::vector<float> x(c.K), y(c.N), ref(c.N);
    for (auto& v : x) v = nd(g);
    for (auto& v : y) v = nd(g);
    for (int64_t n = 0; n < c.N; n++) {
      double s = c.acc ? y[n] : 0.0;
      for (int64_t k = 0; k < c.K; k++) s += double(wf[k * c.N + n]) * x[k];
      ref[n] = float(s);
    }
    xs.push_back(std::move(x)), ys.push_back(std::move(y)), refs.push_back(std::move(ref));
  }
  for (size_t i = 0; i < cases.size(); i++) {
    jobs.push_back({ys[i].data(), xs[i].data(), tiled[i].data(), cases[i].dt, cases[i].N, cases[i].K, cases[i].acc});
    jobs.back().tiles64 = true;
  }
  // and a row job (W (N, K)) in the same region
  Tensor wr = Tensor::empty(DType::F32, {300, 40});
  for (int64_t i = 0; i < 300 * 40; i++) wr.ptr<float>()[i] = nd(g);
  std::vector<float> xr(40), yr(300), refr(300);
  for (auto& v : xr) v = nd(g);
  for (int64_t n = 0; n < 300; n++) {
    double s = 0;
    for (int64_t k = 0; k < 40; k++) s += double(wr.ptr<float>()[n * 40 + k]) * xr[k];
    refr[n] = float(s);
  }
  jobs.push_back({yr.data(), xr.data(), wr.data, DType::F32, 300, 40});
  gemv_batch(jobs.data(), int(jobs.size()));
  for (size_t i = 0; i < cases.size(); i++) {
    test::Tol t{test::tol::fp32_gemv.abs * std::sqrt(double(cases[i].K)), test::tol::fp32_gemv.rel};
    EXPECT_LE(test::tol_excess(ys[i], refs[i], t), 0.0) << "tiles64 job " << i;
  }
  EXPECT_LE(test::tol_excess(yr, refr, test::Tol{test::tol::fp32_gemv.abs * std::sqrt(40.0), test::tol::fp32_gemv.rel}), 0.0);
}

// LoRA tasks (GemvLora) next to a row job in one gemv_batch: y = bias + act(W1 x) @ W2 with the
// second factor in column tiles, vs the fp64 reference; with and without activation and bias,
// bf16 and fp32 factors, and the serial path (one thread).
TEST(Gemv, LoraTasksMatchReference) {
  std::mt19937 g(13);
  std::normal_distribution<float> nd(0.f, 1.f);
  const int64_t C = 200;
  struct Case { DType dt; int64_t D; std::optional<Act> act; bool bias; };
  const std::vector<Case> cases = {{DType::BF16, 64, Act::Tanh, true}, {DType::F32, 32, std::nullopt, false},
                                   {DType::BF16, 128, Act::Sigmoid, false}, {DType::F16, 16, std::nullopt, true}};
  for (int threads : {2, 1}) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    std::vector<Tensor> w1s, w2s;
    std::vector<std::vector<uint8_t>> tiles;
    std::vector<std::vector<float>> xs(cases.size()), hs(cases.size()), ys(cases.size()), biases(cases.size()),
        refs(cases.size());
    std::vector<GemvLora> loras;
    for (size_t i = 0; i < cases.size(); i++) {
      const Case& c = cases[i];
      Tensor a = Tensor::empty(DType::F32, {c.D, C}), b = Tensor::empty(DType::F32, {c.D, C});
      for (int64_t j = 0; j < c.D * C; j++) a.ptr<float>()[j] = nd(g) * 0.1f, b.ptr<float>()[j] = nd(g);
      w1s.push_back(a.to(c.dt)), w2s.push_back(b.to(c.dt));  // W1 (D, C) rows; W2 (D, C) = (K, N)
      tiles.emplace_back(size_t(c.D * C) * dtype_size(c.dt));
      gemv_tiles64_layout(tiles.back().data(), w2s.back().data, c.D, C, dtype_size(c.dt));
      xs[i].resize(C), hs[i].resize(c.D), ys[i].resize(C), biases[i].resize(C), refs[i].resize(C);
      for (auto& v : xs[i]) v = nd(g);
      for (auto& v : biases[i]) v = nd(g);
      for (auto& v : ys[i]) v = nd(g);  // overwritten (no bias: not accumulated)
      const std::vector<float> f1 = w1s.back().to_f32_vec(), f2 = w2s.back().to_f32_vec();
      std::vector<double> h(c.D);
      for (int64_t d = 0; d < c.D; d++) {
        double s = 0;
        for (int64_t k = 0; k < C; k++) s += double(f1[d * C + k]) * xs[i][k];
        h[d] = !c.act ? s : *c.act == Act::Tanh ? std::tanh(s) : 1 / (1 + std::exp(-s));
      }
      for (int64_t n = 0; n < C; n++) {
        double s = c.bias ? biases[i][n] : 0.0;
        for (int64_t d = 0; d < c.D; d++) s += h[d] * f2[d * C + n];
        refs[i][n] = float(s);
      }
      GemvLora l{{hs[i].data(), xs[i].data(), w1s.back().data, c.dt, c.D, C},
                 {ys[i].data(), hs[i].data(), tiles.back().data(), c.dt, C, c.D, c.bias},
                 c.act,
                 c.bias ? biases[i].data() : nullptr};
      l.second.tiles64 = true;
      loras.push_back(l);
    }
    Tensor wr = Tensor::empty(DType::F32, {300, 150});
    for (int64_t j = 0; j < 300 * 150; j++) wr.ptr<float>()[j] = nd(g);
    std::vector<float> xr(150), yr(300), refr(300);
    for (auto& v : xr) v = nd(g);
    for (int64_t n = 0; n < 300; n++) {
      double s = 0;
      for (int64_t k = 0; k < 150; k++) s += double(wr.ptr<float>()[n * 150 + k]) * xr[k];
      refr[n] = float(s);
    }
    const GemvJob row{yr.data(), xr.data(), wr.data, DType::F32, 300, 150};
    gemv_batch(&row, 1, loras.data(), int(loras.size()));
    omp_set_num_threads(saved);
    for (size_t i = 0; i < cases.size(); i++) {
      // h's fp32 rounding carried through W2: sums of D unit products
      test::Tol t{test::tol::fp32_gemv.abs * std::sqrt(double(cases[i].D * C)), test::tol::fp32_gemv.rel};
      EXPECT_LE(test::tol_excess(ys[i], refs[i], t), 0.0) << "LoRA " << i << " threads " << threads;
    }
    EXPECT_LE(test::tol_excess(yr, refr, test::Tol{test::tol::fp32_gemv.abs * std::sqrt(150.0), test::tol::fp32_gemv.rel}), 0.0);
  }
}
