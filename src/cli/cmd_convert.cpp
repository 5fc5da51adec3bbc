// cmd_convert.cpp — `rwkv convert IN OUT [--dtype fp32|bf16|fp16]`: between .pth and
// .safetensors (by OUT's extension), optionally casting the floating-point tensors.
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/error.h"
#include "io/model_file.h"

static int run(int argc, char** argv) {
  CLI::App app{"Convert a model between .pth and .safetensors (OUT's extension decides), optionally casting floats"};
  std::string in, out, dtype;
  app.add_option("in", in, "input model (.pth or .safetensors)")->required();
  app.add_option("out", out, "output model (.safetensors, else .pth)")->required();
  app.add_option("--dtype", dtype, "cast floating-point tensors to fp32, bf16 or fp16");
  rwkv::cli::add_skip_crc(app);
  int code = 0;
  if (!rwkv::cli::parse(app, argc, argv, &code)) return code;
  rwkv::DType want = rwkv::DType::F32;
  if (!dtype.empty() && (!rwkv::dtype_from_name(dtype, &want) ||
                         (want != rwkv::DType::F32 && want != rwkv::DType::BF16 && want != rwkv::DType::F16)))
    rwkv::fail("convert", "--dtype '{}': expected fp32, bf16 or fp16", dtype);
  rwkv::StateDict sd = rwkv::load_model_file(in);
  if (!dtype.empty()) {
    for (auto& [k, t] : sd.items) {
      bool is_float = t.dtype == rwkv::DType::F32 || t.dtype == rwkv::DType::BF16 || t.dtype == rwkv::DType::F16 ||
                      t.dtype == rwkv::DType::F64;
      if (is_float && t.dtype != want) t = t.to(want);
    }
  }
  rwkv::save_model_file(out, sd);
  fmt::print("wrote {} ({} tensors{})\n", out, sd.size(), dtype.empty() ? "" : ", " + std::string(rwkv::dtype_name(want)));
  return 0;
}

static rwkv::cli::Command reg{"convert", "convert a model between .pth and .safetensors (and dtypes)", run};
