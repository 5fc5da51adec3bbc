// test_train_optim.cpp — the official optimizer pieces: lr schedule (every step of the demo
// trajectory, exactly), parameter groups, AdamW (bias correction, decoupled decay, 2x w0),
// grad-norm clip, and train.py's derived args and flag checks.
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_util.h"
#include "train/adamw.h"
#include "train/lr_schedule.h"
#include "train/train_args.h"

using namespace rwkv::train;

TEST(TrainLr, EveryStepOfTheDemoTrajectory) {
  std::ifstream f(rwkv::test::fixture("traj-demo-L4-D256-bytes/trajectory.json"));
  auto j = nlohmann::json::parse(f);
  LrSchedule s;
  s.lr_init = 6e-4, s.lr_final = 6e-5, s.warmup_steps = 10, s.my_exit_tokens = 307200, s.tokens_per_step = 128 * 8;
  for (auto& st : j["steps"]) {
    int64_t step = st["step"];
    LrPoint p = s.at(step, step);
    // Same double operations as trainer.py: equal to the last bit (allow 1 ulp for cos()).
    EXPECT_NEAR(p.lr, st["lr"].get<double>(), 1e-16) << "step " << step;
    EXPECT_FALSE(p.exit);
  }
  EXPECT_TRUE(s.at(300, 300).exit);   // 300 * 1024 tokens = my_exit_tokens: stop before step 300
  EXPECT_DOUBLE_EQ(s.at(0, 0).lr, 6e-4 * 0.01);
}

TEST(TrainLr, WarmupCountsFromTheStartOfEachRun) {
  LrSchedule s;
  s.lr_init = 1e-3, s.lr_final = 1e-4, s.warmup_steps = 10, s.my_exit_tokens = 1000000, s.tokens_per_step = 100;
  // resumed run: global_step 0 at real_step 5040 -> warmup factor 0.01 on the cosine value
  double cosv = s.at(100, 5040).lr;
  EXPECT_NEAR(s.at(0, 5040).lr, cosv * 0.01, 1e-18);
  EXPECT_NEAR(s.at(5, 5040).lr, cosv * (0.01 + 0.99 * 0.5), 1e-18);
  // cosine midpoint: progress 0.5 -> (lr_init + lr_final) / 2
  int64_t mid = (1000000 / 100 + 10) / 2;
  EXPECT_NEAR(s.at(100, mid).lr, 5.5e-4, 1e-12);
  EXPECT_NEAR(s.at(100, 9999).lr, 1e-4, 1e-9);
  EXPECT_TRUE(s.at(100, 10000).exit);
}

TEST(TrainOptim, ParamGroupsAsConfigureOptimizers) {
  EXPECT_EQ(param_group("blocks.0.att.w0", {1, 1, 64}, 0.1), ParamGroup::Lr2x);
  EXPECT_EQ(param_group("blocks.0.att.w0", {1, 1, 64}, 0), ParamGroup::Lr2x);
  EXPECT_EQ(param_group("emb.weight", {256, 64}, 0.1), ParamGroup::Decay);
  EXPECT_EQ(param_group("head.weight", {256, 64}, 0.1), ParamGroup::Decay);
  EXPECT_EQ(param_group("blocks.1.ffn.key.weight", {256, 64}, 0.1), ParamGroup::Decay);
  EXPECT_EQ(param_group("blocks.1.ffn.key.weight", {256, 64}, 0), ParamGroup::Lr1x);  // no decay group
  EXPECT_EQ(param_group("blocks.0.ln1.weight", {64}, 0.1), ParamGroup::Lr1x);
  EXPECT_EQ(param_group("blocks.0.att.w1", {64, 32}, 0.1), ParamGroup::Lr1x);         // no ".weight"
  EXPECT_EQ(param_group("blocks.0.att.r_k", {1, 64}, 0.1), ParamGroup::Lr1x);
  EXPECT_EQ(param_group("x.weight", {1, 1, 64}, 0.1), ParamGroup::Lr1x);               // 1-D after squeeze
}

TEST(TrainOptim, AdamWTwoStepsByHand) {
  // Three tensors: a decayed weight, a 1x vector, att.w0 at 2x lr.
  std::vector<ParamSlot> slots = {{"a.weight", {2, 2}, 0, 4}, {"ln.bias", {1}, 4, 1}, {"blocks.0.att.w0", {1, 1, 1}, 5, 1}};
  AdamWConfig c;
  c.beta1 = 0.9, c.beta2 = 0.99, c.eps = 1e-8, c.weight_decay = 0.1;
  AdamW opt(slots, 6, c);
  std::vector<float> p = {1, -2, 0.5f, 3, 0.25f, -1}, p0 = p;
  std::vector<double> m(6, 0), v(6, 0), pd(p.begin(), p.end());
  const double g1[6] = {0.1, -0.2, 0.3, 0.0, 1.0, -0.5}, g2[6] = {-0.1, 0.05, 0.3, 2.0, 0.5, 0.5};
  const double lr = 1e-2;
  for (int t = 1; t <= 2; t++) {
    const double* g = t == 1 ? g1 : g2;
    std::vector<float> gf(g, g + 6);
    opt.step(p.data(), gf.data(), lr);
    for (int i = 0; i < 6; i++) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i];
      double u = (m[i] / (1 - std::pow(0.9, t))) / (std::sqrt(v[i] / (1 - std::pow(0.99, t))) + 1e-8);
      double wd = i < 4 ? 0.1 : 0.0, lrg = i == 5 ? 2 * lr : lr;
      pd[i] -= lrg * (u + wd * pd[i]);
    }
  }
  for (int i = 0; i < 6; i++) EXPECT_NEAR(p[i], pd[i], 2e-6) << i;
  EXPECT_EQ(opt.steps(), 2);
  // the first step of Adam moves every parameter with a nonzero gradient by ~lr (sign of g)
  EXPECT_GT(p0[4] - p[4], 0.015);  // two steps of lr 0.01 against g > 0
}

TEST(TrainOptim, GradNormClip) {
  std::vector<float> g = {3, 4, 0, 0};
  double n = grad_norm(g.data(), g.size());
  EXPECT_DOUBLE_EQ(n, 5.0);
  EXPECT_DOUBLE_EQ(clip_grad_norm(g.data(), g.size(), n, 10.0), 1.0);  // below max: untouched
  EXPECT_EQ(g[0], 3.f);
  double c = clip_grad_norm(g.data(), g.size(), n, 1.0);
  EXPECT_NEAR(c, 1.0 / (5.0 + 1e-6), 1e-12);
  EXPECT_NEAR(grad_norm(g.data(), g.size()), 1.0, 1e-6);
  EXPECT_DOUBLE_EQ(clip_grad_norm(g.data(), g.size(), 100.0, 0.0), 1.0);  // 0 disables
}

TEST(TrainArgs, DerivedAsTrainPy) {
  TrainArgs a;
  a.data_type = "binidx", a.n_embd = 768, a.micro_bsz = 16, a.magic_prime = 2926181, a.my_exit_tokens = 1;
  a.finalize();
  EXPECT_EQ(a.dim_att, 768);
  EXPECT_EQ(a.dim_ffn, 2688);          // int((768*3.5)//32*32)
  EXPECT_EQ(a.real_bsz, 16);
  EXPECT_EQ(a.epoch_steps, 2520);      // 40320 / 16
  EXPECT_EQ(a.epoch_count, 72);        // 2926181 // 40320
  EXPECT_EQ(a.my_timestamp.size(), 19u);
  std::string r = a.vars_repr();
  EXPECT_NE(r.find("'lr_init': 0.0006"), std::string::npos) << r;
  EXPECT_NE(r.find("'adam_eps': 1e-18"), std::string::npos) << r;
  EXPECT_NE(r.find("'grad_clip': 1.0"), std::string::npos) << r;
  EXPECT_NE(r.find("'betas': (0.9, 0.99)"), std::string::npos) << r;
  EXPECT_NE(a.banner().find("Each \"epoch\" = 2520 steps, 40320 samples, 41287680 tokens"), std::string::npos);
}

TEST(TrainArgs, BadValuesAreClearErrors) {
  auto err = [](auto mod) {
    TrainArgs a;
    a.data_type = "binidx", a.n_embd = 256, a.micro_bsz = 8, a.my_exit_tokens = 1000;
    mod(a);
    try {
      a.finalize();
    } catch (const rwkv::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(err([](TrainArgs& a) { a.micro_bsz = 11; }).find("--micro_bsz"), std::string::npos);
  EXPECT_NE(err([](TrainArgs& a) { a.data_type = "utf-8"; }).find("--data_type"), std::string::npos);
  EXPECT_NE(err([](TrainArgs& a) { a.precision = "fp8"; }).find("--precision"), std::string::npos);
  EXPECT_NE(err([](TrainArgs& a) { a.n_embd = 100; }).find("--n_embd"), std::string::npos);
  EXPECT_NE(err([](TrainArgs& a) { a.my_exit_tokens = 0; }).find("--my_exit_tokens"), std::string::npos);
  EXPECT_NE(err([](TrainArgs& a) { a.head_size = 32; }).find("--head_size"), std::string::npos);
  EXPECT_EQ(err([](TrainArgs& a) { a.devices = 2; a.micro_bsz = 4; }), "");
}

TEST(TrainArgs, ClosestFlag) {
  const auto& v = train_flag_names();
  EXPECT_EQ(closest_flag("ctx_lenn", v), "ctx_len");
  EXPECT_EQ(closest_flag("lr-init", v), "lr_init");
  EXPECT_EQ(closest_flag("magicprime", v), "magic_prime");
  EXPECT_EQ(closest_flag("micro_bs", v), "micro_bsz");
}
