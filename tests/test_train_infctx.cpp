// test_train_infctx.cpp — `rwkv train --train_type infctx`: whole documents of a binidx trained
// with BPTT over ctx_len segments through the real RWKV-7 backend (run_training): it steps in
// file order over the documents, learns, and bad infctx flags are clear errors.
#include <filesystem>
#include <random>
#include <vector>

#include "data/binidx.h"
#include "test_util.h"
#include "train/trainer.h"

using namespace rwkv::train;
using rwkv::test::TempDir;

namespace {

// Documents of a noisy periodic sequence over 16 symbols, of lengths 30..100 (> ctx_len 16).
std::string make_docs(const TempDir& d, std::vector<int>& lengths) {
  std::string prefix = d / "docs";
  rwkv::BinidxWriter w(prefix);
  std::mt19937 rng(5);
  lengths = {70, 31, 100, 45, 64, 90};
  for (int n : lengths) {
    std::vector<uint16_t> doc;
    for (int i = 0; i < n; i++) doc.push_back(uint16_t(rng() % 8 == 0 ? rng() % 16 : (i * 5) % 15 + 1));
    w.add_document(doc.data(), doc.size());
  }
  w.finalize();
  return prefix;
}

TrainArgs infctx_args(const std::string& data, const std::string& proj) {
  TrainArgs a;
  a.data_file = data, a.data_type = "binidx", a.proj_dir = proj;
  a.vocab_size = 16, a.n_embd = 64, a.n_layer = 1, a.ctx_len = 16, a.micro_bsz = 2;
  a.train_type = "infctx";
  a.lr_init = 1e-2, a.lr_final = 1e-3, a.warmup_steps = 2, a.my_exit_tokens = 100000;
  a.train_stage = 3, a.epoch_save = 0, a.plot = 0;
  return a;
}

}  // namespace

TEST(TrainInfctx, WholeDocumentsLearnWithFullAndTruncatedBptt) {
  for (int truncated : {0, 1}) {
    TempDir d;
    std::vector<int> lengths;
    std::string data = make_docs(d, lengths), proj = d / "out";
    TrainArgs s1 = infctx_args(data, proj);
    s1.train_stage = 1;
    s1.bptt_truncated_learning = truncated;
    s1.finalize();
    TrainHooks h;
    h.quiet = true;
    ASSERT_TRUE(run_training(s1, rwkv7_backend(), h).stage1_done);
    TrainArgs a = infctx_args(data, proj);
    a.bptt_truncated_learning = truncated;
    a.finalize();
    std::vector<StepInfo> steps;
    h.on_step = [&](const StepInfo& s) { steps.push_back(s); };
    h.max_steps = 24;
    TrainResult r = run_training(a, rwkv7_backend(), h);
    ASSERT_EQ(r.steps_run, 24);
    // Step s trains documents 2s, 2s+1 (mod 6) in file order.
    rwkv::BinidxReader reader(data);
    EXPECT_EQ(steps[0].first_sample_offset, reader.doc_offset(0));
    EXPECT_EQ(steps[1].first_sample_offset, reader.doc_offset(2));
    EXPECT_EQ(steps[4].first_sample_offset, reader.doc_offset(2));
    double first = 0, last = 0;
    for (int i = 0; i < 3; i++) first += steps[size_t(i)].loss, last += steps[size_t(21 + i)].loss;
    std::printf("[ infctx ] %s BPTT: mean loss of steps 0-2 %.4f, of steps 21-23 %.4f\n",
                truncated ? "truncated" : "full", first / 3, last / 3);
    EXPECT_LT(last, first - 0.3 * 3) << "it learns";
  }
}

TEST(TrainInfctx, BadFlagsAreClearErrors) {
  auto err = [](auto mod) {
    TrainArgs a = infctx_args("x", "y");
    mod(a);
    return rwkv::test::error_of([&] { a.finalize(); });
  };
  EXPECT_NE(err([](TrainArgs& a) { a.train_type = "states"; }).find("[train] --train_type: 'states'"), std::string::npos);
  EXPECT_NE(err([](TrainArgs& a) { a.bptt_truncated_learning = 2; }).find("[train] --bptt_truncated_learning"), std::string::npos);
  EXPECT_NE(err([](TrainArgs& a) { a.ctx_len_cutoff = -1; }).find("[train] --ctx_len_cutoff"), std::string::npos);
  EXPECT_NE(err([](TrainArgs& a) { a.train_type = "", a.ctx_len_cutoff = 64; }).find("needs --train_type infctx"),
            std::string::npos);
  EXPECT_EQ(err([](TrainArgs& a) { a.ctx_len_cutoff = 64; }), "(no error)");
  // A dataset whose documents have no target: refused before any step.
  TempDir d;
  {
    rwkv::BinidxWriter w(d / "tiny");
    uint16_t one = 3;
    w.add_document(&one, 1);
    w.finalize();
  }
  TrainArgs a = infctx_args(d / "tiny", d / "out");
  a.finalize();
  TrainHooks h;
  h.quiet = true;
  std::string e = rwkv::test::error_of([&] { run_training(a, rwkv7_backend(), h); });
  EXPECT_NE(e.find("no document has 2 or more tokens"), std::string::npos) << e;
  // The CLI knows the flags.
  auto cli = rwkv::test::run_cli("train --train_type states --data_type binidx --data_file x --my_exit_tokens 10");
  EXPECT_NE(cli.status, 0);
  EXPECT_NE(cli.err.find("--train_type"), std::string::npos) << cli.err;
}
