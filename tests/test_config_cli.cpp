// test_config_cli.cpp — `rwkv inspect` end to end on every fixture and on bad input.
#include <fstream>

#include "test_util.h"

using namespace rwkv::test;

TEST(InspectCli, X070FixturePrintsConfigAndCount) {
  auto r = run_cli("inspect " + fixture("rwkv7-L2-D128-V512/model.pth"));
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* want : {"arch        x070 (RWKV-7)\n", "n_layer     2\n", "n_embd      128\n", "head_size   64\n",
                           "vocab_size  512\n", "dim_ffn     512\n", "params      611,584\n", "dtype       fp32\n",
                           "512   128               emb.weight\n", "1     1     128         blocks.0.att.x_r\n",
                           "2     64                blocks.1.att.r_k\n"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
}

TEST(InspectCli, EveryFixtureShowsVersionAndSizes) {
  struct Case { const char* file; const char* arch; const char* extra; };
  for (auto c : {Case{"traj-demo-L4-D256-bytes/rwkv-init.pth", "x070 (RWKV-7)", "dtype       bf16\n"},
                 Case{"pip/rwkv4-L2-D128-V512/model.pth", "v4 (RWKV-4)", "dim_ffn     512\n"},
                 Case{"pip/rwkv5-L2-D128-V512/model.pth", "x052 (RWKV-5.2)", "head_size   64\n"},
                 Case{"pip/rwkv6-L2-D128-V512/model.pth", "x060 (RWKV-6)", "n_head      2\n"}}) {
    auto r = run_cli("inspect " + fixture(c.file));
    ASSERT_EQ(r.status, 0) << c.file << ": " << r.err;
    EXPECT_NE(r.out.find(std::string("arch        ") + c.arch), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(c.extra), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("vocab_size  "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("params      "), std::string::npos) << r.out;
  }
}

TEST(InspectCli, BadFileFailsWithOneClearError) {
  TempDir tmp;
  std::string p = tmp / "x.pth";
  { std::ofstream(p) << "not a model at all, definitely not"; }
  auto r = run_cli("inspect " + p);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("rwkv inspect: error: [pth] " + p + ": not a zip archive"), std::string::npos) << r.err;
  auto m = run_cli("inspect " + tmp / "missing.pth");
  EXPECT_EQ(m.status, 1);
  EXPECT_NE(m.err.find("missing.pth"), std::string::npos) << m.err;
}
