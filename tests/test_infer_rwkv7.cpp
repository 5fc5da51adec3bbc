// test_infer_rwkv7.cpp — RWKV-7 inference through the Runner and `rwkv forward` on the golden
// fixture: GPT-mode logits and final state vs the official fp64 reference; RNN mode and
// chunked prefill vs GPT mode; the model stored in bf16 / fp16 vs fp32; state files.
#include <cstring>

#include "core/error.h"
#include "infer/runner.h"
#include "engine/state_file.h"
#include "infer/session.h"
#include "io/model_file.h"
#include "test_util.h"

using namespace rwkv;
using namespace rwkv::test;

namespace {

struct Fixture {
  StateDict exp;
  int64_t B = 0, T = 0;
  std::vector<int32_t> inputs;  // (B, T) = tokens[:, :-1]
  Fixture() {
    exp = load_safetensors(fixture("rwkv7-L2-D128-V512/expected.safetensors"));
    const Tensor& t = exp.at("tokens");
    B = t.shape[0];
    T = t.shape[1] - 1;
    auto v = t.to_f32_vec();
    for (int64_t b = 0; b < B; b++)
      for (int64_t i = 0; i < T; i++) inputs.push_back(int32_t(v[b * (T + 1) + i]));
  }
  std::vector<float> row(const std::string& name, int64_t b) const {
    const Tensor& t = exp.at(name);
    auto v = t.to_f32_vec();
    int64_t n = t.numel() / t.shape[0];
    return std::vector<float>(v.begin() + b * n, v.begin() + (b + 1) * n);
  }
};

const std::string kModel = "rwkv7-L2-D128-V512/model.pth";

std::vector<float> flat(const RunnerState& s, const std::string& name) { return s.at(name).to_f32_vec(); }

}  // namespace

TEST(InferRwkv7, GptModeMatchesFixture) {
  Fixture f;
  auto r = load_runner(fixture(kModel));
  const int V = r->vocab_size();
  ASSERT_EQ(V, 512);
  for (int64_t b = 0; b < f.B; b++) {
    RunnerState st = r->zero_state();
    std::vector<float> lg(f.T * V);
    r->forward(&f.inputs[b * f.T], f.T, st, lg.data(), true);
    EXPECT_LE(rel_norm_err(lg, f.row("logits", b)), 1e-4) << "row " << b;
    EXPECT_LE(tol_excess(lg, f.row("logits", b), tol::fp32_logits), 0.0);
    for (int i = 0; i < 2; i++)
      for (std::string k : {"att_x", "wkv", "ffn_x"}) {
        std::string name = fmt::format("state.{}.{}", i, k);
        EXPECT_LE(tol_excess(flat(st, name), f.row(name, b), tol::fp32_logits), 0.0) << name;
      }
  }
}

TEST(InferRwkv7, RnnModeAndChunkedPrefillMatchGptMode) {
  Fixture f;
  auto r = load_runner(fixture(kModel));
  const int V = r->vocab_size();
  const int32_t* x = f.inputs.data();
  RunnerState gst = r->zero_state();
  std::vector<float> gpt(f.T * V);
  r->forward(x, f.T, gst, gpt.data(), true);
  // RNN mode: one token at a time
  RunnerState st = r->zero_state();
  std::vector<float> rnn(f.T * V);
  for (int64_t t = 0; t < f.T; t++) r->forward(x + t, 1, st, rnn.data() + t * V, false);
  EXPECT_LE(tol_excess(rnn, gpt, tol::fp32_modes), 0.0);
  for (auto& [name, t] : gst.items) EXPECT_LE(tol_excess(flat(st, name), t.to_f32_vec(), tol::fp32_modes), 0.0) << name;
  // chunked prefill, several splits
  for (std::vector<int> split : {std::vector<int>{1, 31}, {5, 11, 16}, {16, 16}, {31, 1}, {3, 3, 3, 3, 20}}) {
    RunnerState cs = r->zero_state();
    std::vector<float> lg(f.T * V);
    int64_t t0 = 0;
    for (int n : split) {
      r->forward(x + t0, n, cs, lg.data() + t0 * V, true);
      t0 += n;
    }
    ASSERT_EQ(t0, f.T);
    EXPECT_LE(tol_excess(lg, gpt, tol::fp32_modes), 0.0) << "split starting " << split[0];
    for (auto& [name, t] : gst.items) EXPECT_LE(tol_excess(flat(cs, name), t.to_f32_vec(), tol::fp32_modes), 0.0);
  }
  // the Session's chunk_len path gives the last logits of GPT mode
  Session s(r->engine(), 7);
  s.feed(x, f.T);
  std::vector<float> last(gpt.end() - V, gpt.end());
  EXPECT_LE(tol_excess(s.logits(), last, tol::fp32_modes), 0.0);
}

TEST(InferRwkv7, Bf16AndFp16WeightsWithinRounding) {
  Fixture f;
  auto r32 = load_runner(fixture(kModel));
  const int V = r32->vocab_size();
  RunnerState st = r32->zero_state();
  std::vector<float> ref(f.T * V);
  r32->forward(f.inputs.data(), f.T, st, ref.data(), true);
  for (auto [dt, tol] : {std::pair{DType::BF16, tol::bf16_weights}, std::pair{DType::F16, tol::fp16_weights}}) {
    EngineOptions o;
    o.dtype = dt;
    auto r = load_runner(fixture(kModel), o);
    RunnerState s = r->zero_state();
    std::vector<float> lg(f.T * V);
    r->forward(f.inputs.data(), f.T, s, lg.data(), true);
    double e = rel_norm_err(lg, ref);
    EXPECT_LE(e, tol.rel) << dtype_name(dt);
    EXPECT_GT(e, 0.0) << dtype_name(dt) << ": conversion had no effect";
    std::printf("%s weights: logits relative error (norm) vs fp32 %.3g\n", dtype_name(dt), e);
  }
}

TEST(InferRwkv7, StateFileRoundTripAndRefusesAnotherModel) {
  Fixture f;
  auto r = load_runner(fixture(kModel));
  TempDir d;
  Session s(r->engine());
  s.feed(f.inputs.data(), 10);
  std::vector<float> lg10 = s.logits();
  s.save(d / "st.safetensors");
  s.feed(f.inputs.data() + 10, 5);
  std::vector<float> after = s.logits();
  Session s2(r->engine());
  s2.load(d / "st.safetensors");
  EXPECT_EQ(s2.logits(), lg10);  // saved logits restored exactly
  s2.feed(f.inputs.data() + 10, 5);
  EXPECT_EQ(s2.logits(), after);  // same state -> bit-identical next logits
  // a state file from a different model (other n_layer in the metadata) is refused
  RunnerState st = r->zero_state();
  ModelConfig other = r->config();
  other.n_layer = 3;
  save_state_file(d / "other.safetensors", other, st, nullptr);
  try {
    s2.load(d / "other.safetensors");
    FAIL() << "loaded a state of another model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another model"), std::string::npos) << e.what();
  }
  EXPECT_EQ(s2.logits(), after);  // the failed load changed nothing
}

TEST(InferRwkv7, ForwardCliMatchesFixture) {
  Fixture f;
  TempDir d;
  StateDict in;
  Tensor tk = Tensor::empty(DType::I64, {f.B, f.T});
  for (int64_t i = 0; i < f.B * f.T; i++) tk.ptr<int64_t>()[i] = f.inputs[i];
  in.set("tokens", tk);
  save_safetensors(d / "in.safetensors", in);
  for (std::string extra : {"", " --chunk_len 5"}) {
    auto res = run_cli("forward --model " + fixture(kModel) + " --tokens " + (d / "in.safetensors") + " --out " +
                       (d / "out.safetensors") + extra);
    ASSERT_EQ(res.status, 0) << res.err;
    StateDict out = load_safetensors(d / "out.safetensors");
    EXPECT_EQ(out.at("logits").shape, (Shape{f.B, f.T, 512}));
    EXPECT_LE(rel_norm_err(out.at("logits").to_f32_vec(), f.exp.at("logits").to_f32_vec()), 1e-4);
    for (int i = 0; i < 2; i++)
      for (std::string k : {"att_x", "wkv", "ffn_x"}) {
        std::string name = fmt::format("state.{}.{}", i, k);
        EXPECT_EQ(out.at(name).shape, f.exp.at(name).shape) << name;
        EXPECT_LE(tol_excess(out.at(name).to_f32_vec(), f.exp.at(name).to_f32_vec(), tol::fp32_logits), 0.0) << name;
      }
  }
  auto bad = run_cli("forward --model " + (d / "missing.pth") + " --tokens " + (d / "in.safetensors") + " --out " +
                     (d / "o2.safetensors"));
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("missing.pth"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(d / "o2.safetensors"));
}

TEST(InferRwkv7, ForwardCliOnBf16AndFp16StoredModels) {
  // `rwkv convert` stores the fixture model in bf16 / fp16; `rwkv forward` runs the stored file
  // (no --dtype) and lands within the rounding of those weights of the fp32 logits.
  Fixture f;
  TempDir d;
  StateDict in;
  Tensor tk = Tensor::empty(DType::I64, {f.B, f.T});
  for (int64_t i = 0; i < f.B * f.T; i++) tk.ptr<int64_t>()[i] = f.inputs[i];
  in.set("tokens", tk);
  save_safetensors(d / "in.safetensors", in);
  auto ref = run_cli("forward --model " + fixture(kModel) + " --tokens " + (d / "in.safetensors") + " --out " +
                     (d / "ref.safetensors"));
  ASSERT_EQ(ref.status, 0) << ref.err;
  auto lref = load_safetensors(d / "ref.safetensors").at("logits").to_f32_vec();
  for (auto [dt, tol] : {std::pair{std::string("bf16"), tol::bf16_weights}, std::pair{std::string("fp16"), tol::fp16_weights}}) {
    for (std::string ext : {".pth", ".safetensors"}) {
      std::string m = d / ("m_" + dt + ext);
      auto c = run_cli("convert " + fixture(kModel) + " " + m + " --dtype " + dt);
      ASSERT_EQ(c.status, 0) << c.err;
      ASSERT_EQ(load_model_file(m).at("head.weight").dtype, dt == "bf16" ? DType::BF16 : DType::F16);
      auto r = run_cli("forward --model " + m + " --tokens " + (d / "in.safetensors") + " --out " + (d / "o.safetensors"));
      ASSERT_EQ(r.status, 0) << r.err;
      double e = rel_norm_err(load_safetensors(d / "o.safetensors").at("logits").to_f32_vec(), lref);
      EXPECT_LE(e, tol.rel) << dt << ext;
      EXPECT_GT(e, 0.0) << dt << ext;
    }
  }
}
