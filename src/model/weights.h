// weights.h — a loaded model's tensors as the layers read them: vectors as fp32 (fp32 tensors
// used in place, others converted once and kept here), matrices in their stored dtype (fp32 /
// bf16 / fp16, zero-copy from the file's mmap). Every lookup checks name and shape and throws
// "[model] <source>: ..." naming the key.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace rwkv {

// A weight matrix (rows, cols) as stored: torch.nn.Linear layout (out, in) for projections.
struct WeightMat {
  const void* p = nullptr;
  DType dt = DType::F32;
  int64_t rows = 0, cols = 0;
};

class WeightStore {
 public:
  WeightStore(StateDict sd, std::string source) : sd_(std::move(sd)), source_(std::move(source)) {}
  // fp32 data of `name`, whose shape with size-1 dims dropped must equal `shape`'s.
  const float* vec(const std::string& name, const Shape& shape);
  // A 2-D matrix (rows, cols) in its stored float dtype (fp64 is converted to fp32).
  WeightMat mat(const std::string& name, int64_t rows, int64_t cols);
  bool has(const std::string& name) const { return sd_.has(name); }
  const Tensor& at(const std::string& name) const;  // raw tensor; throws naming the source
  const std::string& source() const { return source_; }
  const StateDict& tensors() const { return sd_; }
  // Keeps a tensor made at load (e.g. a transposed copy) alive as long as the store.
  const Tensor& keep(Tensor t);

 private:
  StateDict sd_;
  std::string source_;
  std::vector<Tensor> owned_;
};

// Embedding, ln0 (before block 0), ln_out and head: the same in every version.
struct ModelIo {
  WeightMat emb, head;  // (V, C)
  const float *ln0_w = nullptr, *ln0_b = nullptr, *ln_out_w = nullptr, *ln_out_b = nullptr;  // (C)
  void load(WeightStore& w, int n_embd, int vocab);
};

}  // namespace rwkv
