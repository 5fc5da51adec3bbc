// cmd_forward.cpp — `rwkv forward --model M --tokens IN.safetensors --out OUT.safetensors`:
// runs int64 `tokens` (B, T) through the model from a fresh state, the B rows as one batch, and writes `logits` (B, T, V)
// fp32 and the final state per layer with a leading batch dim (x070: state.{i}.att_x (B, C),
// state.{i}.wkv (B, H, N, N), state.{i}.ffn_x (B, C)) — a tool for comparing implementations.
#include <cstring>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/infer_flags.h"
#include "io/model_file.h"

using namespace rwkv;

static int run(int argc, char** argv) {
  CLI::App app{"Run token batches through a model; write logits and final states (safetensors)."};
  cli::InferFlags f;
  std::string in, out;
  int chunk_len = 0;
  app.add_option("--model", f.model, "model file (.pth or .safetensors)")->required();
  app.add_option("--tokens", in, "safetensors file with an int64 tensor `tokens` (B, T)")->required();
  app.add_option("--out", out, "output safetensors file")->required();
  f.add_weights(app);
  app.add_option("--threads", f.threads, "CPU threads (default: all cores)");
  f.add_k_eps(app);
  app.add_option("--chunk_len", chunk_len, "feed each row in chunks of N tokens, state carried (0: all at once)");
  int code = 0;
  if (!cli::parse(app, argc, argv, &code)) return code;

  StateDict td = load_safetensors(in);
  const Tensor* tt = td.find("tokens");
  if (!tt) fail("forward", "{}: no tensor 'tokens'", in);
  if (tt->dim() != 2 && tt->dim() != 1)
    fail("forward", "{}: 'tokens' must be (B, T), got {}", in, shape_str(tt->shape));
  if (tt->dtype != DType::I64 && tt->dtype != DType::I32)
    fail("forward", "{}: 'tokens' must be int64 (or int32), got {}", in, dtype_name(tt->dtype));
  const int64_t B = tt->dim() == 2 ? tt->shape[0] : 1, T = tt->shape.back();
  if (B < 1 || T < 1) fail("forward", "{}: 'tokens' is empty {}", in, shape_str(tt->shape));
  if (chunk_len < 0) fail("forward", "--chunk_len must be >= 0, got {}", chunk_len);
  std::vector<float> tv = tt->to_f32_vec();  // exact for ids < 2^24
  std::vector<int32_t> ids(tv.begin(), tv.end());

  // The B rows run together: one slot each, every call feeds each row its next chunk.
  auto engine = f.load();
  const int64_t V = engine->vocab_size();
  StatePool pool = engine->make_pool(int(B));
  Workspace ws;
  StateDict res;
  Tensor logits = Tensor::empty(DType::F32, {B, T, V});
  res.items.emplace_back("logits", logits);
  const int64_t step = chunk_len > 0 ? chunk_len : T;
  std::vector<BatchEntry> batch(static_cast<size_t>(B));
  for (int64_t t0 = 0; t0 < T; t0 += step) {
    const int64_t n = std::min(step, T - t0);
    for (int64_t b = 0; b < B; b++) batch[b] = {int(b), {&ids[b * T + t0], size_t(n)}, Logits::All};
    engine->forward(batch, pool, ws);
    for (int64_t b = 0; b < B; b++)
      std::memcpy(logits.ptr<float>() + (b * T + t0) * V, ws.logits(int(b)), sizeof(float) * n * V);
  }
  for (const StatePart& p : pool.layout().parts) {  // (B, ...) per state tensor
    Shape s = p.shape;
    s.insert(s.begin(), B);
    Tensor t = Tensor::empty(DType::F32, s);
    for (int64_t b = 0; b < B; b++)
      std::memcpy(t.ptr<float>() + b * p.numel, pool.slot(int(b)) + p.offset, sizeof(float) * p.numel);
    res.items.emplace_back(p.name, t);
  }
  auto meta = model_identity(engine->config());
  save_safetensors(out, res, meta);
  return 0;
}

static cli::Command reg{"forward", "run token batches through a model, write logits and states", run};
