// choice.cpp — multiple-choice scoring with a shared context state (see eval/choice.h).
#include "eval/choice.h"

#include "core/error.h"
#include "ops/logprob.h"

namespace rwkv {

ChoiceResult score_choice(const Engine& engine, const ChoiceItem& item) {
  const int V = engine.vocab_size();
  const int nc = int(item.choices.size());
  RWKV_CHECK(nc >= 1 && !item.context.empty(), "score_choice: {} choices, {} context tokens", nc, item.context.size());
  StatePool pool = engine.make_pool(1 + nc);
  Workspace ws;
  // slot 0: the context; its last logits score every choice's first token
  const BatchEntry ctx{0, item.context, Logits::Last};
  engine.forward({&ctx, 1}, pool, ws);
  std::vector<float> first(ws.logits(0), ws.logits(0) + V);
  ChoiceResult r;
  r.ll.assign(size_t(nc), 0.0);
  std::vector<BatchEntry> batch;
  std::vector<int> of;  // choice of each entry
  for (int c = 0; c < nc; c++) {
    const std::vector<int32_t>& t = item.choices[size_t(c)];
    r.ll[size_t(c)] = token_logprob(first.data(), V, t[0]).logprob;
    if (t.size() < 2) continue;
    pool.copy(0, 1 + c);
    batch.push_back({1 + c, {t.data(), t.size() - 1}, Logits::All});
    of.push_back(c);
  }
  if (!batch.empty()) engine.forward(batch, pool, ws);
  for (size_t e = 0; e < batch.size(); e++) {
    const std::vector<int32_t>& t = item.choices[size_t(of[e])];
    for (size_t j = 1; j < t.size(); j++)
      r.ll[size_t(of[e])] += token_logprob(ws.logits(int(e)) + (j - 1) * V, V, t[j]).logprob;
  }
  for (int c = 1; c < nc; c++) {
    if (r.ll[size_t(c)] > r.ll[size_t(r.pred)]) r.pred = c;
    if (r.ll[size_t(c)] / double(item.choice_bytes[size_t(c)]) >
        r.ll[size_t(r.pred_norm)] / double(item.choice_bytes[size_t(r.pred_norm)]))
      r.pred_norm = c;
  }
  return r;
}

}  // namespace rwkv
