// test_rwkv7_grads.cpp — RWKV-7 training gradients: finite differences of the whole model on a
// tiny random configuration, grad_cp equivalence and memory, and (when the fixture loads) every
// grad.* of the official fp64 reference.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/model_file.h"
#include "model/rwkv7_params.h"
#include "model/rwkv7_train.h"
#include "test_rwkv7_fixture.h"
#include "test_rwkv7_tiny.h"
#include "test_util.h"

using namespace rwkv;

namespace {

ModelConfig tiny_config() { return test::tiny_rwkv7_config(3, 13); }
Rwkv7Params random_params(const ModelConfig& c, uint32_t seed) { return test::random_rwkv7_params(c, seed); }
using test::random_tokens;

}  // namespace

TEST(Rwkv7Grads, FiniteDifferencesTinyModel) {
  const ModelConfig c = tiny_config();
  Rwkv7Params p = random_params(c, 11);
  const int B = 2, T = 20;  // T crosses a WKV checkpoint chunk (16)
  auto tok = random_tokens(B, T, c.vocab_size, 12);
  Rwkv7Params g;
  Rwkv7TrainScratch s;
  rwkv7_forward_backward(p, tok.data(), B, T, g, s, false, /*l2wrap=*/0.f);

  Rwkv7TrainScratch se;
  std::vector<float> rows(size_t(B) * T);
  auto loss = [&] {
    rwkv7_forward_loss(p, tok.data(), B, T, se, rows.data());
    double sum = 0;
    for (float r : rows) sum += r;
    return sum / rows.size();
  };
  const float eps = 3e-3f;
  std::mt19937 pick(13);
  for (auto& spec : rwkv7_param_specs(c)) {
    float* w = p.find(spec.name);
    const float* gw = g.find(spec.name);
    const int64_t n = shape_numel(spec.shape);
    std::vector<float> an, fd;
    for (int64_t i : test::fd_probe_indices(gw, n, pick, 2)) {  // the largest analytic entry and two random ones
      float orig = w[i];
      w[i] = orig + eps;
      double lp = loss();
      w[i] = orig - eps;
      double lm = loss();
      w[i] = orig;
      an.push_back(gw[i]);
      fd.push_back(float((lp - lm) / (2.0 * eps)));
    }
    EXPECT_LE(test::tol_excess(an, fd, test::tol::fd_model), 0.0)
        << spec.name << ": analytic " << an[0] << " " << an[1] << " " << an[2] << " fd " << fd[0]
        << " " << fd[1] << " " << fd[2];
  }
}

TEST(Rwkv7Grads, GradCpGivesIdenticalGradientsWithLessMemory) {
  const ModelConfig c = tiny_config();
  Rwkv7Params p = random_params(c, 21);
  const int B = 3, T = 24;
  auto tok = random_tokens(B, T, c.vocab_size, 22);
  Rwkv7Params g1, g2;
  Rwkv7TrainScratch s1, s2;
  float l1 = rwkv7_forward_backward(p, tok.data(), B, T, g1, s1, false);
  float l2 = rwkv7_forward_backward(p, tok.data(), B, T, g2, s2, true);
  EXPECT_EQ(l1, l2);
  EXPECT_EQ(g1.data, g2.data);
  EXPECT_LT(s2.peak_bytes(), s1.peak_bytes());
  // The eval loss is the training loss.
  Rwkv7TrainScratch s3;
  EXPECT_EQ(rwkv7_forward_loss(p, tok.data(), B, T, s3), l1);
  // A second step reuses the scratch (same numbers, no growth).
  size_t before = s1.bytes();
  Rwkv7Params g3;
  rwkv7_forward_backward(p, tok.data(), B, T, g3, s1, false);
  EXPECT_EQ(g3.data, g1.data);
  EXPECT_EQ(s1.bytes(), before);
}

// The data-parallel overlap's contract (rwkv7_train.h grads_ready): the backward reports the
// head, each block top down, then the embedding; what it has reported (the flat buffer from
// that layer's first parameter to the end) is final — never written again — and the hook
// changes no number (with and without grad_cp).
TEST(Rwkv7Grads, GradsReadyReportsFinishedLayersTopDown) {
  const ModelConfig c = tiny_config();
  const Rwkv7Params p = random_params(c, 31);
  const int B = 2, T = 16, L = c.n_layer;
  auto tok = random_tokens(B, T, c.vocab_size, 32);
  for (bool cp : {false, true}) {
    Rwkv7Params ref, g;
    Rwkv7TrainScratch s1, s2;
    const float l_ref = rwkv7_forward_backward(p, tok.data(), B, T, ref, s1, cp);
    std::vector<int> order;
    std::vector<std::pair<size_t, std::vector<float>>> seen;  // (from, grads[from:] when reported)
    auto from_of = [&](int layer) -> size_t {
      const char* name = nullptr;
      std::string n;
      if (layer == L) name = "ln_out.weight";
      else if (layer >= 0) n = "blocks." + std::to_string(layer) + ".ln1.weight", name = n.c_str();
      return name ? size_t(g.find(name) - g.data.data()) : 0;
    };
    const float l = rwkv7_forward_backward(p, tok.data(), B, T, g, s2, cp, 1e-4f, nullptr, [&](int layer) {
      order.push_back(layer);
      const size_t from = from_of(layer);
      seen.emplace_back(from, std::vector<float>(g.data.begin() + int64_t(from), g.data.end()));
    });
    EXPECT_EQ(l, l_ref);
    EXPECT_EQ(g.data, ref.data) << "grad_cp " << cp;
    std::vector<int> want;
    for (int layer = L; layer >= -1; layer--) want.push_back(layer);
    EXPECT_EQ(order, want);
    for (auto& [from, v] : seen)
      EXPECT_TRUE(std::equal(v.begin(), v.end(), g.data.begin() + int64_t(from)))
          << "grads from " << from << " changed after they were reported (grad_cp " << cp << ")";
  }
}

TEST(Rwkv7Grads, ParamsRoundTripThroughStateDict) {
  const ModelConfig c = tiny_config();
  Rwkv7Params p = random_params(c, 31);
  StateDict sd = p.to_state_dict(DType::F32);
  ASSERT_EQ(sd.items.front().first, "emb.weight");
  EXPECT_EQ(sd.at("blocks.0.att.x_r").shape, (Shape{1, 1, 16}));
  EXPECT_EQ(sd.at("blocks.1.att.r_k").shape, (Shape{2, 8}));
  EXPECT_EQ(sd.at("blocks.2.ffn.key.weight").shape, (Shape{32, 16}));
  Rwkv7Params q = Rwkv7Params::from_state_dict(sd, "roundtrip");
  EXPECT_EQ(q.data, p.data);
  EXPECT_EQ(q.cfg.d_gate, 8);
  EXPECT_EQ(q.cfg.n_params, p.numel());
  // Copies rebind their views to their own buffer.
  Rwkv7Params r = q;
  EXPECT_EQ(r.layers[1].w0, r.find("blocks.1.att.w0"));
  EXPECT_NE(r.layers[1].w0, q.layers[1].w0);
  // A wrong shape is refused with the key named.
  sd.set("blocks.1.att.w1", Tensor::zeros(DType::F32, {16, 5}));
  try {
    Rwkv7Params::from_state_dict(sd, "bad.pth");
    FAIL() << "accepted a wrong shape";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blocks.1.att.w1"), std::string::npos) << e.what();
  }
}

// ---- the official fixture: loss and every gradient (fp64 reference, L2Wrap included) ----

namespace {

using GradFixture = test::Rwkv7Fixture;

void expect_fixture_grads(const GradFixture& f, const Rwkv7Params& p, const Rwkv7Params& g) {
  int checked = 0;
  double worst = 0;
  std::string worst_name;
  for (auto& spec : rwkv7_param_specs(p.cfg)) {
    const Tensor* ref_t = f.expected.find("grad." + spec.name);
    ASSERT_NE(ref_t, nullptr) << "fixture lacks grad." << spec.name;
    const std::vector<float> ref = ref_t->to_f32_vec();
    const int64_t n = shape_numel(spec.shape);
    std::vector<float> got(g.find(spec.name), g.find(spec.name) + n);
    double ref_norm = 0;
    for (float x : ref) ref_norm += double(x) * x;
    if (ref_norm == 0) {  // blocks.0.att.v0/v1/v2: unused in layer 0
      for (float x : got) ASSERT_EQ(x, 0.f) << spec.name;
    } else {
      const double err = test::rel_norm_err(got, ref);
      if (err > worst) worst = err, worst_name = spec.name;
      EXPECT_LE(err, test::tol::fp32_grads.rel) << spec.name << " relative error (norm) " << err;
    }
    checked++;
  }
  std::printf("[ fixture ] worst gradient relative error (norm) %.3g (%s) over %d tensors\n", worst,
              worst_name.c_str(), checked);
  EXPECT_EQ(checked, int(f.expected.size()) - 2 - 3 * p.cfg.n_layer - 1);  // minus tokens/logits/loss/state
}

}  // namespace

TEST(Rwkv7Grads, FixtureLossAndEveryGradient) {
  GradFixture f = test::load_rwkv7_fixture();
  Rwkv7Params p = Rwkv7Params::from_state_dict(f.model, "model.pth");
  // The official parameter order is the file's order.
  auto specs = rwkv7_param_specs(p.cfg);
  ASSERT_EQ(specs.size(), f.model.size());
  for (size_t i = 0; i < specs.size(); i++) {
    EXPECT_EQ(specs[i].name, f.model.items[i].first);
    EXPECT_EQ(specs[i].shape, f.model.items[i].second.shape) << specs[i].name;
  }
  Rwkv7Params g;
  Rwkv7TrainScratch s;
  float loss = rwkv7_forward_backward(p, f.tokens.data(), f.B, f.T, g, s, false);
  EXPECT_NEAR(loss, f.expected.at("loss").to_f32_vec()[0], 1e-4);
  expect_fixture_grads(f, p, g);
}

TEST(Rwkv7Grads, FixtureGradCpSameGradientsLessMemory) {
  GradFixture f = test::load_rwkv7_fixture();
  Rwkv7Params p = Rwkv7Params::from_state_dict(f.model, "model.pth");
  Rwkv7Params g0, g1;
  Rwkv7TrainScratch s0, s1;
  rwkv7_forward_backward(p, f.tokens.data(), f.B, f.T, g0, s0, false);
  rwkv7_forward_backward(p, f.tokens.data(), f.B, f.T, g1, s1, true);
  EXPECT_EQ(g0.data, g1.data);
  EXPECT_LT(s1.peak_bytes(), s0.peak_bytes());
  std::printf("[ grad_cp ] peak scratch bytes: %zu without, %zu with grad_cp (%.1f%%)\n",
              s0.peak_bytes(), s1.peak_bytes(), 100.0 * double(s1.peak_bytes()) / double(s0.peak_bytes()));
}
