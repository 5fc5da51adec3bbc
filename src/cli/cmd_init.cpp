// cmd_init.cpp — `rwkv init --n_layer L --n_embd C --vocab_size V [--head_size 64] [--seed S]
// [--dtype bf16] [--my_testing x070|x060|x052] --out rwkv-init.pth`: the official RWKV-7
// initialisation (train.py --train_stage 1), or RWKV-6 / RWKV-5.2 (RWKV-v5 train.py
// --my_pile_stage 1), printed per parameter as generate_init_weight prints it.
#include <fmt/format.h>

#include <cmath>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/progress.h"
#include "io/model_file.h"
#include "model/config.h"
#include "model/init.h"
#include "model/rwkv56_params.h"

namespace {

// Python's repr of a float scale (1.0, 0.1, -0.0001, 0.7071067811865476).
std::string py_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

static int run(int argc, char** argv) {
  CLI::App app{"Write the official RWKV-7 initial weights (as train.py --train_stage 1 writes rwkv-init.pth)"};
  int n_layer = 0, n_embd = 0, vocab_size = 0, head_size = 64;
  uint64_t seed = 0;
  std::string dtype = "bf16", out = "rwkv-init.pth", my_testing = "x070";
  int dim_att = 0, dim_ffn = 0;
  app.add_option("--n_layer,--n-layer", n_layer, "number of layers")->required()->check(CLI::PositiveNumber);
  app.add_option("--n_embd,--n-embd", n_embd, "embedding size (multiple of head_size)")->required()->check(CLI::PositiveNumber);
  app.add_option("--vocab_size,--vocab-size", vocab_size, "vocabulary size")->required()->check(CLI::PositiveNumber);
  app.add_option("--head_size,--head-size", head_size, "head size")->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--dtype", dtype, "stored dtype: bf16 (as train.py), fp16 or fp32")->capture_default_str();
  app.add_option("--out", out, "output file (.pth; .safetensors by extension)")->capture_default_str();
  app.add_option("--my_testing", my_testing, "x070 (RWKV-7), x060 (RWKV-6) or x052 (RWKV-5.2)")->capture_default_str();
  app.add_option("--dim_att", dim_att, "x052/x060: 0 = n_embd")->capture_default_str();
  app.add_option("--dim_ffn", dim_ffn, "x052/x060: 0 = int(n_embd*3.5)//32*32")->capture_default_str();
  int code = 0;
  if (!rwkv::cli::parse(app, argc, argv, &code)) return code;
  rwkv::DType dt;
  if (!rwkv::dtype_from_name(dtype, &dt) || (dt != rwkv::DType::F32 && dt != rwkv::DType::BF16 && dt != rwkv::DType::F16))
    rwkv::fail("init", "--dtype '{}': expected bf16, fp16 or fp32", dtype);
  const bool v6 = my_testing.find("x060") != std::string::npos, v52 = my_testing.find("x052") != std::string::npos;
  if (!v6 && !v52 && my_testing.find("x070") == std::string::npos)
    rwkv::fail("init", "--my_testing '{}': expected x070, x060 or x052", my_testing);
  if (dim_att <= 0) dim_att = n_embd;
  if (dim_ffn <= 0) dim_ffn = my_testing.find("-f4") != std::string::npos ? 4 * n_embd : int(n_embd * 3.5) / 32 * 32;
  if ((v6 || v52) && (head_size <= 0 || dim_att % head_size))
    rwkv::fail("init", "--dim_att {} is not a multiple of --head_size {}", dim_att, head_size);
  rwkv::ModelConfig cfg = v6 || v52 ? rwkv::rwkv56_config(v6 ? rwkv::Arch::RWKV6 : rwkv::Arch::RWKV5_2, n_layer, n_embd,
                                                          vocab_size, head_size, dim_att, dim_ffn)
                                    : rwkv::x070_config(n_layer, n_embd, vocab_size, head_size);
  rwkv::Progress progress("init", double(cfg.n_params), "params");
  int64_t done = 0;
  auto on_param = [&](const std::string& n, const rwkv::Shape& s, const rwkv::InitRule& r) {
    auto col = [&](size_t i) { return i < s.size() ? std::to_string(s[i]) : std::string(); };
    std::string line = fmt::format("{:<5} {:<5} {:<5} {:<5} {}", col(0), col(1), col(2), col(3), n);
    if (r.kind == rwkv::InitRule::Uniform || n == "head.weight") line += fmt::format(" [scale {}]", py_float(r.scale));
    else if (r.kind == rwkv::InitRule::Zero) line += " [scale 0]";
    else if (r.kind == rwkv::InitRule::Orthogonal && n.find(".weight") != std::string::npos)
      line += fmt::format(" [scale {}]", py_float(r.scale));
    fmt::print("{}\n", line);
    progress.update(double(done), n);
    done += rwkv::shape_numel(s);
  };
  rwkv::StateDict sd = v6 || v52 ? rwkv::rwkv56_init(cfg, seed, dt, on_param) : rwkv::x070_init(cfg, seed, dt, on_param);
  progress.update(double(cfg.n_params));
  progress.finish();
  fmt::print("model params {}\n", cfg.n_params);
  rwkv::save_model_file(out, sd);
  fmt::print("saved {} ({} {}, n_layer {}, n_embd {}, vocab_size {}, head_size {})\n", out, rwkv::arch_name(cfg.arch),
             rwkv::dtype_name(dt), n_layer, n_embd, vocab_size, head_size);
  return 0;
}

static rwkv::cli::Command reg{"init", "write the official RWKV-7 / 6 / 5.2 initial weights (rwkv-init.pth)", run};
