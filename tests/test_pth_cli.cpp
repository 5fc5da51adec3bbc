// test_pth_cli.cpp — `rwkv convert` and `rwkv init` end to end.
#include <cstring>

#include "io/model_file.h"
#include "model/config.h"
#include "model/init.h"
#include "test_pth_util.h"
#include "test_util.h"

using namespace rwkv;
using namespace rwkv::test;

TEST(ConvertCli, PthToSafetensorsAndBackWithDtype) {
  TempDir tmp;
  std::string src = fixture("rwkv7-L2-D128-V512/model.pth");
  auto r = run_cli("convert " + src + " " + tmp / "m.safetensors");
  ASSERT_EQ(r.status, 0) << r.err;
  StateDict a = load_pth(src), b = load_safetensors(tmp / "m.safetensors");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); i++)
    EXPECT_EQ(std::memcmp(a.items[i].second.data, b.items[i].second.data, a.items[i].second.nbytes()), 0);
  r = run_cli("convert " + tmp / "m.safetensors " + tmp / "h.pth --dtype bf16");
  ASSERT_EQ(r.status, 0) << r.err;
  StateDict h = load_pth(tmp / "h.pth");
  for (size_t i = 0; i < a.size(); i++) {
    ASSERT_EQ(h.items[i].second.dtype, DType::BF16);
    Tensor want = a.items[i].second.to(DType::BF16);
    EXPECT_EQ(std::memcmp(want.data, h.items[i].second.data, want.nbytes()), 0) << a.items[i].first;
  }
  auto py = python_torch_load(tmp / "h.pth");
  EXPECT_TRUE(py.ok) << py.output;
  r = run_cli("convert " + src + " " + tmp / "x.pth --dtype fp8");  // (int8 is a valid dtype now: test_int8_cli)
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--dtype 'fp8'"), std::string::npos) << r.err;
}

TEST(InitCli, ReproducesTheOfficialInitFile) {
  TempDir tmp;
  auto r = run_cli("init --n_layer 4 --n_embd 256 --vocab_size 256 --seed 3 --out " + tmp / "rwkv-init.pth");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("256   256               emb.weight [scale -0.0001]\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("blocks.0.att.key.weight [scale 0.1]\n"), std::string::npos);
  EXPECT_NE(r.out.find("head.weight [scale 0.5]\n"), std::string::npos);
  StateDict ours = load_pth(tmp / "rwkv-init.pth");
  StateDict ref = load_pth(fixture("traj-demo-L4-D256-bytes/rwkv-init.pth"));
  ModelConfig cfg = detect_config(ours, "ours");
  EXPECT_NE(r.out.find("model params " + std::to_string(cfg.n_params) + "\n"), std::string::npos);
  ASSERT_EQ(ours.size(), ref.size());
  int exact = 0;
  for (size_t i = 0; i < ref.size(); i++) {
    ASSERT_EQ(ours.items[i].first, ref.items[i].first);
    ASSERT_EQ(ours.items[i].second.shape, ref.items[i].second.shape);
    ASSERT_EQ(ours.items[i].second.dtype, DType::BF16);
    auto k = x070_init_rule(ref.items[i].first, cfg).kind;
    if (k == InitRule::Module || k == InitRule::Zero) {
      EXPECT_EQ(std::memcmp(ours.items[i].second.data, ref.items[i].second.data, ref.items[i].second.nbytes()), 0)
          << ref.items[i].first;
      exact++;
    }
  }
  EXPECT_EQ(exact, 104);
  auto py = python_torch_load(tmp / "rwkv-init.pth");  // what train.py would torch.load
  EXPECT_TRUE(py.ok) << py.output;
  EXPECT_EQ(py.tensors.size(), ref.size());
  auto bad = run_cli("init --n_layer 2 --n_embd 100 --vocab_size 10 --out " + tmp / "bad.pth");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("n_embd must be a multiple of head_size"), std::string::npos) << bad.err;
}
