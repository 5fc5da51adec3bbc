// scheduler.h — continuous batching for the server: generation jobs share the engine's state
// slots; one thread runs engine steps, each step feeding every active job either its next
// prompt chunk (at most chunk_len tokens) or its last sampled token, all in ONE engine call.
// New jobs join between steps; a cancelled job (client gone) leaves at the next step. The
// engine should be row-invariant (EngineOptions::row_invariant) so that a job's tokens do not
// depend on the others in its batch.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "infer/generate.h"
#include "serve/prefix_cache.h"
#include "tokenizer/tokenizer.h"

namespace rwkv {

enum class FinishReason { Stop, Length, Cancelled, Error };
const char* finish_reason_name(FinishReason r);  // "stop", "length", "cancelled", "error"

struct TokenEvent {
  int32_t token = 0;
  std::string text;  // the text that became safe to show with this token (may be empty)
  double logprob = 0;  // of the token under the model's plain softmax (GenJob::logprobs)
  std::vector<std::pair<int32_t, double>> top;  // the top_logprobs most likely tokens, best first
};

struct JobSummary {
  FinishReason reason = FinishReason::Stop;
  std::string tail;   // held-back text released at the end (emit it after the tokens)
  std::string error;  // for FinishReason::Error
  int64_t prompt_tokens = 0, completion_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens not fed: the job started from a cached prefix state
  // with GenJob::want_state: the state after every prompt and generated token, and the logits
  // after the last of them (what a state file holds)
  std::vector<float> state, logits;
  // with GenJob::prompt_logprobs: prompt tokens 1.. under the logits before each (no text)
  std::vector<TokenEvent> prompt_events;
};

// One generation. Callbacks run on the scheduler thread; on_done is called exactly once.
struct GenJob {
  std::vector<int32_t> prompt;  // >= 1 token
  GenerateConfig cfg;           // sampler, max_tokens, stop strings (validated by the caller)
  uint32_t seed = 0;
  bool logprobs = false;         // TokenEvent::logprob wanted (a log-softmax per token: off by default)
  int top_logprobs = 0;          // alternatives reported per token (TokenEvent::top); needs logprobs
  bool prompt_logprobs = false;  // score the prompt's own tokens (echo + logprobs)
  // Start from this state (a pool slot's floats) instead of the fresh one; the prefix cache is
  // not used then.
  std::shared_ptr<const std::vector<float>> start_state;
  bool want_state = false;  // return the final state (JobSummary::state); the last token is fed first
  std::function<void(const TokenEvent&)> on_token;
  std::function<void(const JobSummary&)> on_done;
  std::atomic<bool> cancel{false};  // set from any thread: the job ends at the next step
};

struct SchedulerOptions {
  int slots = 8;        // sequences in flight
  int max_queue = 64;   // jobs waiting for a slot; beyond it submit() refuses
  int chunk_len = 256;  // prompt tokens one job feeds per step
  size_t cache_bytes = 256u << 20;  // prefix-state cache budget (0: off)
  int64_t cache_interval = 256;     // a cached state every this many prompt tokens
};

struct SchedulerStats {
  int64_t jobs = 0, prompt_tokens = 0, generated_tokens = 0, steps = 0;
  int busy_slots = 0, queued = 0, slots = 0;
  int64_t cache_hits = 0, cached_tokens = 0, cache_bytes = 0, cache_entries = 0;
  double busy_seconds = 0;  // time spent in engine steps
};

class Scheduler {
 public:
  Scheduler(const Engine& engine, const Tokenizer& tok, const SchedulerOptions& opt);
  ~Scheduler();  // shutdown()
  // Queues a job; false (nothing queued) when every slot is busy and the queue is full, or
  // after shutdown.
  bool submit(std::shared_ptr<GenJob> job);
  // Stops accepting, cancels every queued and running job (their on_done runs), joins the thread.
  void shutdown();
  SchedulerStats stats() const;

 private:
  struct Active;
  void loop();
  void step_one(size_t entry, int slot, const BatchEntry& e, int V);  // after an engine step
  void shutdown_all();
  void finish(Active& a, int slot, FinishReason r, const std::string& error = "");
  void end(Active& a, int slot, FinishReason r, int32_t pending);  // finish, feeding `pending` first if wanted
  int64_t next_chunk(const Active& a) const;
  std::span<const float> slot_state(int slot) const;  // the slot's floats, in place
  const Engine& engine_;
  const Tokenizer& tok_;
  SchedulerOptions opt_;
  StatePool pool_;
  Workspace ws_;
  PrefixCache cache_;
  std::vector<std::unique_ptr<Active>> active_;  // per slot; null when free
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<GenJob>> queue_;
  bool stopping_ = false;
  std::atomic<int64_t> jobs_{0}, prompt_tokens_{0}, generated_{0}, steps_{0}, busy_ns_{0};
  std::atomic<int> busy_{0};
  std::thread thread_;
};

}  // namespace rwkv
