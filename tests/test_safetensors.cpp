// test_safetensors.cpp — safetensors reading (the fixtures), round trips with metadata, and
// each malformed-file error.
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/model_file.h"
#include "test_pth_util.h"
#include "test_util.h"

using namespace rwkv;
using namespace rwkv::test;
namespace fs = std::filesystem;

TEST(Safetensors, ReadsTheFixture) {
  std::map<std::string, std::string> meta;
  StateDict e = load_safetensors(fixture("rwkv7-L2-D128-V512/expected.safetensors"), &meta);
  const Tensor& tok = e.at("tokens");
  EXPECT_EQ(tok.dtype, DType::I64);
  EXPECT_EQ(tok.shape, (Shape{2, 33}));
  for (int i = 0; i < 66; i++) {
    EXPECT_GE(tok.ptr<int64_t>()[i], 0);
    EXPECT_LT(tok.ptr<int64_t>()[i], 512);
  }
  EXPECT_EQ(e.at("logits").shape, (Shape{2, 32, 512}));
  EXPECT_EQ(e.at("loss").shape, (Shape{1}));
  EXPECT_NEAR(e.at("loss").ptr<float>()[0], 6.4412459045370785, 1e-6);  // meta.json's loss
  EXPECT_EQ(e.at("state.1.wkv").shape, (Shape{2, 2, 64, 64}));
}

TEST(Safetensors, RoundTripIsBitIdenticalWithMetadata) {
  TempDir tmp;
  for (auto rel : {"rwkv7-L2-D128-V512/expected.safetensors", "rwkv7-L2-D128-V512/model.pth",
                   "traj-demo-L4-D256-bytes/rwkv-init.pth"}) {
    SCOPED_TRACE(rel);
    StateDict a = load_model_file(fixture(rel));
    save_safetensors(tmp / "a.safetensors", a, {{"format", "pt"}, {"note", "x"}});
    std::map<std::string, std::string> meta;
    StateDict b = load_safetensors(tmp / "a.safetensors", &meta);
    expect_bit_identical(a, b);  // names, order, dtypes, shapes, bytes
    EXPECT_EQ(meta["format"], "pt");
    EXPECT_EQ(meta["note"], "x");
    // data starts 64-byte aligned in the file (later tensors are packed, as the format requires)
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.items[0].second.data) % 64, 0u);
  }
  StateDict a = load_pth(fixture("traj-demo-L4-D256-bytes/rwkv-init.pth"));
  save_safetensors(tmp / "b.safetensors", a);
  expect_bit_identical(a, load_safetensors(tmp / "b.safetensors"));
  // .pth -> safetensors -> .pth
  save_pth(tmp / "b.pth", load_safetensors(tmp / "b.safetensors"));
  expect_bit_identical(a, load_pth(tmp / "b.pth"));
}

TEST(Safetensors, PythonReadsWhatWeWrite) {
  // The header layout per the safetensors spec, read with stdlib json + struct.
  TempDir tmp;
  StateDict sd;
  Tensor t = Tensor::empty(DType::F32, {2, 2});
  for (int i = 0; i < 4; i++) t.ptr<float>()[i] = float(i) + 0.5f;
  sd.set("w", t);
  sd.set("i", Tensor::zeros(DType::I32, {3}));
  save_safetensors(tmp / "p.safetensors", sd);
  std::string cmd = python_exe() + " -c \"import json,struct,sys; b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; "
                    "h=json.loads(b[8:8+n]); d=b[8+n:]; o=h['w']['data_offsets']; "
                    "print(h['w']['dtype'], h['w']['shape'], struct.unpack('<4f', d[o[0]:o[1]]), h['i']['dtype'], (8+n)%8)\" " +
                    (tmp / "p.safetensors");
  FILE* f = popen(cmd.c_str(), "r");
  char buf[256] = {};
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  EXPECT_EQ(pclose(f), 0);
  EXPECT_EQ(std::string(buf, n), "F32 [2, 2] (0.5, 1.5, 2.5, 3.5) I32 0\n");
}

static void write_st(const std::string& path, const std::string& header, const std::string& data) {
  std::ofstream o(path, std::ios::binary);
  uint64_t n = header.size();
  o.write(reinterpret_cast<const char*>(&n), 8);
  o << header << data;
}

TEST(Safetensors, BadFilesNameFileAndKey) {
  TempDir tmp;
  StateDict a = load_pth(fixture("rwkv7-L2-D128-V512/model.pth"));
  save_safetensors(tmp / "ok.safetensors", a);
  std::string whole = read_file(tmp / "ok.safetensors");
  {  // truncated
    std::string p = tmp / "trunc.safetensors";
    std::ofstream(p, std::ios::binary) << whole.substr(0, whole.size() / 2);
    std::string e = error_of([&] { load_safetensors(p); });
    EXPECT_NE(e.find("[safetensors] " + p), std::string::npos) << e;
    EXPECT_NE(e.find("truncated"), std::string::npos) << e;
    EXPECT_NE(e.find("'"), std::string::npos) << e;  // names the first tensor cut off
  }
  {  // unknown dtype
    std::string p = tmp / "dt.safetensors";
    write_st(p, R"({"blocks.0.att.x_r":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", "x");
    std::string e = error_of([&] { load_safetensors(p); });
    EXPECT_NE(e.find(p), std::string::npos) << e;
    EXPECT_NE(e.find("'blocks.0.att.x_r': unknown dtype 'F8_E4M3'"), std::string::npos) << e;
  }
  {  // a shape whose element count overflows (2^62 x 4): refused, not wrapped
    std::string p = tmp / "huge.safetensors";
    write_st(p, R"({"tokens":{"dtype":"I64","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", "abcdefgh");
    std::string e = error_of([&] { load_safetensors(p); });
    EXPECT_NE(e.find("[safetensors] " + p + ": tensor 'tokens': 8 data bytes for int64 (4611686018427387904, 4) (needs more than 2^64)"),
              std::string::npos) << e;
    auto r = rwkv::test::run_cli("forward --model " + fixture("rwkv7-L2-D128-V512/model.pth") + " --tokens " + p +
                                 " --out " + (tmp / "o.safetensors"));
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("(needs more than 2^64)"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(tmp / "o.safetensors"));
  }
  {  // a name twice (a JSON parser keeps one silently) and two tensors over the same bytes
    std::string p = tmp / "dup.safetensors";
    write_st(p, R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
             "abcd");
    EXPECT_NE(error_of([&] { load_safetensors(p); }).find("[safetensors] " + p + ": tensor 'a' appears twice"),
              std::string::npos);
    write_st(p, R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
             "abcd");
    std::string e = error_of([&] { load_safetensors(p); });
    EXPECT_NE(e.find("[safetensors] " + p + ": tensors 'a' and 'b' overlap"), std::string::npos) << e;
  }
  {  // size mismatch
    std::string p = tmp / "sz.safetensors";
    write_st(p, R"({"k":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd");
    std::string e = error_of([&] { load_safetensors(p); });
    EXPECT_NE(e.find("'k': 4 data bytes"), std::string::npos) << e;
  }
  {  // header not JSON / header length absurd
    std::string p = tmp / "js.safetensors";
    write_st(p, "{not json", "");
    EXPECT_NE(error_of([&] { load_safetensors(p); }).find("not valid JSON"), std::string::npos);
    std::ofstream(p, std::ios::binary) << "hello world, not a model";
    EXPECT_NE(error_of([&] { load_safetensors(p); }).find("does not fit"), std::string::npos);
  }
}
