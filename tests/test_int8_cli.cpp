// test_int8_cli.cpp — `rwkv convert --dtype int8` writes safetensors with the int8 scheme in its metadata
// (uint8 q plus fp32 scales, the pip package's fp32i8 values); `rwkv inspect` shows the scheme; the
// file loads without quantizing again and gives the package's fp32i8 logits (pip/rwkv6 fixture), alone
// and with --strategy 'cpu fp32i8' (already int8: kept as it is).
#include "io/model_file.h"
#include "test_util.h"

namespace {

using namespace rwkv;

TEST(Int8Cli, ConvertInspectAndRun) {
  const std::string d = rwkv::test::fixture("pip/rwkv6-L2-D128-V512");
  rwkv::test::TempDir tmp;
  const std::string q8 = tmp / "m-int8.safetensors";
  auto r = rwkv::test::run_cli("convert " + d + "/model.pth " + q8 + " --dtype int8");
  ASSERT_EQ(r.status, 0) << r.err;
  std::map<std::string, std::string> meta;
  StateDict sd = load_safetensors(q8, &meta);
  EXPECT_EQ(meta["rwkv_quant"], "int8-pip");
  ASSERT_NE(sd.find("head.weight"), nullptr);
  EXPECT_EQ(sd.at("head.weight").dtype, DType::U8);
  EXPECT_EQ(sd.at("head.weight_rx").dtype, DType::F32);
  EXPECT_EQ(sd.at("emb.weight").dtype, DType::F32);
  // the stored q is the package's (transposed) q
  StateDict ex = load_safetensors(d + "/expected_i8.safetensors");
  const Tensor &mine = sd.at("blocks.0.ffn.value.weight"), &pip = ex.at("i8.blocks.0.ffn.value.weight.q");
  ASSERT_EQ(mine.shape, (Shape{pip.shape[1], pip.shape[0]}));
  int64_t diff = 0;
  for (int64_t i = 0; i < pip.shape[0]; i++)
    for (int64_t o = 0; o < pip.shape[1]; o++)
      diff += pip.ptr<uint8_t>()[i * pip.shape[1] + o] != mine.ptr<uint8_t>()[o * pip.shape[0] + i];
  EXPECT_EQ(diff, 0);

  r = rwkv::test::run_cli("inspect " + q8);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("quant       int8-pip fp32i8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("arch        x060"), std::string::npos) << r.out;

  StateDict in;
  in.set("tokens", ex.at("tokens").clone());
  save_safetensors(tmp / "tok.safetensors", in);
  for (const char* flag : {"", " --strategy 'cpu fp32i8'"}) {
    r = rwkv::test::run_cli("forward --model " + q8 + " --tokens " + tmp / "tok.safetensors" + " --out " +
                            tmp / "out.safetensors" + flag);
    ASSERT_EQ(r.status, 0) << r.err;
    const std::vector<float> got = load_safetensors(tmp / "out.safetensors").at("logits").to_f32_vec();
    EXPECT_LE(rwkv::test::rel_norm_err(got, ex.at("logits").to_f32_vec()), rwkv::test::tol::pip_int8_logits.rel)
        << "flags:" << flag;
  }
  r = rwkv::test::run_cli("convert " + d + "/model.pth " + tmp / "m.pth --dtype int8");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("as .safetensors"), std::string::npos) << r.err;
}

}  // namespace
