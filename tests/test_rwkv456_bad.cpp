// test_rwkv456_bad.cpp — bad input for the RWKV-4/5/6 runners: a layout mixing versions, a state
// file of another version, token ids and states that do not fit the model. Each must be a clear
// rwkv::Error naming what is wrong.
#include "core/error.h"
#include "infer/runner.h"
#include "engine/state_file.h"
#include "infer/session.h"
#include "io/model_file.h"
#include "model/config.h"
#include "test_util.h"

namespace {

using namespace rwkv;

StateDict pip_model(int v) {
  return load_model_file(rwkv::test::fixture("pip/rwkv" + std::to_string(v) + "-L2-D128-V512/model.pth"));
}

// Runs f, expects an rwkv::Error whose message contains every one of `parts`.
template <class F>
void expect_error(F&& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const rwkv::Error& e) {
    std::string msg = e.what();
    for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

TEST(Rwkv456Bad, LayoutMixingVersions) {
  // An RWKV-5.2 file with one RWKV-6 tensor in layer 1.
  StateDict sd5 = pip_model(5);
  sd5.set("blocks.1.att.time_maa_x", Tensor::zeros(DType::F32, {1, 1, 128}));
  expect_error([&] { make_runner(std::move(sd5), "mixed56.pth"); }, {"mixed56.pth", "blocks."});
  // An RWKV-4 file with an RWKV-5 GroupNorm in layer 0.
  StateDict sd4 = pip_model(4);
  sd4.set("blocks.0.att.ln_x.weight", Tensor::zeros(DType::F32, {128}));
  expect_error([&] { make_runner(std::move(sd4), "mixed45.pth"); }, {"mixed45.pth", "blocks."});
}

TEST(Rwkv456Bad, WrongShapeNamesTheTensor) {
  StateDict sd = pip_model(6);
  sd.set("blocks.1.att.time_decay_w2", Tensor::zeros(DType::F32, {64, 100}));
  expect_error([&] { make_runner(std::move(sd), "bad6.pth"); }, {"bad6.pth", "blocks.1.att.time_decay_w2"});
}

TEST(Rwkv456Bad, StateFileOfAnotherVersion) {
  // v5.2 and v6.0 fixtures have identical state names and shapes: only the version tells them apart.
  auto r5 = make_runner(pip_model(5), "v5");
  auto r6 = make_runner(pip_model(6), "v6");
  auto r4 = make_runner(pip_model(4), "v4");
  rwkv::test::TempDir d;
  RunnerState st = r5->zero_state();
  int32_t tok = 3;
  r5->forward(&tok, 1, st, nullptr, false);
  save_state_file(d / "v5.state", r5->config(), st, nullptr);
  std::vector<float> lg;
  expect_error([&] { read_state_file(d / "v5.state", r6->config(), &lg); },
               {"v5.state", "x052", "x060"});
  expect_error([&] { read_state_file(d / "v5.state", r4->config(), &lg); },
               {"v5.state", "x052"});
  // The same version reads it back exactly.
  RunnerState back = read_state_file(d / "v5.state", r5->config(), &lg);
  EXPECT_EQ(back.at("state.1.wkv").to_f32_vec(), st.at("state.1.wkv").to_f32_vec());
}

TEST(Rwkv456Bad, TokenAndStateThatDoNotFit) {
  for (int v : {4, 5, 6}) {
    auto r = make_runner(pip_model(v), "m");
    RunnerState st = r->zero_state();
    int32_t tok = 512;
    expect_error([&] { r->forward(&tok, 1, st, nullptr, false); }, {"512", "vocabulary"});
    RunnerState other = make_runner(pip_model(v == 4 ? 5 : 4), "o")->zero_state();
    tok = 1;
    expect_error([&] { r->forward(&tok, 1, other, nullptr, false); }, {"state"});
  }
}

}  // namespace
