// trainer.h — `rwkv train`: the whole RWKV-v7 train.py run on the CPU path. Checks the data,
// the magic prime and the run folder, picks the checkpoint (stage 1: write rwkv-init.pth and
// stop; stage >= 2: resume from the newest rwkv-N.pth), then steps: magic-prime batch,
// forward+backward, grad-norm clip, AdamW with the official schedule, logs, checkpoints, and
// rwkv-final.pth when my_exit_tokens is reached. On several ranks (hooks.comm) the step is
// data-parallel (train/data_parallel.h: --strategy, ZeRO sharding).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "train/comm.h"
#include "train/train_args.h"
#include "train/train_model.h"

namespace rwkv::train {

struct StepInfo {
  int64_t global_step = 0, real_step = 0, epoch = 0;
  double loss = 0, lr = 0, grad_norm = 0;
  uint64_t first_sample_offset = 0;
};

struct TrainHooks {
  int64_t max_steps = -1;                    // stop after this many steps of this run (tests, benches)
  bool quiet = false;                        // no banner / progress on stdout/stderr
  std::function<void(const StepInfo&)> on_step;
  // --train_type state: state files (engine/state_file.h, checked against the model the flags
  // describe) are read and written by the caller, which knows the inference side's format.
  std::function<StateDict(const std::string& path)> load_state;
  std::function<void(const std::string& path, const StateDict& st)> save_state;
  // Data-parallel ranks (train/comm.h; null: this process alone, the ranks of --devices and
  // --num_nodes simulated in one batch). With a world of N > 1 (N must be num_nodes*devices)
  // each rank trains on its own micro_bsz rows and only rank 0 prints and writes files.
  Comm* comm = nullptr;
};

struct TrainResult {
  int64_t steps_run = 0;
  int64_t epoch_begin = 0;
  std::string loaded;                        // the checkpoint the run started from
  bool reached_exit = false;                 // wrote rwkv-final.pth at my_exit_tokens
  bool stage1_done = false;
  double step_seconds = 0, comm_seconds = 0;  // wall time of the steps; of it, inside collectives
};

// `args` must be finalize()d. Throws rwkv::Error for every bad input before the first step.
TrainResult run_training(const TrainArgs& args, const ModelBackend& backend, const TrainHooks& hooks = {});

}  // namespace rwkv::train
