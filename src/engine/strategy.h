// strategy.h — the `rwkv` pip package's strategy strings ("cpu fp32", "cuda fp16i8 *10 -> cpu fp32",
// "cuda fp16 *0+ -> cpu fp32 *1"): the same grammar and the same per-layer placement.
//   strategy := stage ( "->" stage )*      spaces around "->" and at the ends are ignored
//   stage    := device " " dtype [ " *" N [ "+" ] ]
//   device   := "cpu" | "cuda" [ ":" digits ] | "mps" | "dml"
//   dtype    := ( "fp32" | "fp16" | "bf16" ) [ "i8" | "i4" | "i3" | "q4" ]
// "q4" is ours, not the package's: 4-bit weights per block of 32 (ops/q4.h); i4 / i3 parse (the
// package's regex takes them) and are refused at load.
// Layers are counted with ln_out + head as one more "layer": an L12 model has 13. A stage with
// "*N" takes N of them in order; stages without a count share the rest equally (the remainder to
// the last stage); "*N+" keeps N layers and streams all the remaining ones through that stage.
// A tensor's layer: "blocks.{i}.*" -> i, "ln_out.*" / "head.*" -> n_layer, anything else (emb) -> 0.
#pragma once
#include <string>
#include <vector>

#include "core/dtype.h"

namespace rwkv {

struct StrategyStage {
  std::string text;     // as written, e.g. "cuda fp16i8 *10+"
  std::string device;   // "cpu", "cuda", "cuda:1", "mps", "dml"
  DType atype = DType::F32;  // fp32 / fp16 / bf16: activations in the package; here the float weights' type
  int quant_bits = 0;   // 8 for "i8" (ops/mm8.h), 4 / 3 for "i4" / "i3"; 0: float weights (or q4)
  bool q4 = false;      // "q4" (ops/q4.h)
  int count = -1;       // N of "*N"; -1 when absent
  bool stream = false;  // "+"
};

// Where one layer (0..n_layer, the last being ln_out + head) runs and how its weights are kept.
struct LayerPlacement {
  int stage = 0;
  std::string device;
  DType atype = DType::F32;
  int quant_bits = 0;
  bool stream = false;  // streamed to the device each use (on a cpu stage: no effect, weights are in host memory)
  bool q4 = false;      // 4-bit weights (ops/q4.h); quant_bits is then 0
  bool quantized() const { return quant_bits != 0 || q4; }
};

struct Strategy {
  std::string text;  // normalised as the package does: "a -> b"
  std::vector<StrategyStage> stages;

  // Throws "[strategy] '<text>': ..." naming the stage that does not fit the grammar.
  static Strategy parse(const std::string& text);
  // The package's plan for a model of n_layer blocks: n_layer + 1 placements. Throws where the
  // package itself fails (a "*0" stage taking a share that leaves a later stage dividing by zero).
  std::vector<LayerPlacement> plan(int n_layer) const;
};

// The stage dtype a `--dtype` names when it asks for quantized weights: "int8" -> "fp32i8",
// "q4" -> "fp32q4", "<float>i8" / "<float>q4" as written; "" for any other dtype (a float cast).
std::string quantized_stage_dtype(const std::string& dtype);

// The layer a checkpoint tensor belongs to for placement (see the header comment).
int strategy_layer_of(const std::string& tensor_name, int n_layer);

// One line per layer ("0 cpu fp32i8", ... "12 cpu fp32 (ln_out+head)"), as the package prints the plan.
std::string describe_plan(const std::vector<LayerPlacement>& plan);

}  // namespace rwkv
