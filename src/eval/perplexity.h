// perplexity.h — per-token perplexity of documents: each document from the fresh state with
// the [0] prefix (unless no_prefix), every token of the document scored (teacher forcing).
// Optional ctx_len windows: the document's positions are cut into windows of ctx_len scored
// tokens, each run from the fresh state starting at the token before its first target.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "eval/scorer.h"

namespace rwkv {

struct PplDoc {
  std::vector<int32_t> tokens;  // the document's tokens (no prefix)
  int64_t n_bytes = 0;          // UTF-8 bytes of its text
};

// The requests of one document (one, or one per window); `where` names it in errors.
std::vector<ScoreRequest> ppl_requests(const PplDoc& d, bool prefix, int64_t ctx_len, const std::string& where);

struct PplTotals {
  int64_t docs = 0, tokens = 0, bytes = 0;
  double sum_logprob = 0;
  double mean_ce() const;         // -sum_logprob / tokens
  double ppl() const;             // exp(mean_ce)
  double bits_per_byte() const;   // -sum_logprob / ln 2 / bytes
};

// Per document {"doc", "n_tokens" (scored), "n_bytes", "sum_logprob"} then {"summary": {...}};
// per_doc: each document's windows merged (ll summed, n_scored added).
std::string ppl_jsonl(std::span<const PplDoc> docs, std::span<const ScoreResult> per_doc, const PplTotals& t);

}  // namespace rwkv
