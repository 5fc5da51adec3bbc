// test_init.cpp — `rwkv init`'s x070 initialisation against the official rwkv-init.pth:
// deterministic tensors bit-exact in bf16, random ones by distribution (the fixture's pass the
// same checks), names/shapes/order for other sizes.
#include <cmath>
#include <cstring>

#include "io/model_file.h"
#include "model/config.h"
#include "model/init.h"
#include "test_orthogonal.h"
#include "test_util.h"

using namespace rwkv;
using namespace rwkv::test;


static void check_random(const std::string& name, const Tensor& t, const InitRule& r, const char* who) {
  SCOPED_TRACE(std::string(who) + " " + name);
  if (r.kind == InitRule::Orthogonal) {
    EXPECT_LE(orthogonality_error(t, r.scale), tol::bf16_orthogonal.abs);
  } else if (r.kind == InitRule::Uniform) {
    auto v = t.to_f32_vec();
    const double a = std::fabs(r.scale);
    double m = 0, m2 = 0;
    for (float x : v) {
      ASSERT_LE(std::fabs(x), a * (1 + 1.0 / 128));  // bf16 rounding of the bound
      m += x;
      m2 += double(x) * x;
    }
    m /= v.size();
    m2 /= v.size();
    EXPECT_LE(std::fabs(m), 5 * a / std::sqrt(3.0 * v.size()));  // 5 sigma of the mean
    EXPECT_NEAR(m2, a * a / 3, tol::init_moments.rel * a * a / 3);
  }
}

TEST(Init, MatchesOfficialRwkvInitPth) {
  StateDict ref = load_pth(fixture("traj-demo-L4-D256-bytes/rwkv-init.pth"));
  ModelConfig cfg = x070_config(4, 256, 256);
  StateDict ours = x070_init(cfg, 42, DType::BF16);
  ASSERT_EQ(ours.size(), ref.size());
  int exact = 0, random = 0;
  for (size_t i = 0; i < ref.size(); i++) {
    auto& [name, rt] = ref.items[i];
    auto& [oname, ot] = ours.items[i];
    ASSERT_EQ(oname, name);
    ASSERT_EQ(ot.shape, rt.shape) << name;
    ASSERT_EQ(ot.dtype, DType::BF16);
    InitRule r = x070_init_rule(name, cfg);
    if (r.kind == InitRule::Module || r.kind == InitRule::Zero) {
      auto o = ot.ptr<uint16_t>(), f = rt.ptr<uint16_t>();
      int64_t bad = 0, first = -1;
      for (int64_t k = 0; k < rt.numel(); k++)
        if (o[k] != f[k]) { bad++; if (first < 0) first = k; }
      EXPECT_EQ(bad, 0) << name << ": first mismatch at " << first << ": ours " << bf16_to_f32(o[first])
                        << " official " << bf16_to_f32(f[first]);
      exact++;
    } else {
      check_random(name, rt, r, "official");
      check_random(name, ot, r, "ours");
      random++;
    }
  }
  EXPECT_EQ(exact, 4 * 25 + 2 + 2);  // per layer 33 - 8 random; ln0; ln_out
  EXPECT_EQ(random, 2 + 4 * 8);      // emb, head; w2 a2 v2 g2 receptance key value ffn.key
}

TEST(Init, RulesAndGainsAsGenerateInitWeight) {
  ModelConfig cfg = x070_config(4, 256, 1024);
  EXPECT_EQ(x070_init_rule("emb.weight", cfg).kind, InitRule::Uniform);
  EXPECT_EQ(x070_init_rule("emb.weight", cfg).scale, -1e-4);
  EXPECT_DOUBLE_EQ(x070_init_rule("head.weight", cfg).scale, 0.5 * std::sqrt(4.0));  // V > C
  EXPECT_DOUBLE_EQ(x070_init_rule("head.weight", x070_config(4, 256, 256)).scale, 0.5);
  EXPECT_EQ(x070_init_rule("blocks.1.att.key.weight", cfg).scale, 0.1);
  EXPECT_EQ(x070_init_rule("blocks.1.att.receptance.weight", cfg).scale, 1.0);
  EXPECT_EQ(x070_init_rule("blocks.1.att.value.weight", cfg).scale, 1.0);
  EXPECT_EQ(x070_init_rule("blocks.1.ffn.key.weight", cfg).scale, 1.0);
  EXPECT_EQ(x070_init_rule("blocks.1.att.output.weight", cfg).kind, InitRule::Zero);
  EXPECT_EQ(x070_init_rule("blocks.1.ffn.value.weight", cfg).kind, InitRule::Zero);
  EXPECT_EQ(x070_init_rule("blocks.1.att.w1", cfg).kind, InitRule::Module);  // zeros
  EXPECT_EQ(x070_init_rule("blocks.1.att.w2", cfg).scale, 0.1);
  EXPECT_EQ(x070_init_rule("blocks.1.att.ln_x.weight", cfg).kind, InitRule::Module);
}

TEST(Init, OrthogonalFillIsOrthogonalInBothOrientations) {
  for (auto [r, c] : {std::pair<int64_t, int64_t>{8, 20}, {20, 8}, {16, 16}}) {
    std::vector<double> w(r * c);
    orthogonal_fill(w.data(), r, c, 0.7, 5);
    Tensor t = Tensor::empty(DType::F32, {r, c});
    for (int64_t i = 0; i < r * c; i++) t.ptr<float>()[i] = float(w[i]);
    EXPECT_LT(orthogonality_error(t, 0.7), 1e-6) << r << "x" << c;
  }
  std::vector<double> a(64), b(64);
  orthogonal_fill(a.data(), 8, 8, 1, 1);
  orthogonal_fill(b.data(), 8, 8, 1, 2);
  EXPECT_NE(a, b);  // seeded
  orthogonal_fill(b.data(), 8, 8, 1, 1);
  EXPECT_EQ(a, b);  // reproducible
}

TEST(Init, NamesAndShapesForOtherSizes) {
  for (auto [L, C, V] : {std::tuple{1, 64, 100}, {3, 128, 512}, {6, 512, 65536}}) {
    ModelConfig cfg = x070_config(L, C, V);
    if (C * V > 10'000'000) {  // only the plan, not the tensors, for the large one
      EXPECT_EQ(x070_param_shapes(cfg).size(), size_t(1 + L * 33 + 2 + 3));
      continue;
    }
    StateDict sd = x070_init(cfg, 1, DType::BF16);
    ModelConfig back = detect_config(sd, "init");
    EXPECT_EQ(back.n_layer, L);
    EXPECT_EQ(back.n_embd, C);
    EXPECT_EQ(back.vocab_size, V);
    EXPECT_EQ(back.n_params, cfg.n_params);
    EXPECT_EQ(sd.size(), size_t(1 + L * 33 + 2 + 3));
  }
}
