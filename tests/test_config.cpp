// test_config.cpp — architecture detection and sizes for every fixture, and the errors for
// unknown, mixed and mis-shaped layouts.
#include "core/error.h"
#include "io/model_file.h"
#include "model/config.h"
#include "test_util.h"

using namespace rwkv;
using namespace rwkv::test;

TEST(Config, X070Fixture) {
  StateDict sd = load_pth(fixture("rwkv7-L2-D128-V512/model.pth"));
  ModelConfig c = detect_config(sd, "m");
  EXPECT_EQ(c.arch, Arch::RWKV7);
  EXPECT_STREQ(arch_name(c.arch), "x070");
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.n_embd, 128);
  EXPECT_EQ(c.head_size, 64);
  EXPECT_EQ(c.n_head, 2);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.dim_att, 128);
  EXPECT_EQ(c.dim_ffn, 512);
  EXPECT_EQ(c.d_decay, 32);
  EXPECT_EQ(c.d_aaa, 32);
  EXPECT_EQ(c.d_mv, 32);
  EXPECT_EQ(c.d_gate, 64);
  EXPECT_EQ(c.n_params, 611584);
  ModelConfig d = x070_config(2, 128, 512);
  EXPECT_EQ(d.n_params, 611584);
  EXPECT_EQ(d.d_gate, 64);
  EXPECT_NO_THROW(require_arch(c, Arch::RWKV7, "m"));
}

TEST(Config, TrajInitMatchesFreshConfigAndOfficialOrder) {
  StateDict sd = load_pth(fixture("traj-demo-L4-D256-bytes/rwkv-init.pth"));
  ModelConfig c = detect_config(sd, "init");
  ModelConfig d = x070_config(4, 256, 256);
  EXPECT_EQ(c.n_layer, 4);
  EXPECT_EQ(c.n_embd, 256);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.vocab_size, 256);
  EXPECT_EQ(c.dim_ffn, 1024);
  EXPECT_EQ(c.d_decay, d.d_decay);
  EXPECT_EQ(c.d_aaa, d.d_aaa);
  EXPECT_EQ(c.d_mv, d.d_mv);
  EXPECT_EQ(c.d_gate, d.d_gate);
  EXPECT_EQ(c.n_params, d.n_params);
  auto shapes = x070_param_shapes(d);
  ASSERT_EQ(shapes.size(), sd.size());
  for (size_t i = 0; i < shapes.size(); i++) {
    EXPECT_EQ(shapes[i].first, sd.items[i].first);
    EXPECT_EQ(shapes[i].second, sd.items[i].second.shape) << shapes[i].first;
  }
}

TEST(Config, LoraRanksFollowTheOfficialFormula) {
  // max(32, int(round(k*sqrt(C)/32)*32)) for C = 768, 1024, 2048, 4096 (RWKV-7 release sizes)
  ModelConfig a = x070_config(12, 768, 65536);
  EXPECT_EQ(a.d_decay, 64);
  EXPECT_EQ(a.d_mv, 32);
  EXPECT_EQ(a.d_gate, 128);
  ModelConfig b = x070_config(24, 2048, 65536);
  EXPECT_EQ(b.d_decay, 128);
  EXPECT_EQ(b.d_aaa, 128);
  EXPECT_EQ(b.d_mv, 64);
  EXPECT_EQ(b.d_gate, 224);
  ModelConfig c = x070_config(32, 4096, 65536);
  EXPECT_EQ(c.d_decay, 160);
  EXPECT_EQ(c.d_mv, 96);
  EXPECT_EQ(c.d_gate, 320);
  EXPECT_NEAR(double(b.n_params), 1.527e9, 0.01e9);  // "1.5B"
}

TEST(Config, PipFixturesAreDetectedAndSized) {
  struct Case { const char* dir; Arch arch; int n_head, head_size, ffn; };
  for (auto k : {Case{"pip/rwkv4-L2-D128-V512", Arch::RWKV4, 0, 0, 512},
                 Case{"pip/rwkv5-L2-D128-V512", Arch::RWKV5_2, 2, 64, 448},
                 Case{"pip/rwkv6-L2-D128-V512", Arch::RWKV6, 2, 64, 448}}) {
    SCOPED_TRACE(k.dir);
    ModelConfig c = detect_config(load_pth(fixture(std::string(k.dir) + "/model.pth")), k.dir);
    EXPECT_EQ(c.arch, k.arch);
    EXPECT_EQ(c.n_layer, 2);
    EXPECT_EQ(c.n_embd, 128);
    EXPECT_EQ(c.vocab_size, 512);
    EXPECT_EQ(c.n_head, k.n_head);
    EXPECT_EQ(c.head_size, k.head_size);
    EXPECT_EQ(c.dim_ffn, k.ffn);
    EXPECT_EQ(c.dim_att, 128);
  }
}

TEST(Config, X051AndX050ByThePipRules) {
  StateDict sd = load_pth(fixture("pip/rwkv5-L2-D128-V512/model.pth"));
  // 1-D time_decay -> 5.1 (gate present), without gate/time_mix_g -> 5.0
  StateDict s51;
  for (auto& [k, t] : sd.items) {
    if (k.find("time_decay") != std::string::npos) s51.set(k, Tensor::zeros(DType::F32, {2}));
    else s51.set(k, t);
  }
  EXPECT_EQ(detect_config(s51, "x").arch, Arch::RWKV5_1);
  StateDict s50;
  for (auto& [k, t] : s51.items)
    if (k.find("gate") == std::string::npos && k.find("time_mix_g") == std::string::npos) s50.set(k, t);
  ModelConfig c = detect_config(s50, "x");
  EXPECT_EQ(c.arch, Arch::RWKV5);
  EXPECT_EQ(c.n_head, 2);
  EXPECT_EQ(c.head_size, 64);
}

TEST(Config, MissingTensorOfAnOlderLayoutIsNamed) {
  StateDict sd = load_pth(fixture("pip/rwkv6-L2-D128-V512/model.pth"));
  StateDict m;
  for (auto& [k, t] : sd.items)
    if (k != "blocks.0.att.time_faaaa") m.set(k, t);
  std::string e = error_of([&] { detect_config(m, "v6.pth"); });
  EXPECT_NE(e.find("[model] v6.pth: missing tensor 'blocks.0.att.time_faaaa'"), std::string::npos) << e;
}

TEST(Config, OtherArchitectureIsNamedWithItsKey) {
  ModelConfig c = detect_config(load_pth(fixture("pip/rwkv6-L2-D128-V512/model.pth")), "v6.pth");
  std::string e = error_of([&] { require_arch(c, Arch::RWKV7, "v6.pth", "rwkv generate"); });
  EXPECT_NE(e.find("[model] v6.pth: this is an RWKV x060 model (key 'blocks.0.att.time_maa_x')"), std::string::npos) << e;
  EXPECT_NE(e.find("needs an x070 model"), std::string::npos) << e;
}

TEST(Config, MixedUnknownMissingAndMisShapedLayouts) {
  StateDict sd = load_pth(fixture("rwkv7-L2-D128-V512/model.pth"));
  {
    StateDict m = sd;
    m.set("blocks.1.att.time_maa_x", Tensor::zeros(DType::F32, {1, 1, 128}));
    std::string e = error_of([&] { detect_config(m, "mixed.pth"); });
    EXPECT_NE(e.find("[model] mixed.pth: mixed layout: key 'blocks.1.att.time_maa_x' belongs to an x060 model"), std::string::npos) << e;
  }
  {
    StateDict m = sd;
    m.set("transformer.wte.weight", Tensor::zeros(DType::F32, {4}));
    std::string e = error_of([&] { detect_config(m, "gpt.pth"); });
    EXPECT_NE(e.find("[model] gpt.pth: unknown key 'transformer.wte.weight'"), std::string::npos) << e;
  }
  {
    StateDict m;
    for (auto& [k, t] : sd.items)
      if (k != "blocks.1.att.r_k") m.set(k, t);
    std::string e = error_of([&] { detect_config(m, "miss.pth"); });
    EXPECT_NE(e.find("[model] miss.pth: missing tensor 'blocks.1.att.r_k'"), std::string::npos) << e;
  }
  {
    StateDict m = sd;
    m.set("blocks.1.att.a2", Tensor::zeros(DType::F32, {16, 128}));
    std::string e = error_of([&] { detect_config(m, "shape.pth"); });
    EXPECT_NE(e.find("tensor 'blocks.1.att.a2' has shape (16, 128), expected (32, 128)"), std::string::npos) << e;
  }
  {  // layer 0 may lack v0/v1/v2 (unused there)
    StateDict m;
    for (auto& [k, t] : sd.items)
      if (k.rfind("blocks.0.att.v", 0) != 0 || k == "blocks.0.att.value.weight") m.set(k, t);
    EXPECT_EQ(detect_config(m, "m").n_params, 611584 - 128 - 2 * 32 * 128);
  }
}
