// scheduler.cpp — the continuous-batching loop (see scheduler.h).
#include "serve/scheduler.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>

#include "core/error.h"
#include "infer/decoder.h"
#include "ops/logprob.h"

namespace rwkv {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::Stop: return "stop";
    case FinishReason::Length: return "length";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::Error: return "error";
  }
  return "?";
}

namespace {
// The n most likely tokens of a row of logits, best first, with their log-probabilities
// (lse = log Σ exp(logits), known from one token's logprob).
void top_tokens(const float* l, int V, int n, double lse, std::vector<std::pair<int32_t, double>>& out) {
  out.clear();
  if (n <= 0) return;
  std::vector<int32_t> idx(static_cast<size_t>(V));
  for (int i = 0; i < V; i++) idx[size_t(i)] = i;
  n = std::min(n, V);
  std::partial_sort(idx.begin(), idx.begin() + n, idx.end(),
                    [&](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
  for (int i = 0; i < n; i++) out.emplace_back(idx[size_t(i)], double(l[idx[size_t(i)]]) - lse);
}
}  // namespace

struct Scheduler::Active {
  std::shared_ptr<GenJob> job;
  Rng rng;
  Decoder dec;
  size_t fed = 0;        // prompt tokens fed (or restored from the cache)
  int64_t cached = 0;    // prompt tokens restored from the cache
  std::vector<int32_t> gen_fed;   // generated tokens fed so far
  std::optional<FinishReason> ending;  // feeding `next` once more, then finishing (want_state)
  std::vector<float> last_logits;      // want_state: logits after the last fed token
  std::vector<TokenEvent> prompt_events;
  int32_t next = -1;     // the sampled token to feed next (decoding)
  Active(std::shared_ptr<GenJob> j, const Tokenizer& tok, int V)
      : job(std::move(j)), rng(job->seed), dec(job->cfg, tok, V, rng) {}
};

Scheduler::Scheduler(const Engine& engine, const Tokenizer& tok, const SchedulerOptions& opt)
    : engine_(engine), tok_(tok), opt_(opt), pool_(engine.make_pool(opt.slots)),
      cache_(opt.cache_bytes, std::max<int64_t>(1, opt.cache_interval)), active_(size_t(opt.slots)) {
  if (opt.slots < 1 || opt.max_queue < 0 || opt.chunk_len < 1)
    fail("serve", "slots must be >= 1, max_queue >= 0 and chunk_len >= 1 (got {}, {}, {})", opt.slots, opt.max_queue,
         opt.chunk_len);
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { shutdown(); }

bool Scheduler::submit(std::shared_ptr<GenJob> job) {
  RWKV_CHECK(job && !job->prompt.empty(), "a job needs a prompt");
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return false;
    const int free_slots = opt_.slots - busy_.load();
    if (int(queue_.size()) >= free_slots + opt_.max_queue) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void Scheduler::shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s;
  s.jobs = jobs_, s.prompt_tokens = prompt_tokens_, s.generated_tokens = generated_, s.steps = steps_;
  s.busy_slots = busy_, s.slots = opt_.slots;
  s.busy_seconds = double(busy_ns_.load()) * 1e-9;
  s.cache_hits = cache_.hits, s.cached_tokens = cache_.cached_tokens, s.cache_bytes = cache_.bytes,
  s.cache_entries = cache_.entries;
  std::lock_guard<std::mutex> l(mu_);
  s.queued = int(queue_.size());
  return s;
}

std::span<const float> Scheduler::slot_state(int slot) const {
  return {pool_.slot(slot), size_t(pool_.slot_floats())};
}

void Scheduler::finish(Active& a, int slot, FinishReason r, const std::string& error) {
  JobSummary s;
  s.reason = r;
  s.error = error;
  if (r != FinishReason::Cancelled && r != FinishReason::Error) s.tail = a.dec.finish();
  s.prompt_tokens = int64_t(a.job->prompt.size());
  s.cached_tokens = a.cached;
  s.prompt_events = std::move(a.prompt_events);
  if (r == FinishReason::Stop || r == FinishReason::Length) {
    const bool cache = cache_.enabled() && !a.job->start_state && a.fed == a.job->prompt.size();
    if (cache) {  // the conversation so far: the next turn starts here
      std::vector<int32_t> all = a.job->prompt;
      all.insert(all.end(), a.gen_fed.begin(), a.gen_fed.end());
      cache_.insert(all, slot_state(slot));
    }
    if (a.job->want_state) {
      s.state = pool_.snapshot(slot);
      s.logits = std::move(a.last_logits);
    }
  }
  s.completion_tokens = a.dec.generated();
  if (a.job->on_done) a.job->on_done(s);
  active_[size_t(slot)].reset();
  busy_--;
}

void Scheduler::loop() {
  const int V = engine_.vocab_size();
  std::vector<BatchEntry> batch;
  std::vector<int> slot_of;
  while (true) {
    {  // admit queued jobs into free slots; sleep when there is nothing to do
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stopping_ || !queue_.empty() || busy_ > 0; });
      if (stopping_) break;
      size_t qi = 0;  // the first queued job that may start
      for (int s = 0; s < opt_.slots && qi < queue_.size(); s++) {
        if (active_[size_t(s)]) continue;
        // A job whose prompt another job is prefilling right now waits for it: it then starts
        // from the cached state of that prompt (n > 1 choices, the same prompt sent twice).
        auto twin_prefilling = [&](const GenJob& q) {
          if (!cache_.enabled() || q.start_state || q.prompt_logprobs) return false;
          for (const auto& a : active_)
            if (a && !a->job->start_state && a->fed < a->job->prompt.size() && a->job->prompt == q.prompt) return true;
          return false;
        };
        while (qi < queue_.size() && !queue_[qi]->cancel && twin_prefilling(*queue_[qi])) qi++;
        if (qi == queue_.size()) break;
        std::shared_ptr<GenJob> j = std::move(queue_[qi]);
        queue_.erase(queue_.begin() + int64_t(qi));
        if (j->cancel) {  // gone before it started
          JobSummary sum;
          sum.reason = FinishReason::Cancelled;
          if (j->on_done) j->on_done(sum);
          continue;
        }
        try {
          active_[size_t(s)] = std::make_unique<Active>(j, tok_, V);
        } catch (const std::exception& e) {  // a config the decoder refuses: that job fails, not the server
          JobSummary sum;
          sum.reason = FinishReason::Error;
          sum.error = e.what();
          if (j->on_done) j->on_done(sum);
          continue;
        }
        Active& a = *active_[size_t(s)];
        if (a.job->start_state) {
          pool_.restore(s, *a.job->start_state);
        } else {
          pool_.zero(s);
          const std::vector<float>* st = nullptr;
          if (cache_.enabled() && !a.job->prompt_logprobs) {  // echo scores every prompt token: no shortcut
            const int64_t p = cache_.lookup(a.job->prompt, &st);
            if (p > 0) {
              pool_.restore(s, *st);
              a.fed = size_t(p);
              a.cached = p;
            }
          }
        }
        busy_++;
        jobs_++;
      }
    }
    batch.clear();
    slot_of.clear();
    for (int s = 0; s < opt_.slots; s++) {
      Active* a = active_[size_t(s)].get();
      if (!a) continue;
      if (a->job->cancel) {
        finish(*a, s, FinishReason::Cancelled);
        continue;
      }
      const std::vector<int32_t>& p = a->job->prompt;
      if (a->ending) {
        batch.push_back({s, {&a->next, 1}, Logits::Last});
      } else if (a->fed < p.size()) {
        const size_t n = size_t(next_chunk(*a));
        const Logits want = a->job->prompt_logprobs ? Logits::All : a->fed + n == p.size() ? Logits::Last : Logits::None;
        batch.push_back({s, {p.data() + a->fed, n}, want});
      } else {
        batch.push_back({s, {&a->next, 1}, Logits::Last});
      }
      slot_of.push_back(s);
    }
    if (batch.empty()) continue;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      engine_.forward(batch, pool_, ws_);
    } catch (const std::exception& e) {
      for (int s : slot_of) finish(*active_[size_t(s)], s, FinishReason::Error, e.what());
      continue;
    }
    busy_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    steps_++;
    for (size_t i = 0; i < batch.size(); i++) {
      const int s = slot_of[i];
      try {
        step_one(i, s, batch[i], V);
      } catch (const std::exception& e) {  // this job fails; the others go on
        if (active_[size_t(s)]) finish(*active_[size_t(s)], s, FinishReason::Error, e.what());
      }
    }
  }
  shutdown_all();
}

// Prompt tokens the job feeds in this step: up to chunk_len, stopping at the next point where
// the prefix cache keeps a state (every cache interval, one token before the end, the end).
int64_t Scheduler::next_chunk(const Active& a) const {
  const int64_t len = int64_t(a.job->prompt.size()), fed = int64_t(a.fed);
  int64_t n = std::min<int64_t>(len - fed, opt_.chunk_len);
  if (cache_.enabled() && !a.job->start_state) {
    const int64_t k = cache_.interval(), next_k = (fed / k + 1) * k;
    for (int64_t cp : {next_k, len - 1})
      if (cp > fed) n = std::min(n, cp - fed);
  }
  return std::max<int64_t>(n, 1);
}

void Scheduler::end(Active& a, int slot, FinishReason r, int32_t pending) {
  if (a.job->want_state && pending >= 0) {  // the state should hold every token: feed it first
    a.ending = r;
    a.next = pending;
    return;
  }
  finish(a, slot, r);
}

void Scheduler::step_one(size_t i, int s, const BatchEntry& entry, int V) {
  Active& a = *active_[size_t(s)];
  const float* logits = ws_.logits(int(i));
  const size_t len = a.job->prompt.size();
  if (a.ending) {  // the last token is in the state now
    a.gen_fed.push_back(a.next);
    a.last_logits.assign(logits, logits + V);
    return finish(a, s, *a.ending);
  }
  if (a.fed < len) {
    const size_t n = entry.tokens.size();
    if (a.job->prompt_logprobs)  // row j scores prompt token fed + j + 1
      for (size_t j = 0; j < n; j++) {
        const size_t pos = a.fed + j + 1;
        if (pos >= len) break;
        TokenEvent ev;
        ev.token = a.job->prompt[pos];
        ev.logprob = token_logprob(logits + j * size_t(V), V, ev.token).logprob;
        top_tokens(logits + j * size_t(V), V, a.job->top_logprobs,
                   double(logits[j * size_t(V) + size_t(ev.token)]) - ev.logprob, ev.top);
        a.prompt_events.push_back(std::move(ev));
      }
    a.fed += n;
    prompt_tokens_ += int64_t(n);
    const int64_t k = cache_.interval();
    if (cache_.enabled() && !a.job->start_state && (int64_t(a.fed) % k == 0 || a.fed + 1 == len || a.fed == len))
      cache_.insert(std::span<const int32_t>(a.job->prompt).first(a.fed), slot_state(s));
    if (a.fed < len) return;
    if (entry.logits == Logits::All) logits += (n - 1) * size_t(V);  // the last row samples
  } else {
    a.gen_fed.push_back(a.next);  // this step fed the token sampled before
  }
  if (a.job->want_state) a.last_logits.assign(logits, logits + V);
  if (a.dec.generated() >= a.job->cfg.max_tokens) return finish(a, s, FinishReason::Length);
  TokenEvent ev;
  ev.token = a.dec.sample(logits, a.job->logprobs ? &ev.logprob : nullptr);
  if (a.dec.is_stop_token(ev.token)) return finish(a, s, FinishReason::Stop);
  const int32_t tok = ev.token;
  if (a.job->top_logprobs > 0) top_tokens(logits, V, a.job->top_logprobs, double(logits[tok]) - ev.logprob, ev.top);
  ev.text = a.dec.accept(tok);
  generated_++;
  if (a.job->on_token) a.job->on_token(ev);
  if (a.dec.stopped()) end(a, s, FinishReason::Stop, tok);
  else if (a.dec.generated() >= a.job->cfg.max_tokens) end(a, s, FinishReason::Length, tok);
  else a.next = tok;
}

// Shutting down: every running and queued job ends as cancelled.
void Scheduler::shutdown_all() {
  for (int s = 0; s < opt_.slots; s++)
    if (active_[size_t(s)]) finish(*active_[size_t(s)], s, FinishReason::Cancelled);
  std::deque<std::shared_ptr<GenJob>> rest;
  {
    std::lock_guard<std::mutex> l(mu_);
    rest.swap(queue_);
  }
  for (auto& j : rest) {
    JobSummary sum;
    sum.reason = FinishReason::Cancelled;
    if (j->on_done) j->on_done(sum);
  }
}

}  // namespace rwkv
