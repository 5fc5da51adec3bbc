// test_strategy.cpp — pip-package strategy strings (engine/strategy.h): every example of the package's
// documentation (ChatRWKV rwkv_pip_package README, all its versions) planned for an L12 model (13 "layers",
// ln_out+head the last) and where it differs an L24 one, as the package's allocation loop does; strings
// its regex refuses give an error naming the stage; a cuda stage is refused at load naming it; the CLI
// takes --strategy and --dtype int8.
#include "engine/engine.h"
#include "engine/strategy.h"
#include "io/model_file.h"
#include "test_util.h"

namespace {

using namespace rwkv;

// One letter group per layer: device, dtype (+"i8"), "s" when streamed, e.g. "cuda fp16i8 s".
std::vector<std::string> layers(const std::string& s, int n_layer) {
  std::vector<std::string> out;
  for (const LayerPlacement& p : Strategy::parse(s).plan(n_layer))
    out.push_back(p.device + " " + dtype_name(p.atype) + (p.quant_bits ? "i" + std::to_string(p.quant_bits) : "") +
                  (p.stream ? " s" : ""));
  return out;
}
// n copies of x, then the rest.
std::vector<std::string> runs(std::initializer_list<std::pair<int, const char*>> r) {
  std::vector<std::string> v;
  for (auto& [n, x] : r) v.insert(v.end(), size_t(n), x);
  return v;
}

struct Example {
  const char* text;
  int n_layer;
  std::vector<std::string> want;
};

TEST(Strategy, PipDocumentationExamples) {
  const std::vector<Example> ex = {
      {"cpu fp32", 12, runs({{13, "cpu fp32"}})},
      {"cuda fp16", 12, runs({{13, "cuda fp16"}})},
      {"cuda fp16i8", 12, runs({{13, "cuda fp16i8"}})},
      {"cuda fp16 *6 -> cpu fp32", 12, runs({{6, "cuda fp16"}, {7, "cpu fp32"}})},
      {"cuda fp16i8 *10 -> cpu fp32", 12, runs({{10, "cuda fp16i8"}, {3, "cpu fp32"}})},
      // 10 + 8 >= 13: the second stage takes what is left, the cpu stage nothing (the package's break)
      {"cuda:0 fp16 *10 -> cuda:1 fp16 *8 -> cpu fp32", 12, runs({{10, "cuda:0 fp16"}, {3, "cuda:1 fp16"}})},
      {"cuda:0 fp16 *10 -> cuda:1 fp16 *8 -> cpu fp32", 24,
       runs({{10, "cuda:0 fp16"}, {8, "cuda:1 fp16"}, {7, "cpu fp32"}})},
      {"cuda fp16i8 *1 -> cuda fp16", 12, runs({{1, "cuda fp16i8"}, {12, "cuda fp16"}})},
      {"cuda fp16i8 *2 -> cuda fp16", 12, runs({{2, "cuda fp16i8"}, {11, "cuda fp16"}})},
      {"cuda fp16i8 *3 -> cuda fp16", 12, runs({{3, "cuda fp16i8"}, {10, "cuda fp16"}})},
      {"cuda fp16i8 -> cpu fp32 *1", 12, runs({{12, "cuda fp16i8"}, {1, "cpu fp32"}})},
      {"cuda fp16i8 -> cpu fp32 *2", 12, runs({{11, "cuda fp16i8"}, {2, "cpu fp32"}})},
      {"cuda fp16i8 -> cpu fp32 *3", 24, runs({{22, "cuda fp16i8"}, {3, "cpu fp32"}})},
      {"cuda fp16i8 *10+", 12, runs({{10, "cuda fp16i8"}, {3, "cuda fp16i8 s"}})},
      {"cuda fp16i8 *0+ -> cpu fp32 *1", 12, runs({{12, "cuda fp16i8 s"}, {1, "cpu fp32"}})},
      {"cuda fp16 *0+ -> cpu fp32 *1", 24, runs({{24, "cuda fp16 s"}, {1, "cpu fp32"}})},
      {"cuda fp16 *6+", 12, runs({{6, "cuda fp16"}, {7, "cuda fp16 s"}})},
      {"cuda fp16i8 *10 -> cuda fp16 *0+", 12, runs({{10, "cuda fp16i8"}, {3, "cuda fp16 s"}})},
      {"cuda fp16 *10+", 24, runs({{10, "cuda fp16"}, {15, "cuda fp16 s"}})},
      // the package's own doc strings for CPUs and the bf16 line
      {"cpu fp32i8", 12, runs({{13, "cpu fp32i8"}})},
      {"cpu bf16", 12, runs({{13, "cpu bf16"}})},
      // this per-layer check
      {"cpu fp32 *1 -> cpu fp32i8", 2, runs({{1, "cpu fp32"}, {2, "cpu fp32i8"}})},
      // two stages without a count share the rest, the remainder to the last
      {"cpu fp32 -> cpu bf16", 12, runs({{6, "cpu fp32"}, {7, "cpu bf16"}})},
  };
  for (const Example& e : ex) EXPECT_EQ(layers(e.text, e.n_layer), e.want) << e.text << " L" << e.n_layer;
}

TEST(Strategy, NormalisesSpacesAsThePackage) {
  EXPECT_EQ(Strategy::parse("  cuda fp16i8 *10+->cpu fp32  ").text, "cuda fp16i8 *10+ -> cpu fp32");
  const Strategy s = Strategy::parse("cuda:1 bf16i8 *3");
  ASSERT_EQ(s.stages.size(), 1u);
  EXPECT_EQ(s.stages[0].device, "cuda:1");
  EXPECT_EQ(s.stages[0].atype, DType::BF16);
  EXPECT_EQ(s.stages[0].quant_bits, 8);
  EXPECT_EQ(s.stages[0].count, 3);
  EXPECT_FALSE(s.stages[0].stream);
}

TEST(Strategy, InvalidStringsNameTheStage) {
  const std::vector<std::pair<const char*, const char*>> bad = {
      {"cpu", "stage 1 'cpu'"},
      {"cpu fp64", "stage 1 'cpu fp64' has dtype 'fp64'"},
      {"gpu fp16", "names device 'gpu'"},
      {"cpu  fp32", "single spaces"},
      {"cpu fp32 -> cuda fp16 *", "stage 2 'cuda fp16 *'"},
      {"cpu fp32 * 3", "stage 1"},
      {"cpu fp32*3", "has dtype 'fp32*3'"},
      {"cpu fp32 -> ", "stage 2 '' is empty"},
      {"cuda fp16 *x", "'*x'"},
      {"cuda:a fp16", "names device 'cuda:a'"},
      {"cpu fp16i9", "has dtype 'fp16i9'"},
      {"", "is empty"},
  };
  for (auto& [s, want] : bad) {
    const std::string err = rwkv::test::error_of([&] { Strategy::parse(s); });
    EXPECT_NE(err.find("[strategy]"), std::string::npos) << s << ": " << err;
    EXPECT_NE(err.find(want), std::string::npos) << s << ": " << err;
  }
  // the package divides by zero here: a "*0" stage takes the share meant for the free stage
  const std::string err = rwkv::test::error_of([] { Strategy::parse("cpu fp32 *0 -> cpu bf16").plan(12); });
  EXPECT_NE(err.find("stage 2 'cpu bf16'"), std::string::npos) << err;
}

TEST(Strategy, LayerOfTensor) {
  EXPECT_EQ(strategy_layer_of("emb.weight", 12), 0);
  EXPECT_EQ(strategy_layer_of("blocks.0.ln0.weight", 12), 0);
  EXPECT_EQ(strategy_layer_of("blocks.11.ffn.key.weight", 12), 11);
  EXPECT_EQ(strategy_layer_of("ln_out.bias", 12), 12);
  EXPECT_EQ(strategy_layer_of("head.weight", 12), 12);
}

TEST(StrategyEngine, CudaStageIsAClearError) {
  const std::string m = rwkv::test::fixture("pip/rwkv5-L2-D128-V512/model.pth");
  EngineOptions o;
  o.strategy = Strategy::parse("cuda fp16i8 *1 -> cpu fp32");
  const std::string err = rwkv::test::error_of([&] { Engine::load(m, o); });
  EXPECT_NE(err.find("[engine]"), std::string::npos) << err;
  EXPECT_NE(err.find("stage 1 'cuda fp16i8 *1'"), std::string::npos) << err;
  o.strategy = Strategy::parse("cpu fp32i4");
  EXPECT_NE(rwkv::test::error_of([&] { Engine::load(m, o); }).find("only i8"), std::string::npos);
}

// The CLI: --strategy on forward gives the package's fp32i8 logits; --dtype int8 is its shorthand;
// a cuda stage exits 1 naming the stage; --dtype with --strategy is refused.
TEST(StrategyCli, ForwardWithStrategy) {
  const std::string d = rwkv::test::fixture("pip/rwkv5-L2-D128-V512");
  StateDict ex = load_safetensors(d + "/expected_i8.safetensors");
  rwkv::test::TempDir tmp;
  StateDict in;
  in.set("tokens", ex.at("tokens").clone());
  save_safetensors(tmp / "tok.safetensors", in);
  const std::string base = "forward --model " + d + "/model.pth --tokens " + tmp / "tok.safetensors" + " --out ";
  for (const char* flag : {"--strategy 'cpu fp32i8'", "--dtype int8"}) {
    auto r = rwkv::test::run_cli(base + tmp / "out.safetensors " + flag);
    ASSERT_EQ(r.status, 0) << r.err;
    const std::vector<float> got = load_safetensors(tmp / "out.safetensors").at("logits").to_f32_vec();
    EXPECT_LE(rwkv::test::rel_norm_err(got, ex.at("logits").to_f32_vec()), rwkv::test::tol::pip_int8_logits.rel) << flag;
  }
  auto r = rwkv::test::run_cli(base + tmp / "x.safetensors --strategy 'cuda fp16 *1 -> cpu fp32'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("stage 1 'cuda fp16 *1'"), std::string::npos) << r.err;
  r = rwkv::test::run_cli(base + tmp / "x.safetensors --strategy 'cpu fp32' --dtype bf16");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--dtype and --strategy"), std::string::npos) << r.err;
}

}  // namespace
