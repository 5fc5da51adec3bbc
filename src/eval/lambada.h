// lambada.h — LAMBADA: predict each document's last word. Two conventions, each reproducing its
// official loop (docs/eval.md):
//   Rwkv   (RWKV-LM rwkv_v7_demo.py): ctx = text up to the last space, tgt = " " + last word,
//          tokenized separately; input [0] + enc(ctx) + enc(tgt); ppl = exp(-Σ ll / documents).
//   LmEval (lm-evaluation-harness lambada_openai): trailing whitespace of ctx moves to the
//          target; cont = enc(ctx + tgt)[len(enc(ctx)):]; no prefix token (except for an empty
//          context: [0]); ppl = exp(-mean ll).
// acc = share of documents whose every target token is the argmax, both conventions.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "eval/scorer.h"
#include "tokenizer/tokenizer.h"

namespace rwkv {

enum class LambadaConvention { Rwkv, LmEval };

struct LambadaDoc {
  ScoreRequest req;          // context tokens then target tokens
  std::vector<int32_t> tgt;  // the target tokens (req.tokens[req.score_from..])
};

// One document's input. `where` ("file:line") names it in errors: a text without a space (no
// last word), an empty target.
LambadaDoc lambada_doc(const Tokenizer& tok, std::string_view text, LambadaConvention conv, const std::string& where);

struct EvalTotals {
  int64_t docs = 0, scored_tokens = 0, correct = 0;
  double sum_ll = 0;
  double ppl() const;  // exp(-sum_ll / docs)
  double acc() const;  // correct / docs
};
EvalTotals lambada_totals(std::span<const ScoreResult> res);

// The JSON lines `--json` writes: one per document {"doc", "n_ctx", "n_tgt", "ll", "correct",
// "tgt"} (the fixture's fields), then {"summary": {...}}. No timings: runs diff bit for bit.
std::string lambada_jsonl(std::span<const LambadaDoc> docs, std::span<const ScoreResult> res, LambadaConvention conv);

const char* convention_name(LambadaConvention c);

}  // namespace rwkv
