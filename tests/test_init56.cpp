// test_init56.cpp — the RWKV-5.2 / RWKV-6 initialisation (model/init56.cpp) against the official
// train.py --my_pile_stage 1 files (fixtures train56/init/, fp32): names, shapes and order; every
// deterministic tensor bit-exact; every random one by its distribution (orthogonal with the rule's
// gain, uniform within the bound with its moments), checked on the fixture's tensor and on ours.
#include <cmath>
#include <cstring>

#include "io/model_file.h"
#include "model/init.h"
#include "model/rwkv56_params.h"
#include "test_orthogonal.h"
#include "test_util.h"

using namespace rwkv;
using namespace rwkv::test;

namespace {


void check_random(const std::string& name, const Tensor& t, const InitRule& r, const char* who) {
  SCOPED_TRACE(std::string(who) + " " + name);
  if (r.kind == InitRule::Orthogonal) {
    EXPECT_LE(orthogonality_error(t, r.scale), 1e-5);  // fp32 files
  } else {
    ASSERT_EQ(r.kind, InitRule::Uniform);
    auto v = t.to_f32_vec();
    const double a = std::fabs(r.scale);
    double m = 0, m2 = 0, mx = 0;
    for (float x : v) m += x, m2 += double(x) * x, mx = std::max(mx, double(std::fabs(x)));
    m /= v.size(), m2 /= v.size();
    EXPECT_LE(mx, a);
    EXPECT_GE(mx, a * 0.98);  // the bound is reached (not a smaller range)
    EXPECT_LE(std::fabs(m), 5 * a / std::sqrt(3.0 * v.size()));
    EXPECT_NEAR(m2, a * a / 3, tol::init_moments.rel * a * a / 3);
  }
}

void check_init(const char* file, Arch arch) {
  StateDict ref = load_pth(fixture(std::string("train56/init/") + file));
  ModelConfig cfg = rwkv56_config(arch, 2, 128, 512, 64, 128, 448);
  StateDict ours = rwkv56_init(cfg, 1234, DType::F32);
  ASSERT_EQ(ours.size(), ref.size());
  int exact = 0, random = 0;
  size_t elements = 0, elements_off = 0;
  for (size_t i = 0; i < ref.size(); i++) {
    auto& [name, rt] = ref.items[i];
    auto& [oname, ot] = ours.items[i];
    ASSERT_EQ(oname, name);
    ASSERT_EQ(ot.shape, rt.shape) << name;
    InitRule r = rwkv56_init_rule(name, rt.shape, cfg);
    if (r.kind == InitRule::Module && r.scale == 1.0) {
      // Bit for bit, including torch.pow(ddd, e)'s rounding (Sleef-style powf, core/torch_powf.h),
      // where a correctly rounded pow is one ulp off for a few elements of e = 0.25 and 0.125.
      auto o = ot.to_f32_vec(), f = rt.to_f32_vec();
      int off = 0;
      for (size_t j = 0; j < f.size(); j++) {
        EXPECT_EQ(o[j], f[j]) << name << "[" << j << "]";
        off += o[j] != f[j];
      }
      elements += f.size(), elements_off += off;
      exact++;
    } else if (r.kind == InitRule::Zero) {
      for (float x : rt.to_f32_vec()) ASSERT_EQ(x, 0.f) << name;
      for (float x : ot.to_f32_vec()) ASSERT_EQ(x, 0.f) << name;
      exact++;
    } else {
      check_random(name, rt, r, "official");
      check_random(name, ot, r, "ours");
      random++;
    }
  }
  std::printf("%s: %d deterministic tensors (%zu of %zu module-value elements exact), %d random by distribution\n",
              file, exact, elements - elements_off, elements, random);
}

}  // namespace

TEST(Init56, X052MatchesOfficialInit) { check_init("x052-L2-D128-V512.pth", Arch::RWKV5_2); }
TEST(Init56, X060MatchesOfficialInit) { check_init("x060-L2-D128-V512.pth", Arch::RWKV6); }
