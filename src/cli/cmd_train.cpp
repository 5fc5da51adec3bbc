// cmd_train.cpp — `rwkv train`: RWKV-LM RWKV-v7 train.py's flags (underscore names, official
// defaults, type-checked); no-op flags are accepted with a note; an unknown flag names the
// closest valid one. The work is in src/train/trainer.cpp. Under mpirun each process is one
// data-parallel rank (train/comm.h); a rank that fails prints "rank R: error" and ends the job.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/error.h"
#include "engine/state_file.h"
#include "model/config.h"
#include "train/trainer.h"

using rwkv::train::TrainArgs;

// Flags are checked before CLI11 parses, so an unknown one gets a "did you mean" answer.
static void check_flag_names(int argc, char** argv) {
  const auto& valid = rwkv::train::train_flag_names();
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      if (a.size() > 1 && a[0] == '-' && a != "-h" && a.find_first_not_of("-0123456789.eE+") != std::string::npos &&
          (i == 1 || std::string(argv[i - 1]).rfind("--", 0) != 0))
        rwkv::fail("train", "unknown option '{}' (flags are --name value, as train.py's)", a);
      continue;
    }
    std::string name = a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
    bool ok = false;
    for (auto& v : valid) ok |= v == name;
    if (!ok) rwkv::fail("train", "unknown flag --{}; did you mean --{}?", name, rwkv::train::closest_flag(name, valid));
  }
}

static int run(int argc, char** argv) {
  check_flag_names(argc, argv);
  TrainArgs a;
  CLI::App app{"Train an RWKV-7 model: a drop-in for RWKV-LM's RWKV-v7/train_temp/train.py (CPU path)."};
  app.get_formatter()->column_width(28);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // argparse: last wins
  app.add_option("--load_model", a.load_model, "checkpoint to start from (full path, .pth)");
  rwkv::cli::add_skip_crc(app);
  app.add_option("--wandb", a.wandb, "accepted and ignored (no wandb logging here)");
  app.add_option("--proj_dir", a.proj_dir, "run folder: checkpoints, train_log.txt, metrics.jsonl")->capture_default_str();
  app.add_option("--random_seed", a.random_seed, "seed of the initial weights (-1: default seed)")->capture_default_str();
  app.add_option("--data_file", a.data_file, "binidx prefix (without .bin/.idx)");
  app.add_option("--data_type", a.data_type, "only binidx")->capture_default_str();
  app.add_option("--vocab_size", a.vocab_size, "vocabulary size")->capture_default_str();
  app.add_option("--ctx_len", a.ctx_len, "tokens per sample")->capture_default_str();
  app.add_option("--epoch_steps", a.epoch_steps, "ignored: 40320 / real batch size, as train.py sets it");
  app.add_option("--epoch_count", a.epoch_count, "ignored: magic_prime / 40320, as train.py sets it");
  app.add_option("--epoch_begin", a.epoch_begin, "first mini-epoch (stage >= 2 sets it from the newest rwkv-N.pth)")->capture_default_str();
  app.add_option("--epoch_save", a.epoch_save, "save rwkv-N.pth every this many mini-epochs")->capture_default_str();
  app.add_option("--micro_bsz", a.micro_bsz, "batch size per device")->capture_default_str();
  app.add_option("--n_layer", a.n_layer)->capture_default_str();
  app.add_option("--n_embd", a.n_embd)->capture_default_str();
  app.add_option("--dim_att", a.dim_att, "0: n_embd")->capture_default_str();
  app.add_option("--dim_ffn", a.dim_ffn, "0: n_embd*3.5 rounded (the x070 FFN is 4*n_embd)")->capture_default_str();
  app.add_option("--lr_init", a.lr_init)->capture_default_str();
  app.add_option("--lr_final", a.lr_final)->capture_default_str();
  app.add_option("--warmup_steps", a.warmup_steps, "-1: none (10 when resuming from rwkv-N.pth)")->capture_default_str();
  app.add_option("--beta1", a.beta1)->capture_default_str();
  app.add_option("--beta2", a.beta2)->capture_default_str();
  app.add_option("--adam_eps", a.adam_eps)->capture_default_str();
  app.add_option("--grad_cp", a.grad_cp, "1: recompute activations in the backward (less memory)")->capture_default_str();
  app.add_option("--weight_decay", a.weight_decay, "AdamW decay on >=2-D .weight tensors")->capture_default_str();
  app.add_option("--grad_clip", a.grad_clip, "global grad-norm clip (0: off)")->capture_default_str();
  app.add_option("--train_stage", a.train_stage, "1: write rwkv-init.pth and stop; >=2: resume from --proj_dir")->capture_default_str();
  app.add_option("--ds_bucket_mb", a.ds_bucket_mb, "deepspeed_stage_2 under mpirun: gradient reduce-scatter bucket (MiB)")->capture_default_str();
  app.add_option("--ds_overlap_comm", a.ds_overlap_comm, "deepspeed_stage_2 under mpirun: 1 overlaps the bucket reduce-scatter with the backward (DeepSpeed's overlap_comm), 0 sends after it — not in train.py")->capture_default_str();
  app.add_option("--head_size,--head_size_a", a.head_size)->capture_default_str();
  app.add_option("--head_chunk", a.head_chunk, "accepted and ignored");
  app.add_option("--load_partial", a.load_partial, "1: tensors missing from --load_model come from the init")->capture_default_str();
  app.add_option("--magic_prime", a.magic_prime, "largest prime 3n+2 below data_tokens/ctx_len - 1")->capture_default_str();
  app.add_option("--my_testing", a.my_testing, "x070 (RWKV-7), x060 (RWKV-6) or x052 (RWKV-5.2); RWKV-v5/train.py defaults to x052")->capture_default_str();
  app.add_option("--kernel", a.kernel, "accepted and ignored");
  app.add_option("--my_exit_tokens", a.my_exit_tokens, "tokens of the cosine schedule; stop with rwkv-final.pth there")->capture_default_str();
  app.add_option("--accelerator", a.accelerator, "cpu (gpu runs the CPU path until the CUDA trainer lands)")->capture_default_str();
  app.add_option("--devices", a.devices, "data-parallel ranks per node (one process: simulated; mpirun -np N: N = num_nodes*devices)")->capture_default_str();
  app.add_option("--num_nodes", a.num_nodes)->capture_default_str();
  app.add_option("--precision", a.precision, "fp32|tf32|fp16|bf16: dtype of saved checkpoints (compute is fp32)")->capture_default_str();
  app.add_option("--strategy", a.strategy, "under mpirun: auto/deepspeed_stage_2 (sharded AdamW, reduce-scattered grads), deepspeed_stage_1, ddp")->capture_default_str();
  double comm_timeout = 600;
  app.add_option("--comm_timeout", comm_timeout, "under mpirun: seconds a collective may wait for the other ranks before this rank gives up (0: forever) — not in train.py")->capture_default_str();
  app.add_option("--enable_progress_bar", a.enable_progress_bar, "accepted and ignored");
  app.add_option("--threads", a.threads, "CPU threads (0: all cores) — not in train.py")->capture_default_str();
  app.add_option("--plot", a.plot, "1: keep <proj_dir>/curves.svg current (epoch_save and exit); 0: off — not in train.py")->capture_default_str();
  app.add_option("--train_type", a.train_type, "infctx: whole documents by BPTT over ctx_len segments; state: tune only the initial state of --load_model (writes rwkv-N.state) — not in train.py");
  app.add_option("--ctx_len_cutoff", a.ctx_len_cutoff, "infctx/state: cut documents longer than this into separate samples (0: never)")->capture_default_str();
  app.add_option("--bptt_truncated_learning", a.bptt_truncated_learning, "infctx/state: 1 detaches the state between segments")->capture_default_str();
  app.add_option("--load_state", a.load_state, "state: the state file to start from (default: zeros)");
  app.add_option("--tokenizer", a.tokenizer, "infctx/state with .jsonl data: world, bytes, 20b or a vocabulary file")->capture_default_str();
  // RWKV-LM RWKV-v5/train.py's flags (--my_testing x052 / x060).
  app.add_option("--head_size_divisor", a.head_size_divisor, "x052/x060: ln_x divisor")->capture_default_str();
  app.add_option("--layerwise_lr", a.layerwise_lr, "1: time_decay at 2x lr (x052/x060); 0: all 1x")->capture_default_str();
  app.add_option("--weight_decay_final", a.weight_decay_final, "> 0: decay weight_decay -> this over the run")->capture_default_str();
  app.add_option("--my_pile_stage", a.my_pile_stage, "RWKV-v5 name of the stage: 1 init, 3 train")->capture_default_str();
  app.add_option("--dropout", a.dropout, "only 0 (refused otherwise)")->capture_default_str();
  app.add_option("--pre_ffn", a.pre_ffn, "only 0")->capture_default_str();
  app.add_option("--head_qk", a.head_qk, "only 0")->capture_default_str();
  app.add_option("--my_pile_edecay", a.my_pile_edecay, "only 0")->capture_default_str();
  int code = 0;
  if (!rwkv::cli::parse(app, argc, argv, &code)) return code;

  for (auto& n : rwkv::train::train_noop_flag_names())
    if (app.count("--" + n) && !(n == "wandb" && a.wandb.empty())) fmt::print(stderr, "note: --{} means nothing here and is ignored\n", n);
  if (a.accelerator != "cpu")
    fmt::print(stderr, "note: --accelerator {}: this build trains on the CPU path (fp32)\n", a.accelerator);
  if (app.count("--epoch_steps") || app.count("--epoch_count"))
    fmt::print(stderr, "note: --epoch_steps/--epoch_count are set from 40320 / bsz and magic_prime / 40320, as train.py does\n");
  a.finalize();
  // --train_type state: state files as `chat /save` writes them, for the model the flags describe.
  const rwkv::ModelConfig cfg = rwkv::x070_config(int(a.n_layer), int(a.n_embd), int(a.vocab_size), int(a.head_size));
  rwkv::train::TrainHooks hooks;
  hooks.load_state = [cfg](const std::string& path) { return rwkv::read_state_file(path, cfg, nullptr); };
  hooks.save_state = [cfg](const std::string& path, const rwkv::StateDict& st) {
    rwkv::save_state_file(path, cfg, st, nullptr);
  };
  std::unique_ptr<rwkv::train::Comm> comm;
  if (rwkv::train::launched_by_mpi()) {
    comm = rwkv::train::make_mpi_comm(comm_timeout);
    hooks.comm = comm.get();
  }
  try {
    auto r = rwkv::train::run_training(a, rwkv::train::backend_for(a), hooks);
    if (comm && comm->size() > 1 && comm->rank() == 0 && r.step_seconds > 0)
      fmt::print("{} ranks: {:.1f} s of steps, {:.1f} s ({:.1f}%) of it waiting on communication (rank 0)\n", comm->size(),
                 r.step_seconds, r.comm_seconds, 100 * r.comm_seconds / r.step_seconds);
  } catch (const std::exception& e) {
    if (!comm || comm->size() == 1) throw;
    fmt::print(stderr, "rwkv: error: rank {} of {}: {}\n", comm->rank(), comm->size(), e.what());
    comm->abort(1);  // ends every rank now, rather than leaving them in the next collective
  }
  return 0;
}

static rwkv::cli::Command reg{"train", "train an RWKV-7 model (drop-in for RWKV-LM train.py)", run};
