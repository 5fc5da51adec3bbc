// test_pth_util.h — helpers for the model-file tests: the stdlib-Python weights-only loader
// (tests/check_torch_load.py), and hand-made .pth archives for the bad-file cases.
#pragma once
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/atomic_file.h"
#include "crafted_files.h"  // write_raw_pth, tensor_pickle
#include "io/zip.h"

namespace rwkv::test {

struct TorchLoadResult {
  bool ok = false;
  std::string output;                 // raw stdout ("REJECTED: ..." when not ok)
  std::vector<nlohmann::json> tensors;  // one {"name","dtype","shape","stride","offset","numel","sum"} each
};

// The system Python (a version-manager shim on PATH can cost seconds per start).
inline std::string python_exe() {
  return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

// Runs tests/check_torch_load.py on `path` (torch.load(weights_only=True) emulated in stdlib Python).
inline TorchLoadResult python_torch_load(const std::string& path) {
  TorchLoadResult r;
  std::string cmd = python_exe() + " " RWKV_SOURCE_DIR "/tests/check_torch_load.py '" + path + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  r.ok = st == 0;
  size_t pos = 0;
  while (r.ok && pos < r.output.size()) {
    size_t e = r.output.find('\n', pos);
    if (e == std::string::npos) e = r.output.size();
    if (e > pos) r.tensors.push_back(nlohmann::json::parse(r.output.substr(pos, e - pos)));
    pos = e + 1;
  }
  return r;
}

// Sum in float64, in element order, as check_torch_load.py sums (integers exactly converted).
inline double sum_f64(const Tensor& t) {
  double s = 0;
  auto add = [&](auto* p) { for (int64_t i = 0, n = t.numel(); i < n; i++) s += double(p[i]); };
  switch (t.dtype) {
    case DType::I64: add(t.ptr<int64_t>()); break;
    case DType::I32: add(t.ptr<int32_t>()); break;
    case DType::I8: add(t.ptr<int8_t>()); break;
    case DType::U8: case DType::BOOL: add(t.ptr<uint8_t>()); break;
    case DType::F64: add(t.ptr<double>()); break;
    default: for (float v : t.to_f32_vec()) s += v;
  }
  return s;
}

// Same keys in the same order, same dtypes and shapes, and the same bytes.
inline void expect_bit_identical(const StateDict& a, const StateDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); i++) {
    EXPECT_EQ(a.items[i].first, b.items[i].first);
    EXPECT_EQ(a.items[i].second.dtype, b.items[i].second.dtype);
    ASSERT_EQ(a.items[i].second.shape, b.items[i].second.shape);
    EXPECT_EQ(std::memcmp(a.items[i].second.data, b.items[i].second.data, a.items[i].second.nbytes()), 0)
        << a.items[i].first;
  }
}


}  // namespace rwkv::test
