// runner.cpp — make_runner (architecture dispatch), loading, dtype conversion, state helpers.
#include "infer/runner.h"

#include "core/error.h"
#include "core/threads.h"
#include "io/model_file.h"

namespace rwkv {

static bool is_float(DType t) { return t == DType::F32 || t == DType::BF16 || t == DType::F16 || t == DType::F64; }

StateDict convert_float_tensors(StateDict sd, DType dt) {
  for (auto& [name, t] : sd.items)
    if (is_float(t.dtype) && t.dtype != dt) t = t.to(dt);
  return sd;
}

RunnerState clone_state(const RunnerState& s) {
  RunnerState r;
  for (auto& [name, t] : s.items) r.items.emplace_back(name, t.clone());
  return r;
}

std::map<std::string, std::string> model_identity(const ModelConfig& cfg) {
  return {{"arch", arch_name(cfg.arch)},
          {"n_layer", std::to_string(cfg.n_layer)},
          {"n_embd", std::to_string(cfg.n_embd)},
          {"head_size", std::to_string(cfg.head_size)},
          {"vocab_size", std::to_string(cfg.vocab_size)}};
}

std::unique_ptr<Runner> make_runner(StateDict sd, const std::string& source, const RunnerOptions& opt) {
  if (opt.threads > 0) set_num_threads(opt.threads);
  if (opt.dtype) {
    DType dt = *opt.dtype;
    if (dt != DType::F32 && dt != DType::BF16 && dt != DType::F16)
      fail("infer", "{}: --dtype must be fp32, bf16 or fp16, got {}", source, dtype_name(dt));
    sd = convert_float_tensors(std::move(sd), dt);
  }
  ModelConfig cfg = detect_config(sd, source);
  switch (cfg.arch) {
    case Arch::RWKV7: return make_rwkv7_runner(std::move(sd), cfg, source);
    case Arch::RWKV4:
    case Arch::RWKV5:
    case Arch::RWKV5_1:
    case Arch::RWKV5_2:
    case Arch::RWKV6: return make_legacy_runner(std::move(sd), cfg, source);
    default: break;
  }
  fail("infer", "{}: architecture {} is not supported for inference yet", source, arch_name(cfg.arch));
}

std::unique_ptr<Runner> load_runner(const std::string& path, const RunnerOptions& opt) {
  return make_runner(load_model_file(path), path, opt);
}

}  // namespace rwkv
