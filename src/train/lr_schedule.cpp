// lr_schedule.cpp — see lr_schedule.h; the same float operations as trainer.py in double.
#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace rwkv::train {

LrPoint LrSchedule::at(int64_t global_step, int64_t real_step) const {
  LrPoint p;
  double w_step = double(warmup_steps);
  double real_tokens = double(real_step) * double(tokens_per_step);
  double warmup_tokens = w_step * double(tokens_per_step);
  double progress = (real_tokens - warmup_tokens) / (double(std::llabs(my_exit_tokens)) - warmup_tokens);
  progress = std::max(0.0, std::min(1.0, progress));
  double f = lr_init != 0 ? lr_final / lr_init : 0.0;  // lr_init 0: lr stays 0
  double mult = (0.5 + f / 2) + (0.5 - f / 2) * std::cos(M_PI * progress);
  double lr = lr_init * mult;
  p.progress = progress;
  p.exit = progress >= 1;
  if (global_step < warmup_steps) lr = lr * (0.01 + 0.99 * double(global_step) / w_step);
  p.lr = lr;
  return p;
}

}  // namespace rwkv::train
