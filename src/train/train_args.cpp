// train_args.cpp — see train_args.h. Derived values and checks follow RWKV-v7 train.py/model.py.
#include "train/train_args.h"

#include <algorithm>
#include <cmath>
#include <unistd.h>
#include <ctime>

#include <fmt/format.h>

#include "core/error.h"

namespace rwkv::train {

namespace {

// Python repr of a float: shortest round-trip digits, always with '.' or an exponent.
std::string py_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string py_str(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') o += '\\';
    o += c;
  }
  return o + "'";
}

}  // namespace

void TrainArgs::finalize() {
  auto bad = [](const char* flag, const std::string& why) { fail("train", "--{}: {}", flag, why); };
  const bool jsonl_name = data_file.size() > 6 && data_file.substr(data_file.size() - 6) == ".jsonl";
  if ((data_type == "binidx" || data_type == "utf-8") && jsonl_name) data_type = "jsonl";  // a binidx prefix never ends in .jsonl
  if (data_type == "jsonl" && train_type.empty())
    bad("data_type", "jsonl is read directly only with --train_type infctx or state; run `rwkv make-data` first");
  if (data_type != "binidx" && data_type != "jsonl")
    bad("data_type", fmt::format("'{}' is not supported; use binidx (as train.py asserts), or jsonl with --train_type infctx/state", data_type));
  if (precision != "fp32" && precision != "tf32" && precision != "fp16" && precision != "bf16")
    bad("precision", fmt::format("'{}' is not one of fp32, tf32, fp16, bf16", precision));
  const bool v56 = my_testing.find("x052") != std::string::npos || my_testing.find("x060") != std::string::npos;
  if (my_testing.find("x070") == std::string::npos && !v56)
    bad("my_testing", fmt::format("'{}': x052 (RWKV-5.2), x060 (RWKV-6) or x070 (RWKV-7)", my_testing));
  if (dropout != 0) bad("dropout", fmt::format("{}: dropout is not supported (only 0, as the official demos)", dropout));
  if (pre_ffn != 0) bad("pre_ffn", "only 0 is supported (an RWKV-4 option)");
  if (head_qk != 0) bad("head_qk", "only 0 is supported (an RWKV-4 option)");
  if (my_pile_edecay != 0) bad("my_pile_edecay", "only 0 is supported");
  if (layerwise_lr != 0 && layerwise_lr != 1) bad("layerwise_lr", "must be 0 or 1");
  if (head_size_divisor <= 0) bad("head_size_divisor", "must be > 0");
  if (my_pile_stage != 0) {  // RWKV-v5's name for the stage: 1 init, 3 train
    if (my_pile_stage != 1 && my_pile_stage != 3)
      bad("my_pile_stage", fmt::format("{}: only 1 (write rwkv-init.pth) and 3 (train) are supported", my_pile_stage));
    train_stage = my_pile_stage;
  }
  if (weight_decay_final > 0 && weight_decay <= 0)
    bad("weight_decay_final", "needs --weight_decay > 0 (the decay goes from weight_decay to weight_decay_final)");
  if (ctx_len <= 0) bad("ctx_len", "must be > 0");
  if (micro_bsz <= 0) bad("micro_bsz", "must be > 0");
  if (devices <= 0) bad("devices", "must be > 0");
  if (num_nodes <= 0) bad("num_nodes", "must be > 0");
  if (n_layer <= 0) bad("n_layer", "must be > 0");
  if (n_embd <= 0 || n_embd % 32) bad("n_embd", fmt::format("{} must be a positive multiple of 32", n_embd));
  if (dim_att <= 0) dim_att = n_embd;
  if (dim_ffn <= 0)
    dim_ffn = v56 && my_testing.find("-f4") != std::string::npos ? 4 * n_embd
                                                                  : int64_t(std::floor(double(n_embd) * 3.5 / 32) * 32);
  if (dim_att % 32) bad("dim_att", fmt::format("{} must be a multiple of 32", dim_att));
  if (dim_ffn % 32) bad("dim_ffn", fmt::format("{} must be a multiple of 32", dim_ffn));
  if (!v56 && head_size != 64) bad("head_size", fmt::format("{}: the RWKV-7 kernels use head size 64", head_size));
  if (head_size <= 0) bad("head_size", "must be > 0");
  if (dim_att % head_size) bad("dim_att", fmt::format("{} is not a multiple of --head_size {}", dim_att, head_size));
  if (!v56 && dim_att != n_embd) bad("dim_att", fmt::format("{} != --n_embd {}: RWKV-7 uses dim_att = n_embd", dim_att, n_embd));
  if (beta1 < 0 || beta1 >= 1) bad("beta1", "must be in [0, 1)");
  if (beta2 < 0 || beta2 >= 1) bad("beta2", "must be in [0, 1)");
  if (adam_eps < 0) bad("adam_eps", "must be >= 0");
  if (weight_decay < 0) bad("weight_decay", "must be >= 0");
  if (grad_clip < 0) bad("grad_clip", "must be >= 0 (0 disables clipping)");
  for (auto [flag, v] : {std::pair{"lr_init", lr_init}, {"lr_final", lr_final}, {"beta1", beta1}, {"beta2", beta2},
                         {"adam_eps", adam_eps}, {"weight_decay", weight_decay}, {"grad_clip", grad_clip}})
    if (!std::isfinite(v)) bad(flag, fmt::format("{} is not a finite number", v));
  if (lr_init < 0 || lr_final < 0) bad(lr_init < 0 ? "lr_init" : "lr_final", "must be >= 0");
  if (grad_cp != 0 && grad_cp != 1) bad("grad_cp", "must be 0 or 1");
  if (load_partial != 0 && load_partial != 1) bad("load_partial", "must be 0 or 1");
  if (epoch_begin < 0) bad("epoch_begin", "must be >= 0");
  if (magic_prime < 0) bad("magic_prime", "must be >= 0");
  if (!train_type.empty() && train_type != "infctx" && train_type != "state")
    bad("train_type", fmt::format("'{}' is not supported; use infctx or state (or leave it unset)", train_type));
  if (ctx_len_cutoff < 0) bad("ctx_len_cutoff", "must be >= 0 (0: documents are not cut)");
  if (bptt_truncated_learning != 0 && bptt_truncated_learning != 1) bad("bptt_truncated_learning", "must be 0 or 1");
  if (train_type.empty() && (ctx_len_cutoff != 0 || bptt_truncated_learning != 0))
    bad(ctx_len_cutoff != 0 ? "ctx_len_cutoff" : "bptt_truncated_learning", "needs --train_type infctx or state");
  if (!load_state.empty() && train_type != "state") bad("load_state", "needs --train_type state");
  if (!train_type.empty() && ctx_len % kSegmentChunk)
    bad("ctx_len", fmt::format("{}: --train_type {} cuts documents into segments of ctx_len tokens, which the "
                               "chunked WKV kernels take in chunks of {}: use a multiple of {} (e.g. {})",
                               ctx_len, train_type, kSegmentChunk, kSegmentChunk,
                               std::max(kSegmentChunk, ctx_len / kSegmentChunk * kSegmentChunk)));
  if (train_type == "state" && load_model.empty())
    bad("load_model", "--train_type state tunes the initial state of a trained model: name it with --load_model");
  if (train_type == "state" && train_stage == 1)
    bad("train_stage", "1 writes the initial weights; --train_type state trains no weights (use 0 or 3)");

  // each factor divides 40320 or the check below fails: bounding them first keeps the product in range
  for (auto [flag, v] : {std::pair{"micro_bsz", micro_bsz}, {"devices", devices}, {"num_nodes", num_nodes}})
    if (v > kSamplesPerEpoch)
      bad(flag, fmt::format("{} is more than 40320, the samples of one mini-epoch (num_nodes*devices*micro_bsz must divide it)", v));
  // sizes a machine can hold: weights, gradients and two AdamW moments in fp32, ~16 bytes per parameter
  if (n_layer > 4096) bad("n_layer", fmt::format("{} is more than 4096 layers", n_layer));
  if (n_embd > 65536) bad("n_embd", fmt::format("{} is more than 65536", n_embd));
  {
    const double params = double(n_layer) * 12.0 * double(n_embd) * double(n_embd) + 2.0 * double(vocab_size) * double(n_embd);
    const double mem = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
    if (mem > 0 && params * 16 > mem)
      bad("n_layer", fmt::format("n_layer {} x n_embd {} is ~{:.1f}G parameters: training needs ~{:.0f} GiB, this machine has {:.0f} GiB",
                                 n_layer, n_embd, params / 1e9, params * 16 / (1 << 30), mem / (1 << 30)));
  }
  real_bsz = num_nodes * devices * micro_bsz;
  epoch_count = magic_prime / kSamplesPerEpoch;
  epoch_steps = kSamplesPerEpoch / real_bsz;
  if (epoch_steps * real_bsz != kSamplesPerEpoch)
    bad("micro_bsz", fmt::format("num_nodes*devices*micro_bsz = {} must divide 40320 (the samples of one "
                                 "mini-epoch), e.g. 1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 120",
                                 real_bsz));
  if (train_stage != 1 && my_exit_tokens <= 0)
    bad("my_exit_tokens", fmt::format("{}: must be > 0 (the token count of the cosine schedule, where training "
                                      "stops and writes rwkv-final.pth)", my_exit_tokens));

  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d-%H-%M-%S", &tm);
  my_timestamp = buf;
}

std::string TrainArgs::vars_repr() const {
  std::vector<std::pair<std::string, std::string>> kv = {
      {"load_model", py_str(load_model)}, {"wandb", py_str(wandb)}, {"proj_dir", py_str(proj_dir)},
      {"random_seed", fmt::format("{}", random_seed)}, {"data_file", py_str(data_file)},
      {"data_type", py_str(data_type)}, {"vocab_size", fmt::format("{}", vocab_size)},
      {"ctx_len", fmt::format("{}", ctx_len)}, {"epoch_steps", fmt::format("{}", epoch_steps)},
      {"epoch_count", fmt::format("{}", epoch_count)}, {"epoch_begin", fmt::format("{}", epoch_begin)},
      {"epoch_save", fmt::format("{}", epoch_save)}, {"micro_bsz", fmt::format("{}", micro_bsz)},
      {"n_layer", fmt::format("{}", n_layer)}, {"n_embd", fmt::format("{}", n_embd)},
      {"dim_att", fmt::format("{}", dim_att)}, {"dim_ffn", fmt::format("{}", dim_ffn)},
      {"lr_init", py_float(lr_init)}, {"lr_final", py_float(lr_final)},
      {"warmup_steps", fmt::format("{}", warmup_steps)}, {"beta1", py_float(beta1)},
      {"beta2", py_float(beta2)}, {"adam_eps", py_float(adam_eps)}, {"grad_cp", fmt::format("{}", grad_cp)},
      {"weight_decay", py_float(weight_decay)}, {"grad_clip", py_float(grad_clip)},
      {"train_stage", fmt::format("{}", train_stage)}, {"ds_bucket_mb", fmt::format("{}", ds_bucket_mb)},
      {"head_size", fmt::format("{}", head_size)}, {"head_chunk", fmt::format("{}", head_chunk)},
      {"load_partial", fmt::format("{}", load_partial)}, {"magic_prime", fmt::format("{}", magic_prime)},
      {"my_testing", py_str(my_testing)}, {"kernel", py_str(kernel)},
      {"my_exit_tokens", fmt::format("{}", my_exit_tokens)}, {"accelerator", py_str(accelerator)},
      {"devices", fmt::format("{}", devices)}, {"num_nodes", fmt::format("{}", num_nodes)},
      {"precision", py_str(precision)}, {"strategy", py_str(strategy)},
      {"my_timestamp", py_str(my_timestamp)}, {"gradient_clip_val", py_float(grad_clip)},
      {"betas", fmt::format("({}, {})", py_float(beta1), py_float(beta2))},
      {"real_bsz", fmt::format("{}", real_bsz)},
      {"run_name", py_str(fmt::format("{} ctx{} L{} D{}", vocab_size, ctx_len, n_layer, n_embd))},
      {"threads", fmt::format("{}", threads)}, {"plot", fmt::format("{}", plot)},
  };
  if (my_pile_prev_p != -2) kv.push_back({"my_pile_prev_p", fmt::format("{}", my_pile_prev_p)});
  if (my_testing.find("x070") == std::string::npos) {  // RWKV-v5 train.py's extra flags
    kv.push_back({"head_size_divisor", fmt::format("{}", head_size_divisor)});
    kv.push_back({"layerwise_lr", fmt::format("{}", layerwise_lr)});
    kv.push_back({"weight_decay_final", py_float(weight_decay_final)});
    kv.push_back({"my_pile_stage", fmt::format("{}", my_pile_stage)});
    kv.push_back({"dropout", py_float(dropout)});
  }
  if (!train_type.empty()) {  // a normal run's dict stays train.py's
    kv.push_back({"train_type", py_str(train_type)});
    kv.push_back({"ctx_len_cutoff", fmt::format("{}", ctx_len_cutoff)});
    kv.push_back({"bptt_truncated_learning", fmt::format("{}", bptt_truncated_learning)});
    if (train_type == "state") kv.push_back({"load_state", py_str(load_state)});
  }
  std::string s = "{";
  for (size_t i = 0; i < kv.size(); i++) s += fmt::format("{}'{}': {}", i ? ", " : "", kv[i].first, kv[i].second);
  return s + "}";
}

std::string TrainArgs::banner() const {
  std::string P = precision;
  std::transform(P.begin(), P.end(), P.begin(), ::toupper);
  std::string A = accelerator;
  std::transform(A.begin(), A.end(), A.begin(), ::toupper);
  int64_t samples = epoch_steps * real_bsz;
  return fmt::format(
      "\n############################################################################\n#\n"
      "# RWKV-{} {} on {}x{} {}, bsz {}x{}x{}={}, {} {}\n#\n"
      "# Data = {} ({}), ProjDir = {}\n#\n"
      "# Epoch = {} to {} (will continue afterwards), save every {} epoch\n#\n"
      "# Each \"epoch\" = {} steps, {} samples, {} tokens\n#\n"
      "# Model = {} n_layer, {} n_embd, {} ctx_len\n#\n"
      "# Adam = lr {} to {}, warmup {} steps, beta ({}, {}), eps {}\n#\n"
      "# Compute: CPU fp32 (the reference path), checkpoints saved as {}\n#\n"
      "############################################################################\n",
      my_testing.find("x060") != std::string::npos ? "6" : my_testing.find("x052") != std::string::npos ? "5.2" : "7",
      P, num_nodes, devices, A, num_nodes, devices, micro_bsz, real_bsz, strategy, grad_cp > 0 ? "with grad_cp" : "",
      data_file, data_type, proj_dir, epoch_begin, epoch_begin + epoch_count - 1, epoch_save, epoch_steps, samples,
      samples * ctx_len, n_layer, n_embd, ctx_len, py_float(lr_init), py_float(lr_final), warmup_steps,
      py_float(beta1), py_float(beta2), py_float(adam_eps), precision);
}

const std::vector<std::string>& train_flag_names() {
  static const std::vector<std::string> v = {
      "load_model", "wandb", "proj_dir", "random_seed", "data_file", "data_type", "vocab_size", "ctx_len",
      "epoch_steps", "epoch_count", "epoch_begin", "epoch_save", "micro_bsz", "n_layer", "n_embd", "dim_att",
      "dim_ffn", "lr_init", "lr_final", "warmup_steps", "beta1", "beta2", "adam_eps", "grad_cp",
      "weight_decay", "grad_clip", "train_stage", "ds_bucket_mb", "head_size", "head_size_a", "head_chunk",
      "load_partial", "magic_prime", "my_testing", "kernel", "my_exit_tokens", "accelerator", "devices",
      "num_nodes", "precision", "strategy", "enable_progress_bar", "threads", "plot", "train_type",
      "ctx_len_cutoff", "bptt_truncated_learning", "load_state", "tokenizer", "head_size_divisor", "layerwise_lr", "weight_decay_final",
      "my_pile_stage", "dropout", "pre_ffn", "head_qk", "my_pile_edecay", "comm_timeout", "ds_overlap_comm", "help"};
  return v;
}

const std::vector<std::string>& train_noop_flag_names() {
  static const std::vector<std::string> v = {"wandb", "enable_progress_bar", "head_chunk", "kernel"};
  return v;
}

std::string closest_flag(const std::string& name, const std::vector<std::string>& valid) {
  auto dist = [](const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); j++) prev[j] = j;
    for (size_t i = 1; i <= a.size(); i++) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); j++)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  size_t bd = SIZE_MAX;
  for (auto& v : valid) {
    size_t d = dist(name, v);
    if (d < bd) bd = d, best = v;
  }
  return best;
}

}  // namespace rwkv::train
