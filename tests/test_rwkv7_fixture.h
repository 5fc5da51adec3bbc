// test_rwkv7_fixture.h — the official RWKV-7 fixture (rwkv7-L2-D128-V512: model.pth and the fp64
// reference expected.safetensors) loaded once per test, shared by the forward and gradient tests.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "io/model_file.h"
#include "test_util.h"

namespace rwkv::test {

struct Rwkv7Fixture {
  StateDict model, expected;
  std::vector<int32_t> tokens;  // (B, T+1)
  int B = 0, T = 0;             // T: tokens fed per sequence (the last one is only a target)
};

inline Rwkv7Fixture load_rwkv7_fixture() {
  Rwkv7Fixture f;
  f.model = load_pth(fixture("rwkv7-L2-D128-V512/model.pth"));
  f.expected = load_safetensors(fixture("rwkv7-L2-D128-V512/expected.safetensors"));
  const Tensor& t = f.expected.at("tokens");
  f.B = int(t.shape[0]);
  f.T = int(t.shape[1]) - 1;
  for (float x : t.to_f32_vec()) f.tokens.push_back(int32_t(x));
  return f;
}

}  // namespace rwkv::test
