// cmd_convert.cpp — `rwkv convert IN OUT [--dtype fp32|bf16|fp16|int8|fp32i8|bf16i8|fp16i8|q4|fp32q4|bf16q4|fp16q4]`:
// between .pth and .safetensors (by OUT's extension), optionally casting the floating-point tensors, or
// quantizing the matrices to int8 as the pip package's fp32i8 does at load, or to q4 (ops/q4.h) as
// `--dtype q4` does at load (engine/weight_placement.h). Such a file is safetensors with metadata
// rwkv_quant = int8-pip / q4-b32 and rwkv_quant_dtype, and loads without quantizing again.
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/error.h"
#include "engine/engine.h"
#include "engine/weight_placement.h"
#include "io/model_file.h"
#include "model/config.h"
#include "model/weights.h"

static int run(int argc, char** argv) {
  CLI::App app{"Convert a model between .pth and .safetensors (OUT's extension decides), optionally casting floats "
               "or quantizing to int8 or q4"};
  std::string in, out, dtype;
  app.add_option("in", in, "input model (.pth or .safetensors)")->required();
  app.add_option("out", out, "output model (.safetensors, else .pth; int8: .safetensors)")->required();
  app.add_option("--dtype", dtype,
                 "cast floating-point tensors to fp32, bf16 or fp16; or int8 (= fp32i8), fp32i8, bf16i8, fp16i8: "
                 "the pip package's int8 matrices (scales rounded to the named float type); or q4 (= fp32q4), fp32q4, "
                 "bf16q4, fp16q4: 4-bit matrices per block of 32 (other tensors in the named float type)");
  rwkv::cli::add_skip_crc(app);
  int code = 0;
  if (!rwkv::cli::parse(app, argc, argv, &code)) return code;
  if (const std::string q = rwkv::quantized_stage_dtype(dtype); !q.empty()) {
    const bool is_q4 = q.ends_with("q4");
    if (!out.ends_with(".safetensors"))
      rwkv::fail("convert", "{}: {} model is written as .safetensors (its scheme goes in the metadata)", out,
                 is_q4 ? "a q4" : "an int8");
    const rwkv::Strategy s = rwkv::Strategy::parse("cpu " + q);  // "[strategy] ..." names a bad dtype
    rwkv::StateDict sd = rwkv::load_model_file(in);
    const rwkv::ModelConfig c = rwkv::detect_config(rwkv::without_mm8_companions(sd), in);
    sd = rwkv::place_weights(std::move(sd), s.plan(c.n_layer), in);
    int64_t n = 0;
    for (auto& [k, t] : sd.items) n += t.dtype == rwkv::DType::U8;
    rwkv::save_safetensors(out, sd, {{"format", "pt"}, {"rwkv_quant", is_q4 ? "q4-b32" : "int8-pip"}, {"rwkv_quant_dtype", q}});
    fmt::print("wrote {} ({} tensors, {} {} matrices, {})\n", out, sd.size(), n, is_q4 ? "q4" : "int8", q);
    return 0;
  }
  rwkv::DType want = rwkv::DType::F32;
  if (!dtype.empty() && (!rwkv::dtype_from_name(dtype, &want) ||
                         (want != rwkv::DType::F32 && want != rwkv::DType::BF16 && want != rwkv::DType::F16)))
    rwkv::fail("convert", "--dtype '{}': expected fp32, bf16, fp16, int8, fp32i8, bf16i8, fp16i8, q4, fp32q4, bf16q4 or fp16q4", dtype);
  rwkv::StateDict sd = rwkv::load_model_file(in);
  if (!dtype.empty()) sd = rwkv::convert_float_tensors(std::move(sd), want);
  rwkv::save_model_file(out, sd);
  fmt::print("wrote {} ({} tensors{})\n", out, sd.size(), dtype.empty() ? "" : ", " + std::string(rwkv::dtype_name(want)));
  return 0;
}

static rwkv::cli::Command reg{"convert", "convert a model between .pth and .safetensors (and dtypes, int8, q4)", run};
