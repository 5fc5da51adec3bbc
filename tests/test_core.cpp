// test_core.cpp — dtype conversions, tensors, atomic files, asset lookup, the CUDA smoke op.
#include <cstring>
#include <filesystem>

#include "core/assets.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/tensor.h"
#include "io/atomic_file.h"
#include "ops/cast.h"
#include "ops/cuda_info.h"
#include "test_util.h"

using namespace rwkv;

TEST(Dtype, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  // 1 + 2^-8 is exactly half way between bf16 1.0 and 1.0078125: ties to even (1.0).
  EXPECT_EQ(f32_to_bf16(1.0f + 1.0f / 256), 0x3f80);
  EXPECT_EQ(f32_to_bf16(1.0f + 3.0f / 256), 0x3f82);
  EXPECT_EQ(f32_to_bf16(-2.5f), 0xc020);
}

TEST(Dtype, F16RoundTripsAllFiniteHalves) {
  for (uint32_t h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) == 0x7c00) continue;  // inf/nan
    float f = f16_to_f32(uint16_t(h));
    ASSERT_EQ(f32_to_f16(f), h) << std::hex << h;
  }
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // rounds to inf
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
}

TEST(Tensor, ConvertAndLookup) {
  Tensor t = Tensor::empty(DType::F32, {2, 3});
  for (int i = 0; i < 6; i++) t.ptr<float>()[i] = i * 0.5f;
  Tensor b = t.to(DType::BF16);
  EXPECT_EQ(b.nbytes(), 12u);
  auto back = b.to_f32_vec();
  for (int i = 0; i < 6; i++) EXPECT_EQ(back[i], i * 0.5f);
  StateDict sd;
  sd.set("a", t);
  EXPECT_TRUE(sd.has("a"));
  EXPECT_THROW(sd.at("missing"), Error);
  EXPECT_EQ(shape_str({2, 3}), "(2, 3)");
  EXPECT_EQ(shape_str({7}), "(7,)");
}

TEST(AtomicFile, NothingLeftBehindWithoutCommit) {
  test::TempDir d;
  {
    AtomicFile f(d / "x.bin");
    f.write("partial");
  }
  EXPECT_TRUE(std::filesystem::is_empty(d.path));
  write_file_atomic(d / "y.txt", "hello");
  EXPECT_EQ(test::read_file(d / "y.txt"), "hello");
  EXPECT_THROW(AtomicFile(d / "no/such/dir/z"), Error);
}

TEST(Assets, EnvOverrideAndClearError) {
  test::TempDir d;
  const char* prev = std::getenv("RWKV_ASSETS");
  std::string saved = prev ? prev : "";
  setenv("RWKV_ASSETS", d.path.c_str(), 1);
  try {
    find_asset("nope.txt");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/setup.sh"), std::string::npos) << e.what();
  }
  write_file_atomic(d / "v.txt", "x");
  EXPECT_EQ(find_asset("v.txt"), d / "v.txt");
  if (prev) setenv("RWKV_ASSETS", saved.c_str(), 1);
  else unsetenv("RWKV_ASSETS");
}

TEST(Cuda, CastMatchesCpu) {
  if (!cuda_compiled()) GTEST_SKIP() << "CUDA backend not compiled in";
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA GPU present: GPU tests skipped";
  std::vector<float> x(100000);
  for (size_t i = 0; i < x.size(); i++) x[i] = std::sin(float(i)) * 1000.0f;
  std::vector<uint16_t> a(x.size()), b(x.size());
  cast_f32_bf16_cpu(x.data(), a.data(), int64_t(x.size()));
  cast_f32_bf16_cuda(x.data(), b.data(), int64_t(x.size()));
  EXPECT_EQ(a, b);
}
