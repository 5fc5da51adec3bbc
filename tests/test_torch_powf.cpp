// test_torch_powf.cpp — core/torch_powf: torch's fp32 tensor pow rounding (Sleef-style 1-ulp powf).
// The fixture cases are the elements of the official RWKV-6 init (train56/init/x060-L2-D128-V512.pth,
// blocks.1.att.time_maa_r = 1 - (i/128)^0.25 and blocks.1.ffn.time_maa_k = 1 - (i/128)^0.125) where
// torch's value is one ulp away from the correctly rounded power.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "core/torch_powf.h"

using namespace rwkv;

TEST(TorchPowf, FixtureCasesRoundLikeTorch) {
  // torch's value, and the correctly rounded one it differs from by one ulp.
  struct Case {
    int i;
    float e, torch, correct;
  } cases[] = {{27, 0.25f, 0x1.5afbb2p-1f, 0x1.5afbbp-1f},
               {39, 0.25f, 0x1.7c64dap-1f, 0x1.7c64dcp-1f},
               {79, 0.125f, 0x1.e2071ep-1f, 0x1.e2072p-1f}};
  for (const Case& c : cases) {
    const float x = float(c.i / 128.0);
    SCOPED_TRACE(c.i);
    EXPECT_EQ(std::pow(x, c.e), c.correct);  // the premise: the two really differ here
    EXPECT_EQ(powf_u10(x, c.e), c.torch);
    EXPECT_EQ(torch_pow_scalar(x, double(c.e)), c.torch);
  }
  // 1 - p as in the file: time_maa_r[27], [39], ffn.time_maa_k[79].
  EXPECT_EQ(1.0f - powf_u10(27 / 128.0f, 0.25f), 0x1.4a089cp-2f);
  EXPECT_EQ(1.0f - powf_u10(39 / 128.0f, 0.25f), 0x1.07364cp-2f);
  EXPECT_EQ(1.0f - powf_u10(79 / 128.0f, 0.125f), 0x1.df8e2p-5f);
}

TEST(TorchPowf, WithinOneUlpOfTheExactPower) {
  std::mt19937 g(7);
  std::uniform_real_distribution<float> ux(1e-6f, 100.0f), uy(-8.0f, 8.0f);
  double worst = 0;
  for (int k = 0; k < 200000; k++) {
    const float x = ux(g), y = uy(g);
    const double exact = std::pow(double(x), double(y));
    if (exact < 1e-37 || exact > 1e37) continue;
    const float r = powf_u10(x, y), cr = float(exact);
    worst = std::max(worst, std::fabs(r - exact) / (std::nextafter(cr, INFINITY) - cr));
  }
  EXPECT_LT(worst, 1.0);
}

TEST(TorchPowf, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(powf_u10(0.0f, 0.3f), 0.0f);
  EXPECT_EQ(powf_u10(0.0f, -0.3f), inf);
  EXPECT_EQ(powf_u10(5.0f, 0.0f), 1.0f);
  EXPECT_EQ(powf_u10(1.0f, std::nanf("")), 1.0f);
  EXPECT_EQ(powf_u10(-2.0f, 3.0f), -8.0f);
  EXPECT_EQ(powf_u10(-2.0f, 2.0f), 4.0f);
  EXPECT_TRUE(std::isnan(powf_u10(-8.0f, 1.0f / 3)));
  EXPECT_TRUE(std::isnan(powf_u10(std::nanf(""), 2.0f)));
  EXPECT_EQ(powf_u10(2.0f, 200.0f), inf);
  EXPECT_EQ(powf_u10(2.0f, -200.0f), 0.0f);
  EXPECT_EQ(powf_u10(inf, -1.0f), 0.0f);
  EXPECT_EQ(powf_u10(0.5f, inf), 0.0f);
  EXPECT_EQ(powf_u10(2.0f, inf), inf);
  EXPECT_EQ(powf_u10(-1.0f, inf), 1.0f);
}

TEST(TorchPowf, TorchSpecialExponentsAndScalarRemainder) {
  const float x = 27 / 128.0f;
  EXPECT_EQ(torch_pow_scalar(x, 0.0), 1.0f);
  EXPECT_EQ(torch_pow_scalar(x, 1.0), x);
  EXPECT_EQ(torch_pow_scalar(x, 0.5), std::sqrt(x));
  EXPECT_EQ(torch_pow_scalar(x, 2.0), x * x);
  EXPECT_EQ(torch_pow_scalar(x, 3.0), x * x * x);
  EXPECT_EQ(torch_pow_scalar(x, -1.0), 1.0f / x);
  // 20 elements, 16 per vectorised step: the last 4 take the kernel's scalar std::pow(float, double).
  std::vector<float> in(20, x), out(20);
  torch_pow_tensor_scalar(in.data(), out.data(), in.size(), 0.25);
  for (size_t i = 0; i < in.size(); i++) EXPECT_EQ(out[i], i < 16 ? 0x1.5afbb2p-1f : 0x1.5afbbp-1f) << i;
  torch_pow_tensor_scalar(in.data(), out.data(), in.size(), 0.25, 32);  // AVX-512: all 20 scalar
  for (size_t i = 0; i < in.size(); i++) EXPECT_EQ(out[i], 0x1.5afbbp-1f) << i;
}
