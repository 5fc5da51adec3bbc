// config.h — model architecture and sizes, read from a state dict's names and shapes.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace rwkv {

enum class Arch { RWKV2, RWKV4, RWKV5, RWKV5_1, RWKV5_2, RWKV6, RWKV7 };
const char* arch_name(Arch a);  // "v2", "v4", "x050", "x051", "x052", "x060", "x070"

struct ModelConfig {
  Arch arch = Arch::RWKV7;
  int n_layer = 0, n_embd = 0, vocab_size = 0;
  int head_size = 64, n_head = 0;  // n_head = dim_att / head_size (v5+; x070 from att.r_k)
  int dim_att = 0, dim_ffn = 0;
  int d_decay = 0, d_aaa = 0, d_mv = 0, d_gate = 0;  // x070 LoRA ranks: w1, a1, v1, g1 columns
  int head_qk = 0, copy_len = 0;  // RWKV-2 enwik8 head-QK: head_q/head_k rows (256), copy_mask size (ctx_len)
  int64_t n_params = 0;
  std::string arch_key;  // the key that decided the architecture (for error messages)
};

// Detects the architecture as the rwkv pip package does and reads the sizes. An unknown or
// mixed layout throws "[model] <source>: ..." naming the offending key. For x070 every tensor's
// shape is checked against the sizes (a wrong one is named with its expected shape).
ModelConfig detect_config(const StateDict& sd, const std::string& source);

// Throws "[model] <source>: this is an <arch> model (key '<arch_key>'); <what> needs x070" unless
// cfg.arch == want.
void require_arch(const ModelConfig& cfg, Arch want, const std::string& source, const std::string& what = "rwkv");

// x070 sizes for a fresh model as RWKV-LM's train.py chooses them (LoRA ranks from C,
// dim_att = C, dim_ffn = 4C); n_params filled.
ModelConfig x070_config(int n_layer, int n_embd, int vocab_size, int head_size = 64);

// The x070 parameter names and shapes in the official state-dict order (RWKV-LM train_temp).
std::vector<std::pair<std::string, Shape>> x070_param_shapes(const ModelConfig& cfg);

// "blocks.12.att.x_r" -> 12 with *sub = "att.x_r"; -1 (sub untouched) when k is not a block key.
int split_block(const std::string& k, std::string* sub);

}  // namespace rwkv
