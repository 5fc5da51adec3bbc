// test_train_loop.cpp — the trainer loop end to end with a toy model (train_toy_model.h): the
// run folder (stage 1 -> rwkv-init.pth; stage 3 -> rwkv-N.pth, rwkv-final.pth at
// my_exit_tokens), train_log.txt and metrics.jsonl formats, resume from the newest checkpoint
// with epoch_begin = N+1, fallback when it is corrupt, and errors before any step.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "data/binidx.h"
#include "data/magic_prime.h"
#include "test_util.h"
#include "train/lr_schedule.h"
#include "train/run_dir.h"
#include "train/sampler.h"
#include "train/trainer.h"
#include "train_toy_model.h"

namespace fs = std::filesystem;
using namespace rwkv::train;
using rwkv::test::TempDir;

namespace {

// 4000 tokens of a noisy periodic sequence over 16 symbols (learnable: loss falls fast).
std::string make_data(const TempDir& d) {
  std::string prefix = d / "data";
  rwkv::BinidxWriter w(prefix);
  std::mt19937 rng(7);
  std::vector<uint16_t> doc;
  for (int i = 0; i < 4000; i++) doc.push_back(uint16_t(rng() % 8 == 0 ? rng() % 16 : (i * 5) % 15));
  doc.back() = 0;
  w.add_document(doc.data(), 2000);
  w.add_document(doc.data() + 2000, 2000);
  w.finalize();
  return prefix;
}

TrainArgs toy_args(const std::string& data, const std::string& proj) {
  TrainArgs a;
  a.data_file = data, a.data_type = "binidx", a.proj_dir = proj;
  a.vocab_size = 16, a.n_embd = 64, a.n_layer = 1, a.ctx_len = 8, a.micro_bsz = 480;  // 84 steps per mini-epoch
  a.magic_prime = int64_t(rwkv::magic_prime(4000, 8));
  a.lr_init = 3e-2, a.lr_final = 3e-3, a.warmup_steps = 5, a.my_exit_tokens = 100 * 480 * 8;
  a.train_stage = 3, a.epoch_save = 1, a.load_model = "0";
  a.finalize();
  return a;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream f(path);
  std::vector<nlohmann::json> v;
  for (std::string line; std::getline(f, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

std::string run_error(const TrainArgs& a) {
  TrainHooks h;
  h.quiet = true;
  try {
    run_training(a, rwkv::test::toy_backend(), h);
  } catch (const rwkv::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TrainLoop, Stage1ThenStage3RunsToMyExitTokens) {
  TempDir d;
  std::string data = make_data(d), proj = d / "out";
  TrainArgs a = toy_args(data, proj);
  ASSERT_EQ(a.magic_prime, 491);
  ASSERT_EQ(a.epoch_steps, 84);
  TrainHooks h;
  h.quiet = true;

  TrainArgs s1 = a;
  s1.train_stage = 1, s1.load_model = "";
  EXPECT_TRUE(run_training(s1, rwkv::test::toy_backend(), h).stage1_done);
  EXPECT_TRUE(fs::exists(proj + "/rwkv-init.pth"));
  EXPECT_FALSE(fs::exists(proj + "/train_log.txt"));
  EXPECT_EQ(list_checkpoints(proj), std::vector<int64_t>{-1});

  std::vector<StepInfo> steps;
  rwkv::BinidxReader reader(data);
  h.on_step = [&](const StepInfo& s) { steps.push_back(s); };
  TrainResult r = run_training(a, rwkv::test::toy_backend(), h);
  EXPECT_EQ(r.loaded, proj + "/rwkv-init.pth");
  EXPECT_EQ(r.epoch_begin, 0);
  EXPECT_TRUE(r.reached_exit);
  ASSERT_EQ(r.steps_run, 100);
  ASSERT_EQ(steps.size(), 100u);
  // batches: the magic-prime sampler (epoch 0 for steps < 84, then epoch 1)
  EXPECT_EQ(steps[0].first_sample_offset, sample_offset(491, 8, 0, 0));
  EXPECT_EQ(steps[83].epoch, 0);
  EXPECT_EQ(steps[84].epoch, 1);
  EXPECT_EQ(steps[84].first_sample_offset, sample_offset(491, 8, 1, 0));
  EXPECT_EQ(steps[50].first_sample_offset, sample_offset(491, 8, 0, 50 * 480));
  // lr: warmup from 0.01*lr_init, then cosine
  EXPECT_NEAR(steps[0].lr, 3e-4, 1e-12);
  EXPECT_NEAR(steps[5].lr, 3e-2, 1e-9);
  EXPECT_GT(steps[0].loss, steps[99].loss + 0.5);  // it learns
  // files
  EXPECT_TRUE(fs::exists(proj + "/rwkv-0.pth"));
  EXPECT_FALSE(fs::exists(proj + "/rwkv-1.pth"));  // epoch 1 did not finish
  EXPECT_TRUE(fs::exists(proj + "/rwkv-final.pth"));
  auto m = read_jsonl(proj + "/metrics.jsonl");
  ASSERT_EQ(m.size(), 100u);
  for (const char* k : {"step", "loss", "lr", "grad_norm", "tokens", "tokens_per_s"}) EXPECT_TRUE(m[7].contains(k)) << k;
  EXPECT_EQ(m[7]["step"], 7);
  EXPECT_EQ(m[7]["tokens"], 8 * 3840);
  EXPECT_NEAR(m[7]["loss"].get<double>(), steps[7].loss, 1e-6);
  EXPECT_NEAR(m[7]["grad_norm"].get<double>(), steps[7].grad_norm, 1e-9);
  std::string log = rwkv::test::read_file(proj + "/train_log.txt");
  std::regex head(R"(^NEW RUN \d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\n\{'load_model': '[^\n]*\}\n)");
  EXPECT_TRUE(std::regex_search(log, head)) << log;
  // "<epoch> <loss:.6f> <ppl:.4f> <lr:.8f> <YYYY-MM-DD HH:MM:SS.ffffff> <epoch in run>"
  std::regex line(R"(\n0 (\d+\.\d{6}) \d+\.\d{4} 0\.\d{8} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})? 0\n)");
  std::smatch mm;
  ASSERT_TRUE(std::regex_search(log, mm, line)) << log;
  double mean = 0;
  for (int i = 0; i < 84; i++) mean += steps[i].loss;
  EXPECT_NEAR(std::stod(mm[1]), mean / 84, 2e-6);

  // The saved model is the trained one: rerunning from rwkv-final is not possible (exit at once).
  TrainResult again = run_training(a, rwkv::test::toy_backend(), h);
  EXPECT_EQ(again.loaded, proj + "/rwkv-0.pth");
  EXPECT_EQ(again.epoch_begin, 1);
  EXPECT_EQ(again.steps_run, 16);  // real steps 84..99
}

TEST(TrainLoop, ResumesFromNewestAndFallsBackWhenCorrupt) {
  TempDir d;
  std::string data = make_data(d), proj = d / "out";
  TrainArgs a = toy_args(data, proj);
  TrainHooks h;
  h.quiet = true;
  TrainArgs s1 = a;
  s1.train_stage = 1, s1.load_model = "";
  run_training(s1, rwkv::test::toy_backend(), h);
  h.max_steps = 90;  // stops after mini-epoch 0 was saved
  EXPECT_EQ(run_training(a, rwkv::test::toy_backend(), h).steps_run, 90);
  EXPECT_EQ(list_checkpoints(proj), (std::vector<int64_t>{-1, 0}));
  EXPECT_EQ(read_jsonl(proj + "/metrics.jsonl").size(), 90u);

  // a half-written newer checkpoint (as a crash mid-save of another tool would leave)
  { std::ofstream(proj + "/rwkv-1.pth") << "PK\x03\x04 truncated"; }
  h.max_steps = -1;
  std::vector<StepInfo> steps;
  h.on_step = [&](const StepInfo& s) { steps.push_back(s); };
  TrainResult r = run_training(a, rwkv::test::toy_backend(), h);
  EXPECT_EQ(r.loaded, proj + "/rwkv-0.pth");  // fell back to the one before
  EXPECT_EQ(r.epoch_begin, 1);
  ASSERT_EQ(r.steps_run, 16);
  EXPECT_EQ(steps[0].real_step, 84);
  EXPECT_EQ(steps[0].epoch, 1);
  // warmup restarts: resumed from rwkv-N.pth with --warmup_steps 5 given -> 5 steps of warmup
  LrSchedule s;
  s.lr_init = a.lr_init, s.lr_final = a.lr_final, s.warmup_steps = 5, s.my_exit_tokens = a.my_exit_tokens;
  s.tokens_per_step = 3840;
  EXPECT_NEAR(steps[0].lr, s.at(0, 84).lr, 1e-15);
  auto m = read_jsonl(proj + "/metrics.jsonl");
  ASSERT_EQ(m.size(), 106u);
  EXPECT_EQ(m[90]["step"], 84);  // the log continues with the resumed steps
  std::string log = rwkv::test::read_file(proj + "/train_log.txt");
  size_t n_runs = 0;
  for (size_t p = 0; (p = log.find("NEW RUN", p)) != std::string::npos; p++) n_runs++;
  EXPECT_EQ(n_runs, 2u);
}

TEST(TrainLoop, ErrorsBeforeAnyStep) {
  TempDir d;
  std::string data = make_data(d), proj = d / "out";
  TrainArgs a = toy_args(data, proj);
  a.train_stage = 0, a.load_model = "";
  // a checkpoint of another shape
  TrainArgs s0 = a;
  s0.train_stage = 1;
  rwkv::train::TrainHooks quiet;
  quiet.max_steps = 0, quiet.quiet = true;
  run_training(s0, rwkv::test::toy_backend(), quiet);
  TrainArgs big = a;
  big.n_embd = 128, big.dim_att = 0, big.finalize();
  big.load_model = proj + "/rwkv-init.pth";
  std::string e = run_error(big);
  EXPECT_NE(e.find("emb.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("(16, 64)"), std::string::npos) << e;
  EXPECT_NE(e.find("another shape"), std::string::npos) << e;
  // vocab smaller than a token
  TrainArgs v = a;
  v.vocab_size = 10;
  e = run_error(v);
  EXPECT_NE(e.find("holds token 15"), std::string::npos) << e;
  // bad magic prime
  TrainArgs p = a;
  p.magic_prime = 487;  // prime, 487 % 3 == 1
  e = run_error(p);
  EXPECT_NE(e.find("not 2 mod 3"), std::string::npos) << e;
  // unwritable proj_dir (a path below a regular file)
  TrainArgs w = a;
  w.proj_dir = data + ".bin/out";
  e = run_error(w);
  EXPECT_NE(e.find("--proj_dir"), std::string::npos) << e;
  // stage 3 with nothing to resume from
  TrainArgs r = a;
  r.proj_dir = d / "empty", r.train_stage = 3, r.load_model = "0";
  e = run_error(r);
  EXPECT_NE(e.find("holds no rwkv-*.pth"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(proj + "/metrics.jsonl"));
  EXPECT_FALSE(fs::exists(proj + "/train_log.txt"));
}

TEST(TrainRunDir, ListsCheckpointsAsTrainPy) {
  TempDir d;
  for (const char* n : {"rwkv-init.pth", "rwkv-3.pth", "rwkv-12.pth", "rwkv-final.pth", "rwkv-5.pth.tmp.12",
                        "rwkv-7.pth.saving.3", "other.pth", "rwkv-x.pth"})
    std::ofstream(d / n) << "x";
  EXPECT_EQ(list_checkpoints(d.path), (std::vector<int64_t>{-1, 3, 12}));
  auto c = choose_resume(d.path);
  EXPECT_TRUE(c.found);
  EXPECT_EQ(c.newest, 12);
  EXPECT_EQ(c.prev, 3);
  EXPECT_EQ(checkpoint_path("p", -1), "p/rwkv-init.pth");
  EXPECT_EQ(checkpoint_path("p", 12), "p/rwkv-12.pth");
}
