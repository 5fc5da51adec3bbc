// run_dir.h — the official run folder (--proj_dir): rwkv-init.pth, rwkv-N.pth every
// --epoch_save mini-epochs, rwkv-final.pth; which checkpoint a --train_stage >= 2 run resumes
// from (the newest rwkv-N.pth, the one before it when the newest is corrupt, epoch_begin = N+1).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace rwkv::train {

// Checkpoint numbers in proj_dir as train.py lists them: rwkv-N.pth -> N, rwkv-init.pth -> -1;
// rwkv-final.pth, temp files and other names are skipped. Sorted ascending. ext ".state": the
// state files of --train_type state (rwkv-N.state).
std::vector<int64_t> list_checkpoints(const std::string& proj_dir, const std::string& ext = ".pth");
std::string checkpoint_path(const std::string& proj_dir, int64_t n, const std::string& ext = ".pth");  // -1 -> rwkv-init<ext>

// Creates proj_dir if needed and checks a file can be written there ("[train] --proj_dir ...").
void ensure_writable_dir(const std::string& proj_dir);

struct ResumeChoice {
  bool found = false;          // proj_dir holds a checkpoint
  int64_t newest = -2, prev = -2;  // checkpoint numbers (-1 init, -2 none)
};
ResumeChoice choose_resume(const std::string& proj_dir, const std::string& ext = ".pth");

// Loads a state dict (pth or safetensors); returns false with `why` when the file is unreadable
// or corrupt, instead of throwing (the caller falls back to the previous checkpoint).
bool try_load_checkpoint(const std::string& path, StateDict& out, std::string& why);

// Writes `sd` atomically (temp file + rename): never a half-written rwkv-N.pth.
void save_checkpoint(const std::string& path, const StateDict& sd);

}  // namespace rwkv::train
