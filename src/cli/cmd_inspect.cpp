// cmd_inspect.cpp — `rwkv inspect MODEL`: architecture, sizes, parameter count and the tensor
// table (shape columns then name, as RWKV-LM train.py prints it) of a .pth or .safetensors; for an int8
// file (`rwkv convert --dtype int8`) its scheme, the int8 matrices and their bytes.
#include <fmt/format.h>

#include <map>
#include <set>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/error.h"
#include "io/model_file.h"
#include "model/config.h"
#include "model/weights.h"

namespace {

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v), r;
  for (size_t i = 0; i < s.size(); i++) {
    if (i && (s.size() - i) % 3 == 0) r += ',';
    r += s[i];
  }
  return r;
}

// train.py: f"{s0.ljust(5)} {s1.ljust(5)} {s2.ljust(5)} {s3.ljust(5)} {n}"
std::string table_line(const std::string& name, const rwkv::Shape& s) {
  auto col = [&](size_t i) { return i < s.size() ? std::to_string(s[i]) : std::string(); };
  return fmt::format("{:<5} {:<5} {:<5} {:<5} {}", col(0), col(1), col(2), col(3), name);
}

}  // namespace

static int run(int argc, char** argv) {
  CLI::App app{"Show a model file's architecture, sizes, parameter count and tensor table"};
  std::string path;
  app.add_option("model", path, "model file (.pth or .safetensors)")->required();
  rwkv::cli::add_skip_crc(app);
  int code = 0;
  if (!rwkv::cli::parse(app, argc, argv, &code)) return code;
  std::map<std::string, std::string> meta;
  rwkv::StateDict sd = path.ends_with(".safetensors") ? rwkv::load_safetensors(path, &meta) : rwkv::load_model_file(path);
  std::set<std::string> dtypes;
  int64_t n_params = 0;
  for (auto& [k, t] : sd.items) {
    dtypes.insert(rwkv::dtype_name(t.dtype));
    n_params += t.numel();
  }
  for (auto& [k, t] : sd.items)
    fmt::print("{}{}\n", table_line(k, t.shape), dtypes.size() > 1 ? fmt::format("  [{}]", rwkv::dtype_name(t.dtype)) : "");
  fmt::print("\nfile        {}\n", path);
  fmt::print("tensors     {}\n", sd.size());
  fmt::print("dtype       {}\n", dtypes.size() == 1 ? *dtypes.begin() : std::string("mixed"));
  int64_t n_i8 = 0, bytes_i8 = 0, bytes_all = 0, n_q4 = 0, bytes_q4 = 0, w_q4 = 0;
  for (auto& [k, t] : sd.items) {
    bytes_all += int64_t(t.nbytes());
    if (rwkv::is_q4_matrix(sd, k)) {
      n_q4++, w_q4 += 2 * t.numel();
      bytes_q4 += int64_t(t.nbytes());
      for (const char* suf : rwkv::kQ4Suffixes)
        if (const rwkv::Tensor* c = sd.find(k + suf)) bytes_q4 += int64_t(c->nbytes());
    } else if (t.dtype == rwkv::DType::U8) {
      n_i8++, bytes_i8 += int64_t(t.nbytes());
    }
  }
  // "q4-b32 fp32q4": the metadata's scheme and stage dtype, or what the tensors say without it
  auto scheme = [&](const char* without_metadata) {
    const auto it = meta.find("rwkv_quant"), dt = meta.find("rwkv_quant_dtype");
    return (it == meta.end() ? std::string(without_metadata) : it->second) + (dt == meta.end() ? "" : " " + dt->second);
  };
  if (n_q4) {
    fmt::print("quant       {} ({} q4 matrices: 4-bit per block of 32 with fp16 scale and offset, <name>_q4d/_q4m; "
               "{:.2f} MB for {} weights = {:.3f} bytes per weight)\n",
               scheme("q4 (no rwkv_quant metadata)"), n_q4, bytes_q4 / 1e6, w_q4,
               double(bytes_q4) / double(std::max<int64_t>(w_q4, 1)));
  } else if (n_i8 || meta.count("rwkv_quant")) {
    fmt::print("quant       {} ({} int8 matrices, {:.2f} MB of q; scales fp32 as <name>_mx/_rx/_my/_ry)\n",
               scheme("int8 (no rwkv_quant metadata)"), n_i8, bytes_i8 / 1e6);
  }
  fmt::print("size        {:.2f} MB of tensors\n", bytes_all / 1e6);
  rwkv::ModelConfig c;
  try {
    c = rwkv::detect_config(rwkv::without_mm8_companions(sd), path);
  } catch (const rwkv::Error& e) {
    fmt::print("params      {}\n", with_commas(n_params));
    throw;
  }
  static const char* const kNames[] = {"RWKV-2", "RWKV-4", "RWKV-5.0", "RWKV-5.1", "RWKV-5.2", "RWKV-6", "RWKV-7"};
  fmt::print("arch        {} ({})\n", rwkv::arch_name(c.arch), kNames[int(c.arch)]);
  fmt::print("n_layer     {}\n", c.n_layer);
  fmt::print("n_embd      {}\n", c.n_embd);
  if (c.arch != rwkv::Arch::RWKV4 && c.arch != rwkv::Arch::RWKV2)
    fmt::print("head_size   {}\nn_head      {}\n", c.head_size, c.n_head);
  if (c.head_qk > 0) fmt::print("head_qk     {} (copy window ctx_len {})\n", c.head_qk, c.copy_len);
  fmt::print("vocab_size  {}\n", c.vocab_size);
  fmt::print("dim_att     {}\ndim_ffn     {}\n", c.dim_att, c.dim_ffn);
  if (c.arch == rwkv::Arch::RWKV7)
    fmt::print("lora        decay {}, aaa {}, mv {}, gate {}\n", c.d_decay, c.d_aaa, c.d_mv, c.d_gate);
  fmt::print("params      {}\n", with_commas(c.n_params));
  return 0;
}

static rwkv::cli::Command reg{"inspect", "show a model file's architecture, sizes and tensors", run};
