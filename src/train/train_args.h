// train_args.h — the flags of RWKV-LM's RWKV-v7 train.py (same names, types and defaults) and
// the values train.py derives from them (real_bsz, epoch_steps, epoch_count, dim_att ...).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rwkv::train {

struct TrainArgs {
  // train.py's own flags, official defaults.
  std::string load_model;            // full path with .pth
  std::string wandb;                 // accepted, unused here
  std::string proj_dir = "out";
  int64_t random_seed = -1;
  std::string data_file;             // binidx prefix (without .bin/.idx)
  std::string data_type = "utf-8";   // only "binidx" is accepted (as in train.py)
  int64_t vocab_size = 0;
  int64_t ctx_len = 1024;
  int64_t epoch_steps = 1000;        // overwritten: 40320 / real_bsz
  int64_t epoch_count = 500;         // overwritten: magic_prime / 40320
  int64_t epoch_begin = 0;
  int64_t epoch_save = 5;
  int64_t micro_bsz = 12;
  int64_t n_layer = 6;
  int64_t n_embd = 512;
  int64_t dim_att = 0;               // 0 -> n_embd
  int64_t dim_ffn = 0;               // 0 -> int(n_embd*3.5)//32*32 (printed; the x070 model uses 4*n_embd)
  double lr_init = 6e-4;
  double lr_final = 1e-5;
  int64_t warmup_steps = -1;
  double beta1 = 0.9, beta2 = 0.99;
  double adam_eps = 1e-18;
  int64_t grad_cp = 0;
  double weight_decay = 0;
  double grad_clip = 1.0;
  int64_t train_stage = 0;
  int64_t ds_bucket_mb = 200;        // deepspeed_stage_2 on several ranks: gradient reduce-scatter bucket (MiB)
  // Ours, DeepSpeed's overlap_comm: 1 starts each bucket's reduce-scatter while the backward runs.
  int64_t ds_overlap_comm = 1;
  int64_t head_size = 64;
  int64_t head_chunk = 0;            // accepted, unused (the CPU head is not chunked)
  int64_t load_partial = 0;
  int64_t magic_prime = 0;
  std::string my_testing = "x070";
  std::string kernel;                // accepted, unused
  int64_t my_exit_tokens = 0;
  // pytorch_lightning Trainer flags the official scripts pass.
  std::string accelerator = "cpu";
  int64_t devices = 1;
  int64_t num_nodes = 1;
  std::string precision = "fp32";    // fp32 | tf32 | fp16 | bf16: the dtype of saved checkpoints
  std::string strategy = "auto";     // auto = deepspeed_stage_2 | deepspeed_stage_1 | ddp (train/data_parallel.h)
  std::string enable_progress_bar = "True";  // accepted, unused
  // Ours (not in train.py): threads for the CPU path (0 = all cores).
  int64_t threads = 0;
  // Ours: keep <proj_dir>/curves.svg current (at every epoch_save and at exit); 0: off.
  int64_t plot = 1;
  // Ours, with RWKV-infctx-trainer's names: --train_type infctx trains whole documents (the .idx
  // document boundaries; micro_bsz per step, shorter ones masked) by BPTT over segments of
  // ctx_len tokens (train/bptt.h); no magic prime. --train_type state (RWKV-LM v5's "states",
  // RWKV-PEFT's state tuning): the same documents, the --load_model weights frozen, only the
  // initial WKV state trained (train/state_tuning.h); checkpoints are state files rwkv-N.state.
  // Both take .jsonl data directly (tokenized with --tokenizer into <proj_dir>/data.bin/.idx).
  std::string train_type;               // "" (ctx_len samples by magic prime) | "infctx" | "state"
  int64_t ctx_len_cutoff = 0;           // infctx/state: cut longer documents into samples of this many tokens (0: never)
  int64_t bptt_truncated_learning = 0;  // infctx/state: 1 detaches the state between segments
  std::string load_state;               // state: the state file to start from (default zeros)
  std::string tokenizer = "world";      // .jsonl data: as make-data's --tokenizer (world, bytes, 20b, a file)
  // A document segment is a whole number of 16-token chunks (the chunked WKV kernels' unit).
  static constexpr int64_t kSegmentChunk = 16;

  // RWKV-LM RWKV-v5/train.py's flags for --my_testing x052 / x060 (same names and defaults).
  // Note: RWKV-v5's default --my_testing is x052; ours stays x070 (RWKV-v7's).
  int64_t head_size_divisor = 8;     // x052: ln_x(y / divisor); x060: ln_x eps 1e-5 * divisor^2
  int64_t layerwise_lr = 1;          // 0: time_decay at 1x like everything undecayed
  double weight_decay_final = -1;    // > 0: decay goes weight_decay -> this, exponentially over progress
  int64_t my_pile_stage = 0;         // 1: write rwkv-init.pth (= --train_stage 1); 3: train (= --train_stage 3)
  double dropout = 0;                // only 0 (the official demos); non-zero is refused
  int64_t pre_ffn = 0, head_qk = 0;  // only 0 (RWKV-4 options)
  double my_pile_edecay = 0;         // only 0

  // Derived by finalize(), as train.py does.
  int64_t real_bsz = 0;              // num_nodes * devices * micro_bsz
  std::string my_timestamp;          // "%Y-%m-%d-%H-%M-%S"
  int64_t my_pile_prev_p = -2;       // the checkpoint before the newest (-1 = init, -2 = none)

  // dim_att/dim_ffn defaults, real_bsz, epoch_steps = 40320/real_bsz (must divide exactly),
  // epoch_count = magic_prime/40320, timestamp. Throws "[train] --flag: ..." on a bad value.
  void finalize();
  // Python-dict-like dump of every field, as train.py prints vars(args) and writes it into
  // train_log.txt after "NEW RUN".
  std::string vars_repr() const;
  // The "####" banner train.py prints at start.
  std::string banner() const;
};

inline constexpr int64_t kSamplesPerEpoch = 40320;  // one "mini-epoch"

// All flag names (without "--") that `rwkv train` accepts, and the ones accepted as no-ops.
const std::vector<std::string>& train_flag_names();
const std::vector<std::string>& train_noop_flag_names();
// The valid name closest to `name` (edit distance), for "unknown flag" errors.
std::string closest_flag(const std::string& name, const std::vector<std::string>& valid);

}  // namespace rwkv::train
