// weights.cpp — see weights.h.
#include "model/weights.h"

#include <cstring>

#include "core/error.h"
#include "ops/gemv.h"

namespace rwkv {

void linear_forward_mat(float* out, const float* inp, const WeightMat& W, int64_t M, bool accumulate) {
  if (W.i8) return mm8_forward(out, inp, *W.i8, M, accumulate);
  if (W.q4) return q4_forward(out, inp, *W.q4, M, accumulate);
  linear_forward_any(out, inp, W.p, W.dt, M, W.cols, W.rows, accumulate);
}

bool is_q4_matrix(const StateDict& sd, const std::string& name) {
  const Tensor* t = sd.find(name);
  return t && t->dtype == DType::U8 && sd.find(name + kQ4Suffixes[0]) != nullptr;
}

namespace {
// Whether `cname` names a companion `<base><suf>` of an int8 matrix (a uint8 `<base>`, suf one of
// kMm8Suffixes) or of a q4 matrix (suf one of kQ4Suffixes) in `sd`.
bool is_companion(const StateDict& sd, const std::string& cname) {
  auto base_of = [&](const char* suf) {
    const size_t n = std::strlen(suf);
    return cname.size() > n && cname.compare(cname.size() - n, n, suf) == 0 ? cname.substr(0, cname.size() - n)
                                                                            : std::string();
  };
  for (const char* suf : kMm8Suffixes) {
    const Tensor* base = sd.find(base_of(suf));
    if (base && base->dtype == DType::U8) return true;
  }
  for (const char* suf : kQ4Suffixes)
    if (is_q4_matrix(sd, base_of(suf))) return true;
  return false;
}

// Whether the strategy stage of the quantized matrix `name` computes in bf16 (bf16i8 / bf16q4):
// the other float tensors of its layer ("blocks.N."; the head's: "ln_out.") are bf16, as
// place_weights (engine/weight_placement.h) and `rwkv convert` keep them in the stage's float
// type. The int8 companions (fp32 whatever the stage) and q4 ones (fp16) do not count.
bool bf16_stage(const StateDict& sd, const std::string& name) {
  std::string prefix = "ln_out.";
  if (name.rfind("blocks.", 0) == 0) prefix = name.substr(0, name.find('.', 7) + 1);
  for (const auto& [n, t] : sd.items)
    if (n.rfind(prefix, 0) == 0 && is_float(t.dtype) && !is_companion(sd, n)) return t.dtype == DType::BF16;
  return false;
}

// A uint8 tensor of the logical shape (rows, cols) sharing q4 data (the stored nibbles (rows,
// cols/2) or the packed rows).
Tensor q4_logical(const Tensor& t, int64_t cols) {
  Tensor v = t;
  if (t.dim() == 2) v.shape = {t.shape[0], cols};
  return v;
}
}  // namespace

StateDict without_mm8_companions(const StateDict& sd) {
  StateDict out;
  for (const auto& [name, t] : sd.items) {
    if (is_companion(sd, name)) continue;
    out.items.emplace_back(name, is_q4_matrix(sd, name) ? q4_logical(t, t.dim() == 2 ? 2 * t.shape[1] : 0) : t);
  }
  return out;
}

WeightStore::WeightStore(StateDict sd, std::string source) : source_(std::move(source)) {
  // uint8 matrices with their four companions become Mm8Weight views (q4: Q4Weight); the
  // companions leave the dict.
  for (auto& [name, t] : sd.items) {
    if (is_companion(sd, name)) continue;
    if (is_q4_matrix(sd, name)) {  // (R, C/2) nibbles, (R, C/32) fp16 scales and offsets
      const Tensor &d = sd.at(name + kQ4Suffixes[0]);
      const Tensor* m = sd.find(name + kQ4Suffixes[1]);
      const int64_t R = t.dim() == 2 ? t.shape[0] : 0, C = t.dim() == 2 ? 2 * t.shape[1] : 0;
      if (t.dim() != 2 || C % kQ4Block != 0)
        fail("model", "{}: q4 matrix '{}' has shape {}, expected (rows, cols/2) with cols a multiple of {}", source_, name,
             shape_str(t.shape), kQ4Block);
      if (!m) fail("model", "{}: q4 matrix '{}' has no '{}{}'", source_, name, name, kQ4Suffixes[1]);
      for (const Tensor* c : {&d, m})
        if (c->dtype != DType::F16 || c->shape != Shape{R, C / kQ4Block})
          fail("model", "{}: the scales of q4 matrix '{}' are {} {}, expected fp16 {}", source_, name, dtype_name(c->dtype),
               shape_str(c->shape), shape_str(Shape{R, C / kQ4Block}));
      // packed for the products (ops/q4.h); the stored tensors are not kept
      Tensor packed = Tensor::empty(DType::U8, {R, q4_row_bytes(C)});
      q4_pack(packed.ptr<uint8_t>(), t.ptr<uint8_t>(), d.ptr<uint16_t>(), m->ptr<uint16_t>(), R, C);
      const Tensor& kp = keep(std::move(packed));
      q4_[name] = Q4Weight{kp.ptr<uint8_t>(), R, C, bf16_stage(sd, name)};
      sd_.items.emplace_back(name, q4_logical(kp, C));
      continue;
    }
    Tensor held = t;  // what the store keeps under `name`
    if (t.dtype == DType::U8) {
      if (t.dim() != 2) fail("model", "{}: uint8 tensor '{}' has shape {}, expected an int8 matrix (rows, cols)", source_, name, shape_str(t.shape));
      const int64_t R = t.shape[0], C = t.shape[1];
      const float* c[4];
      for (int k = 0; k < 4; k++) {
        const Tensor* cp = sd.find(name + kMm8Suffixes[k]);
        if (!cp) fail("model", "{}: int8 matrix '{}' has no '{}{}'", source_, name, name, kMm8Suffixes[k]);
        const Tensor& ct = *cp;
        const int64_t want = k < 2 ? R : C;
        if (ct.dtype != DType::F32 || ct.numel() != want)
          fail("model", "{}: '{}{}' is {} {}, expected fp32 with {} values", source_, name, kMm8Suffixes[k],
               dtype_name(ct.dtype), shape_str(ct.shape), want);
        c[k] = keep(ct).ptr<float>();  // data pointers stay put when owned_ grows
      }
      Mm8Weight w{t.ptr<uint8_t>(), c[0], c[1], c[2], c[3], R, C, bf16_stage(sd, name)};
      if (mm8_groupable(R, C)) {  // in 4-row groups for the products (ops/mm8.h); the stored q is not kept
        Tensor grouped = Tensor::empty(DType::U8, {R, C});
        mm8_group_rows(grouped.ptr<uint8_t>(), t.ptr<uint8_t>(), R, C);
        held = keep(std::move(grouped));
        w.q = held.ptr<uint8_t>();
        w.grouped = true;
      }
      i8_[name] = w;
    }
    sd_.items.emplace_back(name, held);
  }
}


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
  if (t.dtype == DType::U8 && q4_.count(name)) {
    const Q4Weight& q = q4_.at(name);
    if (q.N != rows || q.K != cols)
      fail("model", "{}: q4 matrix '{}' is ({}, {}), expected ({}, {})", source_, name, q.N, q.K, rows, cols);
    m.q4 = &q;
  } else if (t.dtype == DType::U8) {
    auto it = i8_.find(name);
    if (it == i8_.end() || it->second.N != rows || it->second.K != cols)
      fail("model", "{}: tensor '{}' is uint8 without its int8 scales, expected a float or int8 matrix", source_, name);
    m.i8 = &it->second;
  } else if (t.dtype == DType::F64) {
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
