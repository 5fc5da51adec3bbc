// test_q4_cli.cpp — `rwkv convert --dtype q4` writes safetensors with the q4 scheme in its metadata
// (uint8 nibbles (rows, cols/2) plus fp16 <name>_q4d/_q4m); `rwkv inspect` shows the scheme; the file
// loads without quantizing again and gives bit for bit the logits of `--dtype q4` at load (round trip),
// alone and with --strategy 'cpu fp32q4' (already q4: kept as it is). RWKV-7 and RWKV-6 fixtures.
#include <cstring>
#include <map>

#include "io/model_file.h"
#include "test_util.h"

namespace {

using namespace rwkv;

void round_trip(const std::string& model, const std::string& arch, const Tensor& tokens) {
  rwkv::test::TempDir tmp;
  const std::string q4 = tmp / "m-q4.safetensors";
  auto r = rwkv::test::run_cli("convert " + model + " " + q4 + " --dtype q4");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("q4 matrices, fp32q4"), std::string::npos) << r.out;
  std::map<std::string, std::string> meta;
  StateDict sd = load_safetensors(q4, &meta);
  EXPECT_EQ(meta["rwkv_quant"], "q4-b32");
  EXPECT_EQ(meta["rwkv_quant_dtype"], "fp32q4");
  const Tensor& head = sd.at("head.weight");
  EXPECT_EQ(head.dtype, DType::U8);
  EXPECT_EQ(sd.at("head.weight_q4d").dtype, DType::F16);
  EXPECT_EQ(sd.at("head.weight_q4m").shape, (Shape{head.shape[0], head.shape[1] * 2 / 32}));
  EXPECT_EQ(sd.at("emb.weight").dtype, DType::F32);

  r = rwkv::test::run_cli("inspect " + q4);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("quant       q4-b32 fp32q4 ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0.625 bytes per weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("arch        " + arch), std::string::npos) << r.out;

  StateDict in;
  in.set("tokens", tokens.clone());
  save_safetensors(tmp / "tok.safetensors", in);
  auto forward = [&](const std::string& m, const std::string& flags) {
    auto f = rwkv::test::run_cli("forward --model " + m + " --tokens " + tmp / "tok.safetensors" + " --out " +
                                 tmp / "out.safetensors" + flags);
    EXPECT_EQ(f.status, 0) << f.err;
    return load_safetensors(tmp / "out.safetensors").at("logits").to_f32_vec();
  };
  const std::vector<float> at_load = forward(model, " --dtype q4"), fp32 = forward(model, "");
  for (const char* flag : {"", " --strategy 'cpu fp32q4'"}) {
    const std::vector<float> got = forward(q4, flag);
    ASSERT_EQ(got.size(), at_load.size());
    EXPECT_EQ(std::memcmp(got.data(), at_load.data(), got.size() * 4), 0) << "flags:" << flag;
  }
  const double e = rwkv::test::rel_norm_err(at_load, fp32);
  EXPECT_GT(e, 1e-3);
  EXPECT_LE(e, rwkv::test::tol::q4_vs_fp32.rel);
}

TEST(Q4Cli, ConvertInspectAndRunRwkv6) {
  const std::string d = rwkv::test::fixture("pip/rwkv6-L2-D128-V512");
  round_trip(d + "/model.pth", "x060", load_safetensors(d + "/expected_i8.safetensors").at("tokens"));
}

TEST(Q4Cli, ConvertInspectAndRunRwkv7) {
  const std::string d = rwkv::test::fixture("rwkv7-L2-D128-V512");
  round_trip(d + "/model.pth", "x070", load_safetensors(d + "/expected.safetensors").at("tokens"));
}

TEST(Q4Cli, Refusals) {
  rwkv::test::TempDir tmp;
  const std::string d = rwkv::test::fixture("pip/rwkv6-L2-D128-V512");
  auto r = rwkv::test::run_cli("convert " + d + "/model.pth " + tmp / "m.pth --dtype q4");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("a q4 model is written as .safetensors"), std::string::npos) << r.err;
  r = rwkv::test::run_cli("forward --model " + d + "/model.pth --tokens " + d + "/expected_i8.safetensors --out " +
                          tmp / "o.safetensors --dtype q5");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("q4, fp32q4"), std::string::npos) << r.err;
}

}  // namespace
