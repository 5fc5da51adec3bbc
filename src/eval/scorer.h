// scorer.h — teacher-forced log-likelihood of many documents through the engine: every eval
// task (lambada, ppl, choice) turns its data into ScoreRequests. Documents are batched (one
// state slot each, fed in chunks; several documents per engine call), each from the fresh
// state. The engine runs row-invariant (EngineOptions::row_invariant), so every number is the
// same at any batch size and thread count.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/engine.h"

namespace rwkv {

struct ScoreRequest {
  std::vector<int32_t> tokens;  // the whole input (>= 2 tokens)
  // tokens[score_from..] are scored, each under the logits after the tokens before it;
  // 1 <= score_from < tokens.size(). The last token is scored, never fed.
  int64_t score_from = 1;
};

struct ScoreResult {
  double ll = 0;        // Σ log p(tokens[i] | tokens[<i]) over the scored tokens, in order
  bool greedy = true;   // every scored token was its row's argmax
  int64_t n_scored = 0;
};

struct ScoreOptions {
  int batch = 32;              // documents in flight (state slots)
  int64_t chunk = 256;         // tokens one document feeds per engine call
  int64_t logit_rows = 256;    // logits rows per call (each V floats)
  // After every call: documents finished so far, tokens fed so far.
  std::function<void(int64_t docs_done, int64_t tokens_fed)> progress;
};

// Checks every request first ("[eval] request i: ..."), then scores them all; results in order.
std::vector<ScoreResult> score_requests(const Engine& engine, std::span<const ScoreRequest> reqs,
                                        const ScoreOptions& opt = {});

}  // namespace rwkv
