// test_pth_errors.cpp — each malformed .pth gives one clear "[pth] <file>: ..." error that names
// the record or tensor key at fault.
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/model_file.h"
#include "io/pickle.h"
#include "model/config.h"
#include "test_pth_util.h"
#include "test_util.h"

using namespace rwkv;
using namespace rwkv::test;

#define EXPECT_HAS(hay, needle) EXPECT_NE((hay).find(needle), std::string::npos) << (hay)

// One tensor `key` of `numel` elements in storage `skey` of type torch.<storage>.
static std::string one_tensor_pickle(const std::string& key, const std::string& storage, const std::string& skey,
                                     int64_t numel) {
  return tensor_pickle(key, storage, skey, numel, {numel}, {1});
}

TEST(PthErrors, TruncatedFile) {
  TempDir tmp;
  std::string whole = read_file(fixture("rwkv7-L2-D128-V512/model.pth"));
  for (size_t cut : {whole.size() / 2, whole.size() - 10, size_t(10)}) {
    std::string p = tmp / "trunc.pth";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << whole.substr(0, cut);
    std::string e = error_of([&] { load_pth(p); });
    EXPECT_HAS(e, "[pth] " + p + ": truncated");
  }
}

TEST(PthErrors, NotAZip) {
  TempDir tmp;
  std::string p = tmp / "text.pth";
  std::ofstream(p) << "this is not a checkpoint, just some text that is long enough\n";
  EXPECT_HAS(error_of([&] { load_pth(p); }), "[pth] " + p + ": not a zip archive");
  EXPECT_HAS(error_of([&] { load_model_file(p); }), "[pth] " + p + ": not a zip archive");
  std::string q = tmp / "empty.pth";
  std::ofstream(q).flush();
  EXPECT_HAS(error_of([&] { load_pth(q); }), "[pth] " + q + ": not a zip archive");
}

TEST(PthErrors, WrongPickleOpcode) {
  TempDir tmp;
  std::string pkl = one_tensor_pickle("blocks.0.att.x_r", "FloatStorage", "0", 4);
  // an opcode torch never writes (0xff) before the final SETITEM + STOP
  pkl = pkl.substr(0, pkl.size() - 2) + "\xffs.";
  std::string p = tmp / "op.pth";
  write_raw_pth(p, pkl, {{"data/0", std::string(16, '\0')}});
  std::string e = error_of([&] { load_pth(p); });
  EXPECT_HAS(e, "[pth] " + p + ": archive/data.pkl: unsupported pickle opcode 0xff at byte");
  EXPECT_HAS(e, "(after 'cpu')");
  // a global outside the weights-only allow-list
  pickle::Writer w;
  w.global("os", "system");
  w.str("echo hi");
  w.tuple(1);
  w.reduce();
  write_raw_pth(p, w.finish(), {});
  EXPECT_HAS(error_of([&] { load_pth(p); }), "[pth] " + p + ": data.pkl: global 'os.system' is not allowed");
}

TEST(PthErrors, MissingTensorRecord) {
  TempDir tmp;
  std::string p = tmp / "miss.pth";
  // {key: tensor in storage '7'}; the archive holds only data/0
  std::string good = one_tensor_pickle("blocks.0.att.x_r", "FloatStorage", "7", 4);
  write_raw_pth(p, good, {{"data/0", std::string(16, '\0')}});
  std::string e = error_of([&] { load_pth(p); });
  EXPECT_HAS(e, "[pth] " + p + ": tensor 'blocks.0.att.x_r': record 'archive/data/7' is missing from the archive");
  // record present but too short for the storage
  write_raw_pth(p, good, {{"data/7", std::string(8, '\0')}});
  EXPECT_HAS(error_of([&] { load_pth(p); }), "tensor 'blocks.0.att.x_r': record 'archive/data/7' holds 8 bytes, the storage needs 16");
}

TEST(PthErrors, UnknownDtype) {
  TempDir tmp;
  std::string good = one_tensor_pickle("emb.weight", "ComplexFloatStorage", "0", 4);
  std::string p = tmp / "dt.pth";
  write_raw_pth(p, good, {{"data/0", std::string(32, '\0')}});
  EXPECT_HAS(error_of([&] { load_pth(p); }),
             "[pth] " + p + ": tensor 'emb.weight': unknown dtype (storage type torch.ComplexFloatStorage)");
}

TEST(PthErrors, OtherArchitectureLayout) {
  std::string f = fixture("pip/rwkv6-L2-D128-V512/model.pth");
  StateDict sd = load_pth(f);
  ModelConfig c = detect_config(sd, f);
  EXPECT_EQ(c.arch, Arch::RWKV6);
  std::string e = error_of([&] { require_arch(c, Arch::RWKV7, f, "training"); });
  EXPECT_HAS(e, "[model] " + f + ": this is an RWKV x060 model (key 'blocks.0.att.time_maa_x'); training needs an x070 model");
  std::string g = fixture("pip/rwkv4-L2-D128-V512/model.pth");
  ModelConfig c4 = detect_config(load_pth(g), g);
  EXPECT_HAS(error_of([&] { require_arch(c4, Arch::RWKV7, g); }), "this is an RWKV v4 model");
}
