// test_train56_checkpoint.cpp — acceptance 4 of the x052/x060 trainer: the rwkv-final.pth a
// short `rwkv train --my_testing x052|x060` run writes (official names and shapes) loads in the
// inference engine: `rwkv forward` gives the trainer's own logits for the same tokens, and
// `rwkv generate` (greedy) continues a prompt with the argmax of those logits.
#include <algorithm>
#include <string>

#include "io/model_file.h"
#include "model/rwkv56_train.h"
#include "test_util.h"
#include "train/trainer.h"

using namespace rwkv;
using namespace rwkv::test;

namespace {

void check_version(const std::string& v, Arch arch) {
  TempDir d;
  train::TrainArgs a;
  std::string D = fixture("traj-demo-L4-D256-bytes");
  a.load_model = fixture("train56/traj-" + v + "-bytes/rwkv-init.pth");
  a.data_file = D + "/data", a.data_type = "binidx", a.my_testing = v, a.vocab_size = 256, a.ctx_len = 128;
  a.micro_bsz = 8, a.n_layer = 2, a.n_embd = 128, a.lr_init = 6e-4, a.lr_final = 6e-5, a.warmup_steps = 10;
  a.weight_decay = 0.001, a.my_exit_tokens = 3 * 8 * 128, a.magic_prime = 2309, a.my_pile_stage = 3;
  a.proj_dir = d / "out", a.precision = "fp32", a.plot = 0;
  a.finalize();
  train::TrainHooks h;
  h.quiet = true;
  auto r = train::run_training(a, train::backend_for(a), h);
  ASSERT_TRUE(r.reached_exit);
  const std::string fin = d / "out/rwkv-final.pth";

  // The trainer's logits for "Hello, world" (bytes) from the saved checkpoint.
  const std::string prompt = "Hello, world";
  std::vector<int32_t> toks(prompt.begin(), prompt.end());
  toks.push_back(' ');  // a target for the last position (unused)
  const int T = int(prompt.size());
  ModelConfig cfg = rwkv56_config(arch, 2, 128, 256, 64, 128, 448);
  Rwkv56Params p = Rwkv56Params::from_state_dict(load_pth(fin), cfg, 8, fin);
  Rwkv56TrainScratch s;
  rwkv56_forward_loss(p, toks.data(), 1, T, s);

  Tensor t = Tensor::empty(DType::I64, {1, int64_t(T)});
  for (int i = 0; i < T; i++) t.ptr<int64_t>()[i] = toks[size_t(i)];
  StateDict in;
  in.items.emplace_back("tokens", t);
  save_safetensors(d / "t.safetensors", in, {});
  auto f = run_cli("forward --model " + fin + " --tokens " + (d / "t.safetensors") + " --out " + (d / "f.safetensors"));
  ASSERT_EQ(f.status, 0) << f.err;
  std::vector<float> got = load_safetensors(d / "f.safetensors").at("logits").to_f32_vec();
  const double err = rel_norm_err(got, s.logits);
  std::printf("%s: rwkv forward vs the trainer's logits of rwkv-final.pth: rel err (norm) %.2e\n", v.c_str(), err);
  EXPECT_LE(err, tol::fp32_modes.rel);

  const float* last = s.logits.data() + size_t(T - 1) * 256;
  const int argmax = int(std::max_element(last, last + 256) - last);
  auto g = run_cli("generate --model " + fin + " --tokenizer bytes --prompt \"" + prompt +
                   "\" --tokens 8 --temperature 0 --alpha_frequency 0 --alpha_presence 0");
  ASSERT_EQ(g.status, 0) << g.err;
  ASSERT_FALSE(g.out.empty());
  std::printf("%s: generate's first byte %d, forward's argmax %d\n", v.c_str(), int((unsigned char)g.out[0]), argmax);
  EXPECT_EQ(int((unsigned char)g.out[0]), argmax);
}

}  // namespace

TEST(Train56Checkpoint, X052FinalRunsInForwardAndGenerate) { check_version("x052", Arch::RWKV5_2); }
TEST(Train56Checkpoint, X060FinalRunsInForwardAndGenerate) { check_version("x060", Arch::RWKV6); }
