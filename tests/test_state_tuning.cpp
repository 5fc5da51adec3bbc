// test_state_tuning.cpp — `rwkv train --train_type state`: the model's weights stay frozen (the
// file is byte-identical after the run), only the initial WKV state is trained and lowers the
// loss of the documents, the result is a state file that `generate --state` loads and that
// changes its output, a run resumes from the newest rwkv-N.state, and bad input (a state file of
// another model, no --load_model, a ctx_len that is not a whole number of chunks) is refused
// before any step.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/state_file.h"
#include "io/model_file.h"
#include "model/config.h"
#include "model/rwkv7_params.h"
#include "test_rwkv7_tiny.h"
#include "test_util.h"
#include "train/trainer.h"

using namespace rwkv;
using namespace rwkv::train;
using rwkv::test::TempDir;

namespace {

constexpr int kLayers = 1, kEmbd = 64, kVocab = 256;

ModelConfig model_config() { return x070_config(kLayers, kEmbd, kVocab); }

// A random RWKV-7 L1-D64 with the byte vocabulary, saved as a .pth. Its decay is slow (w0 -6:
// w = exp(-0.6 sigmoid(-6)) ~ 0.9985 per token), as a trained model's is in many channels, so
// the initial state reaches every token of a dialogue.
std::string write_model(const TempDir& d) {
  Rwkv7Params p = test::random_rwkv7_params(model_config(), 11);
  for (int c = 0; c < kEmbd; c++) p.find("blocks.0.att.w0")[c] = -6.f;
  std::string path = d / "base.pth";
  save_pth(path, p.to_state_dict(DType::F32));
  return path;
}

// Short dialogues, one per line (bytes tokenizer: token = byte).
std::string write_dialogues(const TempDir& d) {
  std::string path = d / "dialogues.jsonl";
  std::FILE* f = std::fopen(path.c_str(), "w");
  for (const char* q : {"Hi", "Who are you?", "Say yes.", "Hello there", "Name a color.", "Ping"})
    std::fprintf(f, "{\"text\": \"User: %s\\n\\nAssistant: I am the tuned assistant.\"}\n", q);
  std::fclose(f);
  return path;
}

TrainArgs state_args(const std::string& data, const std::string& proj, const std::string& model) {
  TrainArgs a;
  a.data_file = data, a.proj_dir = proj, a.load_model = model, a.tokenizer = "bytes";
  a.vocab_size = kVocab, a.n_embd = kEmbd, a.n_layer = kLayers, a.ctx_len = 32, a.micro_bsz = 6;
  a.train_type = "state";
  a.lr_init = 1.0, a.lr_final = 1.0, a.warmup_steps = 0;
  a.train_stage = 3, a.epoch_save = 0, a.plot = 0;
  return a;
}

TrainHooks state_hooks() {
  TrainHooks h;
  h.quiet = true;
  const ModelConfig cfg = model_config();
  h.load_state = [cfg](const std::string& p) { return read_state_file(p, cfg, nullptr); };
  h.save_state = [cfg](const std::string& p, const StateDict& st) { save_state_file(p, cfg, st, nullptr); };
  return h;
}

}  // namespace

TEST(StateTuning, LowersTheLossWithTheModelFrozenAndWritesAStateFile) {
  TempDir d;
  const std::string model = write_model(d), data = write_dialogues(d), proj = d / "run";
  const std::string model_bytes = test::read_file(model);
  TrainArgs a = state_args(data, proj, model);
  a.my_exit_tokens = 20 * 6 * 43;  // ~20 steps of six dialogues (43 targets each)
  a.finalize();
  TrainHooks h = state_hooks();
  std::vector<StepInfo> steps;
  h.on_step = [&](const StepInfo& s) { steps.push_back(s); };
  TrainResult r = run_training(a, rwkv7_backend(), h);
  ASSERT_TRUE(r.reached_exit);
  ASSERT_GE(steps.size(), 15u);
  const double before = steps.front().loss, after = steps.back().loss;
  std::printf("[ state ] %zu steps: loss %.4f before tuning, %.4f after\n", steps.size(), before, after);
  EXPECT_LT(after, before - 0.5);
  EXPECT_EQ(test::read_file(model), model_bytes) << "the model file is not written";
  // The state file: the model's identity, tuned WKV state, zero token-shift parts.
  StateDict st = read_state_file(proj + "/rwkv-final.state", model_config(), nullptr);
  double wkv = 0, shift = 0;
  for (auto& [k, t] : st.items)
    for (float x : t.to_f32_vec()) (k.find("wkv") != std::string::npos ? wkv : shift) += double(x) * x;
  EXPECT_GT(wkv, 0.0);
  EXPECT_EQ(shift, 0.0);
  // The tokenized data sits in the run folder.
  EXPECT_TRUE(std::filesystem::exists(proj + "/data.bin"));

  // generate --state: the tuned state changes the greedy continuation.
  const std::string gen = "generate --model " + model + " --tokenizer bytes --tokens 24 --temperature 0 --prompt 'User: Hi\n\nAssistant:'";
  test::CliResult plain = test::run_cli(gen);
  test::CliResult tuned = test::run_cli(gen + " --state " + proj + "/rwkv-final.state");
  ASSERT_EQ(plain.status, 0) << plain.err;
  ASSERT_EQ(tuned.status, 0) << tuned.err;
  auto shown = [](std::string s) {  // a random model's bytes, printable
    for (char& c : s) c = (c >= 32 && c < 127) ? c : '.';
    return s;
  };
  std::printf("[ state ] greedy reply without the state: %s\n[ state ] with it: %s\n", shown(plain.out).c_str(),
              shown(tuned.out).c_str());
  EXPECT_NE(plain.out, tuned.out);

  // Resume: a run folder with rwkv-0.state starts from it (lower first loss than zeros).
  std::filesystem::copy_file(proj + "/rwkv-final.state", proj + "/rwkv-0.state");
  TrainArgs b = state_args(data, proj, model);
  b.my_exit_tokens = a.my_exit_tokens;
  b.finalize();
  TrainHooks h2 = state_hooks();
  h2.max_steps = 1;
  double resumed_loss = 0;
  h2.on_step = [&](const StepInfo& s) { resumed_loss = s.loss; };
  TrainResult r2 = run_training(b, rwkv7_backend(), h2);
  EXPECT_EQ(r2.loaded, proj + "/rwkv-0.state");
  EXPECT_EQ(r2.epoch_begin, 1);
  EXPECT_LT(resumed_loss, before - 0.5);
}

TEST(StateTuning, BadInputIsRefusedBeforeAnyStep) {
  TempDir d;
  const std::string model = write_model(d), data = write_dialogues(d), proj = d / "run";
  auto err = [&](auto mod) {
    return test::error_of([&] {
      TrainArgs a = state_args(data, proj, model);
      a.my_exit_tokens = 1000;
      mod(a);
      a.finalize();
      TrainHooks h = state_hooks();
      h.on_step = [](const StepInfo&) { ADD_FAILURE() << "a step ran"; };
      run_training(a, rwkv7_backend(), h);
    });
  };
  // A state file of another model (n_embd 128).
  const std::string other = d / "other.state";
  StateDict st;
  st.set("state.0.wkv", Tensor::zeros(DType::F32, {2, 64, 64}));
  save_state_file(other, x070_config(1, 128, kVocab), st, nullptr);
  std::string e = err([&](TrainArgs& a) { a.load_state = other; });
  EXPECT_NE(e.find("made for another model"), std::string::npos) << e;
  e = err([](TrainArgs& a) { a.load_model = ""; });
  EXPECT_NE(e.find("[train] --load_model: --train_type state tunes the initial state"), std::string::npos) << e;
  e = err([](TrainArgs& a) { a.ctx_len = 100; });
  EXPECT_NE(e.find("[train] --ctx_len: 100: --train_type state cuts documents into segments"), std::string::npos) << e;
  EXPECT_NE(e.find("e.g. 96"), std::string::npos) << e;
  e = err([](TrainArgs& a) { a.train_type = "infctx", a.load_state = "x.state"; });
  EXPECT_NE(e.find("[train] --load_state: needs --train_type state"), std::string::npos) << e;
  e = err([](TrainArgs& a) { a.train_type = "", a.ctx_len = 32; });
  EXPECT_NE(e.find("[train] --data_type: jsonl is read directly only with --train_type infctx or state"),
            std::string::npos) << e;
  e = err([&](TrainArgs& a) { a.load_model = d / "missing.pth"; });
  EXPECT_NE(e.find("missing.pth"), std::string::npos) << e;
}
