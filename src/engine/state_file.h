// state_file.h — state files: one sequence's state as safetensors (the named tensors of the
// model's StateLayout, plus "logits" (V) when known), with the model identity (arch, n_layer,
// n_embd, head_size, vocab_size) and format "rwkv-state" in the metadata. A file made for
// another model is refused. Written by `chat /save`, `rwkv forward --state_out`, read back by
// `chat /load` and `--state_in`.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "engine/state_pool.h"
#include "model/config.h"

namespace rwkv {

// st: the named state tensors (StatePool::to_state_dict); logits may be null.
void save_state_file(const std::string& path, const ModelConfig& cfg, const StateDict& st,
                     const std::vector<float>* logits);
void save_state_file(const std::string& path, const ModelConfig& cfg, const StatePool& pool, int slot,
                     const std::vector<float>* logits);

// Reads a state file made for `cfg` ("[state] <path>: ..." otherwise). logits receives the
// saved logits, or is cleared when the file has none (may be null).
StateDict read_state_file(const std::string& path, const ModelConfig& cfg, std::vector<float>* logits);
// Reads it into slot `slot` (names and shapes checked; the slot is unchanged on error).
void load_state_file(const std::string& path, const ModelConfig& cfg, StatePool& pool, int slot,
                     std::vector<float>* logits);

}  // namespace rwkv
