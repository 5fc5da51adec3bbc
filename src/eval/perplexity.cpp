// perplexity.cpp — perplexity requests and totals (see eval/perplexity.h).
#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rwkv {

std::vector<ScoreRequest> ppl_requests(const PplDoc& d, bool prefix, int64_t ctx_len, const std::string& where) {
  std::vector<int32_t> in;
  if (prefix) in.push_back(0);
  in.insert(in.end(), d.tokens.begin(), d.tokens.end());
  const int64_t n = int64_t(in.size());
  if (n < 2)
    fail("eval", "{}: {} token(s): nothing to score{}", where, d.tokens.size(),
         prefix ? "" : " without the [0] prefix (needs 2)");
  if (ctx_len <= 0) return {ScoreRequest{std::move(in), 1}};
  std::vector<ScoreRequest> out;
  for (int64_t s = 1; s < n; s += ctx_len) {  // targets s .. e-1, fed from s-1
    const int64_t e = std::min(n, s + ctx_len);
    out.push_back({std::vector<int32_t>(in.begin() + (s - 1), in.begin() + e), 1});
  }
  return out;
}

double PplTotals::mean_ce() const { return -sum_logprob / double(tokens); }
double PplTotals::ppl() const { return std::exp(mean_ce()); }
double PplTotals::bits_per_byte() const { return -sum_logprob / std::numbers::ln2 / double(bytes); }

std::string ppl_jsonl(std::span<const PplDoc> docs, std::span<const ScoreResult> per_doc, const PplTotals& t) {
  std::string out;
  for (size_t i = 0; i < docs.size(); i++) {
    nlohmann::ordered_json j;
    j["doc"] = i;
    j["n_tokens"] = per_doc[i].n_scored;
    j["n_bytes"] = docs[i].n_bytes;
    j["sum_logprob"] = per_doc[i].ll;
    out += j.dump() + "\n";
  }
  nlohmann::ordered_json s;
  s["task"] = "ppl";
  s["n_docs"] = t.docs;
  s["n_tokens"] = t.tokens;
  s["n_bytes"] = t.bytes;
  s["sum_logprob"] = t.sum_logprob;
  s["mean_ce_per_token"] = t.mean_ce();
  s["ppl"] = t.ppl();
  s["bits_per_byte"] = t.bits_per_byte();
  out += nlohmann::ordered_json{{"summary", s}}.dump() + "\n";
  return out;
}

}  // namespace rwkv
