// weight_placement.h — a state dict converted for a per-layer strategy plan (engine/strategy.h), as
// the pip package's "load weights" loop does on a CPU: each tensor goes to its layer's stage; float
// tensors become the stage's float type; on an "i8" stage each quantizable matrix becomes int8
// (ops/mm8.h): `<name>` uint8 (rows, cols) plus fp32 `<name>_mx`, `_rx`, `_my`, `_ry` (model/weights.h),
// the four rounded to the stage's float type first, as the package casts them to its activation type.
// On a "q4" stage each such matrix whose input count is a multiple of 32 becomes q4 (ops/q4.h):
// `<name>` uint8 (rows, cols/2) plus fp16 `<name>_q4d`, `_q4m` (rows, cols/32) (model/weights.h); the
// others keep the stage's float type. Tensors already int8 or q4 (a converted file) are kept as they are.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "engine/strategy.h"

namespace rwkv {

// The package's test: a 2-D ".weight" matrix whose name has none of "emb", "_w1", "_w2" (projections and
// the head; not the embedding, norms, time_* vectors, LoRA factors).
bool mm8_quantizable(const std::string& name, const Tensor& t);

// Applies `plan` (n_layer + 1 placements) to `sd`. Throws "[engine] <source>: ..." for a quantization
// scheme this build has no kernels for.
StateDict place_weights(StateDict sd, const std::vector<LayerPlacement>& plan, const std::string& source);

// The int8 tensors of one matrix W (rows, cols), any float dtype; scales rounded to `scale_dt`.
void mm8_quantize_into(StateDict& out, const std::string& name, const Tensor& W, DType scale_dt);
// The q4 tensors of one matrix W (rows, cols), cols a multiple of 32, any float dtype.
void q4_quantize_into(StateDict& out, const std::string& name, const Tensor& W);

}  // namespace rwkv
