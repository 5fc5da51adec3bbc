// lr_schedule.h — the learning rate of RWKV-v7 trainer.py for a step: cosine from lr_init to
// lr_final over my_exit_tokens (after the warmup tokens), times the warmup factor
// 0.01 + 0.99*step/warmup_steps for the first warmup_steps steps of this run.
#pragma once
#include <cstdint>

namespace rwkv::train {

struct LrPoint {
  double lr = 0;        // before the per-group scale (att.w0 gets 2x)
  double progress = 0;  // cosine progress in [0, 1]
  bool exit = false;    // progress >= 1: save rwkv-final.pth and stop before running this step
};

struct LrSchedule {
  double lr_init = 6e-4, lr_final = 1e-5;
  int64_t warmup_steps = -1;
  int64_t my_exit_tokens = 0;   // > 0
  int64_t tokens_per_step = 0;  // ctx_len * real_bsz

  // global_step: steps done in this run (warmup counts from the start of each run, as the
  // official callback does); real_step = global_step + epoch_begin * epoch_steps.
  LrPoint at(int64_t global_step, int64_t real_step) const;
};

}  // namespace rwkv::train
