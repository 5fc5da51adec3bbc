// test_pth.cpp — .pth reading (every fixture, checked against an independent stdlib-Python
// weights-only loader), zero-copy, round trips, torch-loadability of what we write.
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/mmap.h"
#include "io/model_file.h"
#include "io/pickle.h"
#include "test_pth_util.h"
#include "test_util.h"

using namespace rwkv;
using namespace rwkv::test;
namespace fs = std::filesystem;

static std::vector<std::string> fixture_pths() {
  std::vector<std::string> r;
  for (auto& e : fs::recursive_directory_iterator(fixtures_dir()))
    if (e.path().extension() == ".pth") r.push_back(e.path().string());
  std::sort(r.begin(), r.end());
  return r;
}

static void expect_same_as_python(const StateDict& sd, const std::string& file) {
  auto py = python_torch_load(file);
  ASSERT_TRUE(py.ok) << file << ": " << py.output;
  ASSERT_EQ(py.tensors.size(), sd.size()) << file;
  for (size_t i = 0; i < sd.size(); i++) {
    auto& [name, t] = sd.items[i];
    auto& j = py.tensors[i];
    EXPECT_EQ(j["name"].get<std::string>(), name) << file;
    EXPECT_EQ(j["dtype"].get<std::string>(), dtype_name(t.dtype)) << name;
    EXPECT_EQ(j["shape"].get<Shape>(), t.shape) << name;
    EXPECT_EQ(j["sum"].get<double>(), sum_f64(t)) << name;  // same values, same summation order
  }
}

TEST(Pth, ReadsEveryFixtureLikeTorch) {
  auto files = fixture_pths();
  ASSERT_GE(files.size(), 5u);  // rwkv7, traj rwkv-init, pip v4/v5/v6
  for (auto& f : files) {
    SCOPED_TRACE(f);
    StateDict sd = load_pth(f);
    ASSERT_GT(sd.size(), 0u);
    expect_same_as_python(sd, f);
  }
}

TEST(Pth, FixtureNamesShapesDtypes) {
  StateDict a = load_pth(fixture("rwkv7-L2-D128-V512/model.pth"));
  EXPECT_EQ(a.size(), 72u);
  EXPECT_EQ(a.items.front().first, "emb.weight");
  EXPECT_EQ(a.items.back().first, "head.weight");
  EXPECT_EQ(a.at("blocks.0.att.x_r").shape, (Shape{1, 1, 128}));
  EXPECT_EQ(a.at("blocks.0.att.r_k").shape, (Shape{2, 64}));
  EXPECT_EQ(a.at("blocks.1.ffn.key.weight").shape, (Shape{512, 128}));
  EXPECT_EQ(a.at("emb.weight").dtype, DType::F32);
  StateDict b = load_pth(fixture("traj-demo-L4-D256-bytes/rwkv-init.pth"));
  EXPECT_EQ(b.at("emb.weight").dtype, DType::BF16);
  EXPECT_EQ(b.at("blocks.3.att.ln_x.weight").shape, (Shape{256}));
  EXPECT_EQ(bf16_to_f32(b.at("blocks.3.att.ln_x.weight").ptr<uint16_t>()[0]), 1.0f);  // ((1+3)/4)^0.7
  EXPECT_EQ(bf16_to_f32(b.at("blocks.0.att.k_a").ptr<uint16_t>()[5]), 1.0234375f);     // 1.02 in bf16
}

TEST(Pth, GradientNamesOfExpectedMatchTheModel) {
  StateDict m = load_pth(fixture("rwkv7-L2-D128-V512/model.pth"));
  StateDict e = load_safetensors(fixture("rwkv7-L2-D128-V512/expected.safetensors"));
  int n = 0;
  for (auto& [k, t] : e.items) {
    if (k.rfind("grad.", 0) != 0) continue;
    const Tensor* p = m.find(k.substr(5));
    ASSERT_NE(p, nullptr) << k;
    EXPECT_EQ(p->shape, t.shape) << k;
    n++;
  }
  EXPECT_EQ(size_t(n), m.size());
}

TEST(Pth, ZeroCopyIntoTheMap) {
  std::string f = fixture("rwkv7-L2-D128-V512/model.pth");
  auto size = fs::file_size(f);
  StateDict sd = load_pth(f);
  const void* owner = sd.items[0].second.owner.get();
  auto* mf = static_cast<const MappedFile*>(owner);
  for (auto& [k, t] : sd.items) {
    EXPECT_EQ(t.owner.get(), owner) << k;  // all share the one mmap
    auto p = static_cast<const uint8_t*>(t.data);
    EXPECT_GE(p, mf->data) << k;
    EXPECT_LE(p + t.nbytes(), mf->data + size) << k;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << k;  // torch's 64-byte aligned records
  }
  // The map outlives the StateDict's other references.
  Tensor keep = sd.at("head.weight");
  float first = keep.ptr<float>()[0];
  sd = StateDict();
  EXPECT_EQ(keep.ptr<float>()[0], first);
}

TEST(Pth, RoundTripIsBitIdenticalAndTorchLoadable) {
  TempDir tmp;
  for (auto rel : {"rwkv7-L2-D128-V512/model.pth", "traj-demo-L4-D256-bytes/rwkv-init.pth"}) {
    SCOPED_TRACE(rel);
    StateDict a = load_pth(fixture(rel));
    fs::create_directories(tmp / "x");
    fs::create_directories(tmp / "y");
    save_pth(tmp / "x/a.pth", a);
    StateDict b = load_pth(tmp / "x/a.pth");
    expect_bit_identical(a, b);
    expect_same_as_python(b, tmp / "x/a.pth");  // accepted by the weights-only emulation
    save_pth(tmp / "y/a.pth", b);              // deterministic bytes
    EXPECT_TRUE(read_file(tmp / "x/a.pth") == read_file(tmp / "y/a.pth"));
    EXPECT_FALSE(fs::exists(tmp / "x/a.pth.tmp." + std::to_string(getpid())));
  }
}

TEST(Pth, AllDtypesRoundTrip) {
  TempDir tmp;
  StateDict sd;
  int i = 0;
  for (DType t : {DType::F32, DType::BF16, DType::F16, DType::I64, DType::I32, DType::U8, DType::I8}) {
    Tensor x = Tensor::empty(t, {3, 5});
    for (size_t b = 0; b < x.nbytes(); b++) static_cast<uint8_t*>(x.data)[b] = uint8_t(b * 37 + i);
    if (t == DType::F32) for (int k = 0; k < 15; k++) x.ptr<float>()[k] = k * 0.25f - 1;
    if (t == DType::BF16 || t == DType::F16) for (int k = 0; k < 15; k++) x.ptr<uint16_t>()[k] = uint16_t(0x3c00 + k);
    sd.set(std::string("t.") + dtype_name(t), x);
    i++;
  }
  sd.set("scalar", Tensor::zeros(DType::F32, {}));
  sd.set("empty", Tensor::zeros(DType::F32, {0, 4}));
  Tensor big = Tensor::zeros(DType::I64, {2, 2, 2, 2, 2});  // rank > 3: TUPLE opcode
  big.ptr<int64_t>()[31] = int64_t(1) << 40;               // LONG-sized value in data only
  sd.set("rank5", big);
  save_pth(tmp / "d.pth", sd);
  StateDict r = load_pth(tmp / "d.pth");
  expect_bit_identical(sd, r);
  expect_same_as_python(r, tmp / "d.pth");
}

TEST(Pth, ManyTensorsUseSeveralSetitemsBatches) {
  TempDir tmp;
  StateDict sd;
  for (int i = 0; i < 2500; i++) {
    Tensor t = Tensor::empty(DType::F32, {1});
    t.ptr<float>()[0] = float(i);
    sd.items.emplace_back(fmt::format("p{}", i), t);
  }
  save_pth(tmp / "m.pth", sd);
  StateDict r = load_pth(tmp / "m.pth");
  expect_bit_identical(sd, r);
  auto py = python_torch_load(tmp / "m.pth");
  ASSERT_TRUE(py.ok) << py.output;
  EXPECT_EQ(py.tensors.size(), 2500u);
}

// A pickle as torch writes for an OrderedDict state dict with a `_forward_module.` prefix, two
// views sharing one storage (offset, transposed strides) and an int64 storage: exercises the
// reader on what save_pth itself never writes.
TEST(Pth, SharedStorageOffsetsStridesAndPrefix) {
  TempDir tmp;
  std::vector<float> store(20);
  for (int i = 0; i < 20; i++) store[i] = float(i);
  pickle::Writer w;
  w.global("collections", "OrderedDict");
  w.empty_tuple();
  w.reduce();
  w.mark();
  auto tensor = [&](const std::string& key, const char* storage, const std::string& skey, int64_t numel,
                    int64_t off, std::vector<int64_t> size, std::vector<int64_t> stride) {
    w.str(key);
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.mark();
    w.mark();
    w.str("storage", true);
    w.global("torch", storage);
    w.str(skey);
    w.str("cpu", true);
    w.integer(numel);
    w.tuple_mark();
    w.binpersid();
    w.integer(off);
    for (auto* v : {&size, &stride}) {
      for (auto x : *v) w.integer(x);
      w.tuple(v->size());
    }
    w.rebuild_tensor_tail();
  };
  tensor("_forward_module.a", "FloatStorage", "0", 20, 2, {3, 4}, {4, 1});  // rows of store[2..14)
  tensor("_forward_module.b", "FloatStorage", "0", 20, 0, {4, 3}, {1, 4});  // transposed view
  tensor("c", "LongStorage", "1", 2, 1, {1}, {1});
  w.setitems();
  std::vector<int64_t> longs = {7, -(int64_t(1) << 40)};
  write_raw_pth(tmp / "v.pth", w.finish(),
                {{"data/0", std::string(reinterpret_cast<char*>(store.data()), 80)},
                 {"data/1", std::string(reinterpret_cast<char*>(longs.data()), 16)}});
  StateDict sd = load_pth(tmp / "v.pth");
  ASSERT_EQ(sd.size(), 3u);
  EXPECT_EQ(sd.items[0].first, "a");
  EXPECT_EQ(sd.items[1].first, "b");
  auto a = sd.at("a").to_f32_vec();
  for (int i = 0; i < 12; i++) EXPECT_EQ(a[i], float(i + 2));
  auto b = sd.at("b").to_f32_vec();  // b[r][c] = store[r + 4c]
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 3; c++) EXPECT_EQ(b[r * 3 + c], float(r + 4 * c));
  EXPECT_EQ(sd.at("c").ptr<int64_t>()[0], -(int64_t(1) << 40));
  auto py = python_torch_load(tmp / "v.pth");  // the emulation accepts it but flags the stride
  EXPECT_FALSE(py.ok);
  EXPECT_NE(py.output.find("non-contiguous"), std::string::npos) << py.output;
}

TEST(Zip, Zip64RecordsReadBackHereAndInPython) {
  TempDir tmp;
  std::string p = tmp / "z.zip";
  {
    AtomicFile out(p);
    ZipWriter z(out);
    z.force_zip64 = true;
    z.add("top/a", std::string("hello"));
    z.add("top/b", std::string(1000, 'x'));
    z.finish();
    out.commit();
  }
  ZipReader r(map_file(p), "test");
  ASSERT_EQ(r.entries().size(), 2u);
  EXPECT_EQ(r.entries()[1].size, 1000u);
  EXPECT_EQ(r.entries()[0].data_offset % 64, 0u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.data(r.entries()[0])), 5), "hello");
  std::string cmd = python_exe() + " -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
                    "assert z.testzip() is None; assert z.read('top/a')==b'hello'; print('ok')\" " + p;
  FILE* f = popen(cmd.c_str(), "r");
  char buf[64] = {};
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  EXPECT_EQ(pclose(f), 0);
  EXPECT_EQ(std::string(buf, n), "ok\n");
}

TEST(Zip, Crc32KnownValues) {
  EXPECT_EQ(crc32("", 0), 0u);
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
  std::string s(1000, 'a');
  uint32_t whole = crc32(s.data(), s.size());
  EXPECT_EQ(crc32(s.data() + 7, 993, crc32(s.data(), 7)), whole);  // incremental
}

TEST(ModelFile, DispatchesByContentAndExtension) {
  TempDir tmp;
  StateDict a = load_pth(fixture("rwkv7-L2-D128-V512/model.pth"));
  save_model_file(tmp / "m.safetensors", a);
  save_model_file(tmp / "m.pth", a);
  fs::copy_file(tmp / "m.safetensors", tmp / "st_without_ext");
  expect_bit_identical(a, load_model_file(tmp / "m.safetensors"));
  expect_bit_identical(a, load_model_file(tmp / "m.pth"));
  expect_bit_identical(a, load_model_file(tmp / "st_without_ext"));
  EXPECT_EQ(read_file(tmp / "m.pth").substr(0, 2), "PK");
}
