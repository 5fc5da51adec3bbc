// test_orthogonal.h — how far an initial weight is from orthogonal with a given gain (the
// init tests of every version: torch.nn.init.orthogonal_ with gain g gives W W^T = g^2 I over
// the smaller side).
#pragma once
#include <algorithm>
#include <cmath>

#include "core/tensor.h"

namespace rwkv::test {

// max |W W^T - g^2 I| / g^2 over the smaller Gram matrix (rows orthonormal when rows < cols).
inline double orthogonality_error(const Tensor& t, double gain) {
  auto w = t.to_f32_vec();
  const int64_t rows = t.shape[0], cols = t.numel() / rows;
  const bool by_rows = rows < cols;
  const int64_t k = by_rows ? rows : cols, len = by_rows ? cols : rows;
  auto at = [&](int64_t vec, int64_t i) { return double(by_rows ? w[vec * cols + i] : w[i * cols + vec]); };
  double worst = 0;
  for (int64_t a = 0; a < k; a++)
    for (int64_t b = a; b < k; b++) {
      double s = 0;
      for (int64_t i = 0; i < len; i++) s += at(a, i) * at(b, i);
      worst = std::max(worst, std::fabs(s - (a == b ? gain * gain : 0)) / (gain * gain));
    }
  return worst;
}

}  // namespace rwkv::test
