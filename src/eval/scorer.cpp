// scorer.cpp — the batched teacher-forcing loop (see eval/scorer.h). A document feeds tokens
// [0, n-1): positions before score_from-1 without logits, the rest with every row's logits
// (row p scores token p+1). Slots are refilled in request order as documents finish.
#include "eval/scorer.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ops/logprob.h"

namespace rwkv {

namespace {
struct Active {
  int64_t req = -1;  // request index, -1: slot free
  int64_t pos = 0;   // next position to feed
};
struct Fed {
  int slot;
  int64_t pos, n;
  bool scored;
};
}  // namespace

std::vector<ScoreResult> score_requests(const Engine& engine, std::span<const ScoreRequest> reqs,
                                        const ScoreOptions& opt) {
  const int V = engine.vocab_size();
  if (opt.batch < 1 || opt.chunk < 1 || opt.logit_rows < 1)
    fail("eval", "batch, chunk and logit rows must be >= 1 (got {}, {}, {})", opt.batch, opt.chunk, opt.logit_rows);
  for (size_t i = 0; i < reqs.size(); i++) {
    const ScoreRequest& r = reqs[i];
    const int64_t n = int64_t(r.tokens.size());
    if (n < 2 || r.score_from < 1 || r.score_from >= n)
      fail("eval", "request {}: {} tokens, scored from {}: needs >= 2 tokens and 1 <= score_from < tokens", i, n,
           r.score_from);
    for (int32_t t : r.tokens)
      if (t < 0 || t >= V) fail("eval", "request {}: token id {} is outside the model's vocabulary [0, {})", i, t, V);
  }
  std::vector<ScoreResult> res(reqs.size());
  const int B = int(std::min<size_t>(size_t(opt.batch), std::max<size_t>(reqs.size(), 1)));
  StatePool pool = engine.make_pool(B);
  Workspace ws;
  std::vector<Active> act(static_cast<size_t>(B));
  size_t next = 0;
  int64_t docs_done = 0, fed_total = 0;
  auto refill = [&](int s) {
    act[s] = {};
    if (next < reqs.size()) {
      act[s] = {int64_t(next++), 0};
      pool.zero(s);
    }
  };
  for (int s = 0; s < B; s++) refill(s);

  std::vector<BatchEntry> batch;
  std::vector<Fed> fed;
  std::vector<TokenLogProb> lp;
  std::vector<std::pair<int, int64_t>> rows;  // (entry, row within it) of every logits row
  while (true) {
    batch.clear();
    fed.clear();
    int64_t budget = opt.logit_rows;
    for (int s = 0; s < B; s++) {
      const Active& a = act[s];
      if (a.req < 0) continue;
      const ScoreRequest& r = reqs[size_t(a.req)];
      const int64_t end = int64_t(r.tokens.size()) - 1, b = r.score_from - 1;
      int64_t k;
      bool scored = a.pos >= b;
      if (!scored) k = std::min(opt.chunk, b - a.pos);
      else k = std::min({opt.chunk, end - a.pos, budget});
      if (k <= 0) continue;  // no logits budget left in this call
      if (scored) budget -= k;
      batch.push_back({s, {r.tokens.data() + a.pos, size_t(k)}, scored ? Logits::All : Logits::None});
      fed.push_back({s, a.pos, k, scored});
    }
    if (batch.empty()) break;
    engine.forward(batch, pool, ws);
    rows.clear();
    for (size_t e = 0; e < fed.size(); e++)
      if (fed[e].scored)
        for (int64_t t = 0; t < fed[e].n; t++) rows.emplace_back(int(e), t);
    lp.resize(rows.size());
#pragma omp parallel for schedule(static) if (rows.size() > 1)
    for (size_t i = 0; i < rows.size(); i++) {
      const auto [e, t] = rows[i];
      const Fed& f = fed[size_t(e)];
      const int32_t target = reqs[size_t(act[f.slot].req)].tokens[size_t(f.pos + t + 1)];
      lp[i] = token_logprob(ws.logits(e) + t * V, V, target);
    }
    for (size_t i = 0; i < rows.size(); i++) {  // in token order per document
      const int64_t req = act[fed[size_t(rows[i].first)].slot].req;
      if (!std::isfinite(lp[i].logprob))
        fail("eval", "request {}: the model's logits are not finite (NaN or inf) at position {}", req,
             fed[size_t(rows[i].first)].pos + rows[i].second);
      ScoreResult& r = res[size_t(req)];
      r.ll += lp[i].logprob;
      r.greedy = r.greedy && lp[i].is_argmax;
      r.n_scored++;
    }
    for (const Fed& f : fed) {
      Active& a = act[f.slot];
      a.pos += f.n;
      fed_total += f.n;
      if (a.pos == int64_t(reqs[size_t(a.req)].tokens.size()) - 1) {
        docs_done++;
        refill(f.slot);
      }
    }
    if (opt.progress) opt.progress(docs_done, fed_total);
  }
  return res;
}

}  // namespace rwkv
