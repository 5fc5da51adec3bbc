// test_train_errors.cpp — `rwkv train` on bad input (acceptance 5): data shorter than one
// sample, vocab_size smaller than a token of the data, an invalid magic_prime, a checkpoint of
// another shape, an unwritable proj_dir; plus flag errors (unknown flag with the closest
// valid one, a value of the wrong type). Each is a clear error before any step runs.
#include <filesystem>
#include <fstream>

#include "data/binidx.h"
#include "test_util.h"

namespace fs = std::filesystem;
using rwkv::test::run_cli;
using rwkv::test::TempDir;

namespace {

std::string demo_flags(const std::string& proj, const std::string& extra) {
  std::string F = rwkv::test::fixture("traj-demo-L4-D256-bytes");
  return "train --load_model " + F + "/rwkv-init.pth --data_file " + F +
         "/data --data_type binidx --vocab_size 256 --ctx_len 128 --micro_bsz 8 --n_layer 4 --n_embd 256"
         " --lr_init 6e-4 --lr_final 6e-5 --warmup_steps 10 --my_exit_tokens 307200 --magic_prime 2309"
         " --train_stage 3 --proj_dir " + proj + " " + extra;
}

// Runs, expects exit 1 with `what` in stderr and no step logged.
void expect_error(const std::string& args, const std::string& proj, const std::string& what) {
  auto r = run_cli(args);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find(what), std::string::npos) << "stderr: " << r.err;
  EXPECT_FALSE(fs::exists(proj + "/metrics.jsonl")) << "a step ran";
  EXPECT_FALSE(fs::exists(proj + "/train_log.txt")) << "a step ran";
}

}  // namespace

TEST(TrainErrors, DataShorterThanOneSample) {
  TempDir d;
  {
    rwkv::BinidxWriter w(d / "tiny");
    std::vector<uint16_t> t(100, 7);
    w.add_document(t.data(), t.size());
    w.finalize();
  }
  std::string F = rwkv::test::fixture("traj-demo-L4-D256-bytes");
  expect_error("train --load_model " + F + "/rwkv-init.pth --data_file " + d / "tiny" +
                   " --data_type binidx --vocab_size 256 --ctx_len 128 --micro_bsz 8 --n_layer 4 --n_embd 256"
                   " --my_exit_tokens 1024 --magic_prime 2309 --proj_dir " + d / "out",
               d / "out", "shorter than one sample");
}

TEST(TrainErrors, VocabSmallerThanATokenOfTheData) {
  TempDir d;
  std::string args = demo_flags(d / "out", "");
  args.replace(args.find("--vocab_size 256"), 16, "--vocab_size 100");
  expect_error(args, d / "out", "but --vocab_size is 100");
}

TEST(TrainErrors, InvalidMagicPrime) {
  TempDir d;
  for (auto [p, what] : {std::pair{"2311", "not 2 mod 3"}, {"2307", "not a prime"}, {"1997", "(0.9, 1]"}}) {
    std::string args = demo_flags(d / "out", "");
    args.replace(args.find("--magic_prime 2309"), 18, std::string("--magic_prime ") + p);
    expect_error(args, d / "out", what);
  }
}

TEST(TrainErrors, CheckpointOfAnotherShape) {
  TempDir d;
  std::string args = demo_flags(d / "out", "");
  args.replace(args.find("--n_embd 256"), 12, "--n_embd 128");
  expect_error(args, d / "out", "'emb.weight' has shape (256, 256) but the flags");
  args = demo_flags(d / "out", "");
  args.replace(args.find("--n_layer 4"), 11, "--n_layer 6");
  expect_error(args, d / "out", "missing tensor 'blocks.4.ln1.weight'");
}

TEST(TrainErrors, UnwritableProjDir) {
  TempDir d;
  { std::ofstream(d / "file") << "x"; }
  expect_error(demo_flags(d / "file/out", ""), d / "file/out", "--proj_dir");
  expect_error(demo_flags(d / "file", ""), d / "file", "is not a folder");
}

TEST(TrainErrors, Flags) {
  auto r = run_cli("train --ctx_lenn 128");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("unknown flag --ctx_lenn; did you mean --ctx_len?"), std::string::npos) << r.err;
  r = run_cli("train --micro-bsz 8");
  EXPECT_NE(r.err.find("did you mean --micro_bsz?"), std::string::npos) << r.err;
  r = run_cli("train --ctx_len abc");
  EXPECT_NE(r.status, 0);
  EXPECT_NE((r.out + r.err).find("--ctx_len"), std::string::npos) << r.err;
  r = run_cli("train --lr_init fast");
  EXPECT_NE(r.status, 0);
  r = run_cli("train --help");
  EXPECT_EQ(r.status, 0);
  for (const char* f : {"--load_model", "--magic_prime", "--my_exit_tokens", "--grad_cp", "--head_size_a", "--strategy"})
    EXPECT_NE(r.out.find(f), std::string::npos) << f;
  TempDir d;
  std::string args = demo_flags(d / "out", "--micro_bsz 11");
  r = run_cli(args);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("must divide 40320"), std::string::npos) << r.err;
}

// Absurd values are refused up front with the flag's name (they crashed or ran away before):
// --devices huge (real_bsz overflowed to 0: SIGFPE), --lr_init nan, --n_layer 1e8 (allocated
// until killed), --threads 100000 (SIGSEGV in libgomp).
TEST(TrainErrors, AbsurdFlagValuesAreRefused) {
  TempDir d;
  expect_error(demo_flags(d / "a", "--devices 4611686018427387904"), d / "a", "--devices: 4611686018427387904 is more than 40320");
  expect_error(demo_flags(d / "b", "--num_nodes 99999999999"), d / "b", "--num_nodes: 99999999999 is more than 40320");
  expect_error(demo_flags(d / "c", "--lr_init nan"), d / "c", "--lr_init: nan is not a finite number");
  expect_error(demo_flags(d / "e", "--adam_eps inf"), d / "e", "--adam_eps: inf is not a finite number");
  expect_error(demo_flags(d / "f", "--n_layer 100000000"), d / "f", "--n_layer: 100000000 is more than 4096 layers");
  expect_error(demo_flags(d / "g", "--n_layer 4000 --n_embd 8192"), d / "g", "training needs");
  auto r = run_cli("generate --model " + rwkv::test::fixture("rwkv7-L2-D128-V512/model.pth") +
                   " --tokenizer bytes --prompt hi --tokens 2 --threads 100000");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("--threads 100000: must be at most"), std::string::npos) << r.err;
}
