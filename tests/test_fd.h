// test_fd.h — finite-difference gradient checks shared by the op tests (test_ops_grad*.cpp):
// loss = <out, proj> as a double, central differences of it per input element, compared with
// the analytic gradient under the tolerance table's fd_grad row.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "test_util.h"

namespace rwkv::test {

using Vec = std::vector<float>;

inline double dotd(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += double(a[i]) * b[i];
  return s;
}

struct Input {
  std::string name;
  Vec* x;
  const Vec* grad;  // analytic gradient, same size
};

// Compares the analytic gradient of every input with central differences of loss().
inline void check_fd(const std::function<double()>& loss, const std::vector<Input>& inputs,
                     float eps = 1e-3f) {
  for (const Input& in : inputs) {
    Vec fd(in.x->size());
    for (size_t i = 0; i < in.x->size(); i++) {
      float orig = (*in.x)[i];
      (*in.x)[i] = orig + eps;
      double lp = loss();
      (*in.x)[i] = orig - eps;
      double lm = loss();
      (*in.x)[i] = orig;
      fd[i] = float((lp - lm) / (2.0 * double(eps)));
    }
    double err = rel_norm_err(*in.grad, fd);
    EXPECT_LE(err, tol::fd_grad.rel) << in.name << ": relative error (norm) " << err;
    EXPECT_LE(tol_excess(*in.grad, fd, tol::fd_grad), 0.0) << in.name;
  }
}

}  // namespace rwkv::test
