// test_util.h — shared test helpers: where the fixtures are, running the CLI, temp dirs,
// and the one tolerance table.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"

namespace rwkv::test {

// $RWKV_FIXTURES, else the CMake setting RWKV_FIXTURES_DIR (default ../shared/fixtures).
// A missing folder fails the test with a message that says how to point at it.
std::string fixtures_dir();
std::string fixture(const std::string& rel);  // fixtures_dir()/rel, must exist
std::string asset(const std::string& name);    // via rwkv::find_asset

// Runs `rwkv <args>` (shell syntax), capturing stdout and stderr; returns the exit status.
struct CliResult { int status; std::string out, err; };
CliResult run_cli(const std::string& args, const std::string& stdin_text = "");

// Runs `rwkv <args>` as one process (shell syntax, stdin from /dev/null), killed after
// `timeout_s`: exit status, the signal that ended it (0 if none), its peak resident memory and
// wall time — what the hostile-input tests bound.
struct CliRun {
  int status = -1, signal = 0;
  bool timed_out = false;
  double seconds = 0, peak_rss_mib = 0;
  std::string out, err;
};
CliRun run_cli_measured(const std::string& args, double timeout_s = 30);

// A fresh empty folder under the system temp dir, removed at destruction.
struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

std::string read_file(const std::string& path);

// The what() of the rwkv::Error that f() throws, or "(no error)" when it throws none.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Tolerance table: |got - ref| <= abs + rel * |ref| (per element), one row per kind of check.
struct Tol { double abs, rel; };
namespace tol {
// gemv/linear with fp32 accumulation vs an fp64 reference on the same (widened) weights.
inline constexpr Tol fp32_gemv{1e-5, 1e-5};
// Same model run different ways in fp32 (RNN token by token, chunked prefill vs GPT mode).
inline constexpr Tol fp32_modes{1e-5, 1e-5};
// A sequence run inside a batch (other sequences, other chunking, other slots) vs run alone:
// logits and final state by relative error in norm (`rel`). Alone, a short sequence takes the
// GEMV / few-row kernels, in a batch another product: RWKV-6's exp(-exp(w)) decay amplifies
// that rounding to ~4e-6 in norm, a few 1e-5 on single elements.
inline constexpr Tol batch_vs_alone{1e-5, 1e-5};
// The same for RWKV-2's state (`rel`): its WKV state sums k = exp(W_k x) with W_k x up to 60
// (the fixture's large-key rows), so the 1e-7 by which another product rounds x becomes ~6e-6
// in k and in the state's largest (1e26) elements; seen 1.1e-5. Its logits keep batch_vs_alone.
inline constexpr Tol rwkv2_state_batch_vs_alone{0, 5e-5};
// A model stored in bf16 / fp16 vs the same model in fp32: relative error in norm of the
// logits (`rel`; weights rounded to 8 / 11 significant bits).
inline constexpr Tol bf16_weights{0, 2e-2};
inline constexpr Tol fp16_weights{0, 3e-3};
inline constexpr Tol fp32_logits{1e-5, 1e-4};   // fp32 CPU vs fp64 reference, logits/state
// int8 weights (pip fp32i8, ops/mm8.h) vs the pip package's fp32i8 logits / state: relative error in
// norm per position (`rel`). The same dequantized weights, fp32 products summed in another order
// (the GEMV factors W' = (q + 0.5) rx ry + my + mx; the fixture README expects ~1e-6).
inline constexpr Tol pip_int8_logits{0, 1e-5};
// int8 weights vs the same model in fp32 (the quantization error itself, `rel` in norm; the pip
// fixtures measured 0.87-1.24 % for v4/v5/v6).
inline constexpr Tol int8_vs_fp32{0, 3e-2};
// q4 weights (ops/q4.h: 4 bits per weight, fp16 scale and offset per block of 32, x quantized to
// int8 per block in the products) vs the same model in fp32: relative error in norm of the logits
// (`rel`) on the L2-D128 fixture models (random-init weights, every weight 4-bit: seen 0.081 RWKV-7,
// 0.115 RWKV-4, 0.180 RWKV-5.2, 0.173 RWKV-6; int8 on the same models 0.006-0.012).
inline constexpr Tol q4_vs_fp32{0, 0.25};
// A q4 model's logits token by token vs all tokens in one call (`rel` in norm): the same kernel, but
// an ulp of difference in x (from the other ops' fp32 rounding) can move one element of a block's
// int8 rounding of x by a step (1/254 of the block's max); seen 1.8e-3 RWKV-6, 5.6e-7 RWKV-7, 0 RWKV-4/5.
inline constexpr Tol q4_modes{0, 1e-2};
inline constexpr Tol fp32_exact{0, 0};
// `rwkv eval lambada` of the eval fixture model (L2-D64, random-init weights) with int8 / q4 weights
// vs fp32, the first 200 documents: the mean over documents of |ll - ll_fp32| (`abs`, nats; seen
// 0.0137 int8 and 0.19-0.20 q4 over all 5,153 documents and the first 300) and the ppl's relative
// change (`rel`; seen 0.0060 int8, 0.049 q4 over all documents).
inline constexpr Tol eval_int8_vs_fp32{0.03, 0.03};
inline constexpr Tol eval_q4_vs_fp32{0.4, 0.15};
// `rwkv eval` (fp32 forward, double log-softmax) vs the official loop in float64 (fixtures
// eval/): each document's summed log-likelihood (`abs`; seen 4.9e-6 LAMBADA, 6.1e-5 on a
// 674-token perplexity document) and the ppl aggregate (`rel`; seen 1.6e-7). The bounds of the
// eval issue's acceptance.
inline constexpr Tol eval_doc_ll{1e-4, 0};
inline constexpr Tol eval_ppl{0, 1e-5};
// `rwkv eval choice` (row-invariant engine) vs sums of log-softmax over `rwkv forward`'s
// logits (default products): the same model, another summation order in the products.
inline constexpr Tol eval_vs_forward{1e-4, 0};
// RWKV-2's WKV state aa, bb per element vs the official fp64 run (`rel`): aa = Σ w^t k v with
// k = exp(W_k x) up to e^60 and v of either sign cancels to small sums of huge terms in some
// elements (seen 6.7e-5 there, with W_k x summed in double). Each state tensor's error in norm
// is held to 1e-5 (seen 7.7e-6).
inline constexpr Tol rwkv2_state_elem{0, 2e-4};
// A sum of up to 65536 probabilities in fp32 (the top-p cumsum, as the official code) vs fp64:
// the rounding of each add random-walks to ~1e-5 (`abs`).
inline constexpr Tol fp32_cumsum{1e-4, 0};
// Training trajectory of the demo run (acceptance 3 of the trainer issue), loss per step.
// The official bf16 run vs its own fp32 replay differs by 0.005/step on average and 0.0043 per
// 25-step window (fixtures README): the acceptance bounds are 0.01 and 0.015.
inline constexpr double train_traj_mean_abs = 0.01;   // mean |loss - official| per step
inline constexpr double train_traj_window = 0.015;    // |25-step window mean - official's|
// fp32 CPU vs the fp32 replay (same batches, same lr) over a short prefix: only summation
// order differs, amplified a little by each step.
inline constexpr double train_traj_fp32_step = 1e-4;  // max |loss - fp32 replay| per step (seen 5e-7, 6 steps)
inline constexpr double train_traj_fp32_gnorm = 1e-4; // max rel. |grad_norm - fp32 replay's| (seen 5e-7)
// Finite differences (eps 1e-3, fp32 forward, double loss) vs an op's analytic backward:
// per element abs + rel; `rel` is also the bound on the relative error in norm per tensor.
inline constexpr Tol fd_grad{2e-3, 1e-2};
// fp32 CPU gradients vs the fp64 reference: relative error in norm per tensor (`rel`).
inline constexpr Tol fp32_grads{0, 1e-4};
// Whole-model finite differences (eps 3e-3, fp32 forward) on a tiny random RWKV-7.
inline constexpr Tol fd_model{2e-4, 2e-2};
// Full BPTT over segments vs one forward/backward over the whole document (fp32, fixture
// model): relative error in norm per parameter tensor (`rel`), the infctx issue's acceptance.
inline constexpr Tol bptt_vs_whole{0, 1e-5};
// Init checks: Gram matrix of a bf16-stored orthogonal init vs gain^2 * I (`abs`, in units of
// gain^2; bf16 keeps 8 significant bits); moments of a uniform init vs the exact ones (`rel`).
inline constexpr Tol bf16_orthogonal{1e-2, 0};
inline constexpr Tol init_moments{0, 5e-2};
}  // namespace tol

// n values uniform in [lo, hi).
inline std::vector<float> rnd(size_t n, std::mt19937& g, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(g);
  return v;
}

// Max over elements of |got-ref| - (abs + rel*|ref|); <= 0 means within tolerance.
double tol_excess(const std::vector<float>& got, const std::vector<float>& ref, Tol t);
// ||got - ref|| / ||ref||  (relative error in norm).
double rel_norm_err(const std::vector<float>& got, const std::vector<float>& ref);

}  // namespace rwkv::test
