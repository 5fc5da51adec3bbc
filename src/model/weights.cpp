// weights.cpp — see weights.h.
#include "model/weights.h"

#include "core/error.h"

namespace rwkv {


const Tensor& WeightStore::at(const std::string& name) const {
  const Tensor* t = sd_.find(name);
  if (!t) fail("model", "{}: missing tensor '{}'", source_, name);
  return *t;
}

const Tensor& WeightStore::keep(Tensor t) {
  owned_.push_back(std::move(t));
  return owned_.back();
}

const float* WeightStore::vec(const std::string& name, const Shape& shape) {
  const Tensor& t = at(name);
  if (shape_squeezed(t.shape) != shape_squeezed(shape))
    fail("model", "{}: tensor '{}' has shape {}, expected {}", source_, name, shape_str(t.shape), shape_str(shape));
  if (t.dtype == DType::F32) return t.ptr<float>();
  if (t.dtype != DType::BF16 && t.dtype != DType::F16 && t.dtype != DType::F64)
    fail("model", "{}: tensor '{}' has dtype {}, expected a float type", source_, name, dtype_name(t.dtype));
  return keep(t.to(DType::F32)).ptr<float>();
}

WeightMat WeightStore::mat(const std::string& name, int64_t rows, int64_t cols) {
  const Tensor& t = at(name);
  if (shape_squeezed(t.shape) != shape_squeezed(Shape{rows, cols}))
    fail("model", "{}: tensor '{}' has shape {}, expected {}", source_, name, shape_str(t.shape),
         shape_str(Shape{rows, cols}));
  WeightMat m{t.data, t.dtype, rows, cols};
  if (t.dtype == DType::F64) {
    m.p = keep(t.to(DType::F32)).data;
    m.dt = DType::F32;
  } else if (t.dtype != DType::F32 && t.dtype != DType::BF16 && t.dtype != DType::F16) {
    fail("model", "{}: tensor '{}' has dtype {}, expected a float type", source_, name, dtype_name(t.dtype));
  }
  return m;
}

void ModelIo::load(WeightStore& w, int C, int V) {
  emb = w.mat("emb.weight", V, C);
  ln0_w = w.vec("blocks.0.ln0.weight", {C});
  ln0_b = w.vec("blocks.0.ln0.bias", {C});
  ln_out_w = w.vec("ln_out.weight", {C});
  ln_out_b = w.vec("ln_out.bias", {C});
  head = w.mat("head.weight", V, C);
}

}  // namespace rwkv
