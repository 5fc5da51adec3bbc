// lambada.cpp — LAMBADA documents and totals (see eval/lambada.h).
#include "eval/lambada.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rwkv {

namespace {
// Python's str.isspace() for one ASCII byte (what str.rstrip() strips; LAMBADA has no other).
bool py_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }
}  // namespace

const char* convention_name(LambadaConvention c) { return c == LambadaConvention::Rwkv ? "rwkv" : "lm-eval"; }

LambadaDoc lambada_doc(const Tokenizer& tok, std::string_view text, LambadaConvention conv, const std::string& where) {
  const size_t sp = text.rfind(' ');
  if (sp == std::string_view::npos)
    fail("eval", "{}: the text has no space, so no last word to predict", where);
  std::string ctx(text.substr(0, sp)), tgt = " " + std::string(text.substr(sp + 1));
  LambadaDoc d;
  std::vector<int32_t>& in = d.req.tokens;
  if (conv == LambadaConvention::Rwkv) {
    in.push_back(0);
    for (int32_t t : tok.encode(ctx)) in.push_back(t);
    d.tgt = tok.encode(tgt);
  } else {
    size_t keep = ctx.size();
    while (keep > 0 && py_space(ctx[keep - 1])) keep--;
    tgt = ctx.substr(keep) + tgt;
    ctx.resize(keep);
    std::vector<int32_t> whole = tok.encode(ctx + tgt);
    in = tok.encode(ctx);
    if (in.empty()) in.push_back(0);  // lm-eval's prefix token for an empty context
    // cont = whole[len(ctx):] even where enc(ctx) is not a prefix of whole (as lm-eval cuts)
    const size_t n_ctx = ctx.empty() ? 0 : in.size();
    if (whole.size() > n_ctx) d.tgt.assign(whole.begin() + int64_t(n_ctx), whole.end());
  }
  if (d.tgt.empty()) fail("eval", "{}: the last word gives no target tokens", where);
  d.req.score_from = int64_t(in.size());
  in.insert(in.end(), d.tgt.begin(), d.tgt.end());
  return d;
}

double EvalTotals::ppl() const { return std::exp(-sum_ll / double(docs)); }
double EvalTotals::acc() const { return double(correct) / double(docs); }

EvalTotals lambada_totals(std::span<const ScoreResult> res) {
  EvalTotals t;
  for (const ScoreResult& r : res) {
    t.docs++;
    t.scored_tokens += r.n_scored;
    t.correct += r.greedy ? 1 : 0;
    t.sum_ll += r.ll;
  }
  return t;
}

std::string lambada_jsonl(std::span<const LambadaDoc> docs, std::span<const ScoreResult> res, LambadaConvention conv) {
  RWKV_CHECK(docs.size() == res.size(), "lambada_jsonl: {} docs, {} results", docs.size(), res.size());
  std::string out;
  for (size_t i = 0; i < docs.size(); i++) {
    nlohmann::ordered_json j;
    j["doc"] = i;
    j["n_ctx"] = docs[i].req.score_from;
    j["n_tgt"] = docs[i].tgt.size();
    j["ll"] = res[i].ll;
    j["correct"] = res[i].greedy;
    j["tgt"] = docs[i].tgt;
    out += j.dump() + "\n";
  }
  const EvalTotals t = lambada_totals(res);
  nlohmann::ordered_json s;
  s["task"] = "lambada";
  s["convention"] = convention_name(conv);
  s["n_docs"] = t.docs;
  s["n_tgt_tokens"] = t.scored_tokens;
  s["sum_ll"] = t.sum_ll;
  s["ppl"] = t.ppl();
  s["acc"] = t.acc();
  s["n_correct"] = t.correct;
  out += nlohmann::ordered_json{{"summary", s}}.dump() + "\n";
  return out;
}

}  // namespace rwkv
