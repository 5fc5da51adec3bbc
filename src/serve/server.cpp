// server.cpp — routes, streaming and errors of `rwkv serve` (see server.h). Each request's
// generations are scheduler jobs; a Channel carries their events from the scheduler thread to
// the HTTP thread, which writes them as one JSON reply or as SSE chunks.
#include "serve/server.h"

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "core/threads.h"
#include "engine/engine.h"
#include "engine/state_file.h"
#include "serve/scheduler.h"
#include "serve/web_page.h"
#include "serve/runs_view.h"
#include "tokenizer/tokenizer_for_model.h"

namespace rwkv {

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

using json = nlohmann::ordered_json;

// Events of one request's n jobs, from the scheduler thread to the HTTP thread.
struct Channel {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int, TokenEvent>> events;  // (choice, event)
  std::vector<std::optional<JobSummary>> done;
  std::vector<std::shared_ptr<GenJob>> jobs;
  explicit Channel(int n) : done(size_t(n)) {}
  bool all_done() const {
    for (auto& d : done)
      if (!d) return false;
    return true;
  }
  void cancel() {
    for (auto& j : jobs) j->cancel = true;
  }
};

int64_t now_s() { return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string new_id(const char* prefix) {
  static std::atomic<uint64_t> n{0};
  return fmt::format("{}-{:x}{:06x}", prefix, now_s(), ++n);
}

// Compact JSON text; bytes that are not UTF-8 (a model may emit them) become U+FFFD.
std::string text_of(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A request body as JSON, or 400.
nlohmann::json parse_body(const std::string& body) {
  try {
    return nlohmann::json::parse(body);
  } catch (const std::exception& e) {
    throw ApiError(400, "", std::string("the request body is not valid JSON: ") + e.what());
  }
}

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(error_json(e), "application/json");
}

struct Server {
  ServeOptions opt;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Tokenizer> tok;
  std::unique_ptr<Scheduler> sched;
  std::string model_id;
  int64_t created = now_s();
  std::atomic<int64_t> requests{0}, errors{0};
  // the state API's states: id -> (slot floats, logits after the last token)
  struct Stored {
    std::shared_ptr<const std::vector<float>> state;
    std::vector<float> logits;
    int64_t tokens = 0;
  };
  mutable std::mutex states_mu;
  std::map<std::string, Stored> states;

  std::string put_state(Stored st, std::string id = "") {
    if (id.empty()) id = new_id("state");
    std::lock_guard<std::mutex> l(states_mu);
    states[id] = std::move(st);
    return id;
  }
  Stored get_state(const std::string& id, const char* param) {
    std::lock_guard<std::mutex> l(states_mu);
    auto it = states.find(id);
    if (it == states.end()) throw ApiError(404, param, "no state with id '" + id + "'", "state_not_found");
    return it->second;
  }
  // A state file's bytes (the format `rwkv chat /save` writes) for a stored state.
  std::string state_file_bytes(const Stored& st) {
    StatePool pool = engine->make_pool(1);
    pool.restore(0, *st.state);
    const std::string tmp = fmt::format("{}/rwkv-serve-{}-{}.state", std::filesystem::temp_directory_path().string(),
                                        getpid(), new_id("dl"));
    save_state_file(tmp, engine->config(), pool, 0, st.logits.empty() ? nullptr : &st.logits);
    std::string bytes;
    {
      std::ifstream f(tmp, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(f), {});
    }
    std::filesystem::remove(tmp);
    return bytes;
  }
  // A stored state from a state file's bytes ("[state] ..." errors become 400).
  Stored state_from_bytes(const std::string& body) {
    const std::string tmp = fmt::format("{}/rwkv-serve-{}-{}.state", std::filesystem::temp_directory_path().string(),
                                        getpid(), new_id("up"));
    { std::ofstream(tmp, std::ios::binary) << body; }
    Stored st;
    try {
      StatePool pool = engine->make_pool(1);
      load_state_file(tmp, engine->config(), pool, 0, &st.logits);
      st.state = std::make_shared<const std::vector<float>>(pool.snapshot(0));
    } catch (const std::exception& e) {
      std::filesystem::remove(tmp);
      throw ApiError(400, "", std::string("not a state file of this model: ") + e.what());
    }
    std::filesystem::remove(tmp);
    return st;
  }

  json logprobs_json(const std::vector<TokenEvent>& evs, bool chat) const {
    if (chat) {
      json content = json::array();
      for (const TokenEvent& e : evs) {
        const std::string t = tok->decode(&e.token, 1);
        json top = json::array();
        for (auto& [id, lp] : e.top) top.push_back({{"token", tok->decode(&id, 1)}, {"logprob", lp}});
        content.push_back({{"token", t}, {"logprob", e.logprob}, {"bytes", std::vector<uint8_t>(t.begin(), t.end())},
                           {"top_logprobs", top}});
      }
      return {{"content", content}};
    }
    json tokens = json::array(), lps = json::array(), tops = json::array(), offs = json::array();
    size_t off = 0;
    for (const TokenEvent& e : evs) {
      const std::string t = tok->decode(&e.token, 1);
      tokens.push_back(t);
      lps.push_back(e.logprob);
      json top = json::object();
      for (auto& [id, lp] : e.top) top[tok->decode(&id, 1)] = lp;
      tops.push_back(top);
      offs.push_back(off);
      off += t.size();
    }
    return {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
  }

  static json usage_json(int64_t prompt, int64_t completion, int64_t cached) {
    return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion},
            {"prompt_tokens_details", {{"cached_tokens", cached}}}};
  }
  // The state API entry for a finished generation's state (GenJob::want_state); its id.
  std::string keep_state(const JobSummary& s) {
    return put_state({std::make_shared<const std::vector<float>>(s.state), s.logits, s.prompt_tokens + s.completion_tokens});
  }

  // A completion request's body (parsed JSON) -> the reply in `res` (JSON, or an SSE stream).
  void completion(const nlohmann::json& body, httplib::Response& res, bool chat) {
    requests++;
    CompletionRequest r = parse_completion_request(body, chat, *tok, engine->vocab_size(), opt.chat);
    if (!r.model.empty() && r.model != model_id)
      throw ApiError(404, "model", "the model '" + r.model + "' does not exist; this server has '" + model_id + "'",
                     "model_not_found");
    if (r.logprobs >= 0 && r.stream && r.echo) throw ApiError(400, "echo", "'echo' with 'stream' is not supported");
    const bool include_usage = r.include_usage, save_state = r.save_state;
    std::shared_ptr<const std::vector<float>> start;
    if (!r.state.empty()) start = get_state(r.state, "state").state;
    auto ch = std::make_shared<Channel>(r.n);
    const uint32_t seed = r.seed ? *r.seed : std::random_device{}();
    for (int i = 0; i < r.n; i++) {
      auto j = std::make_shared<GenJob>();
      j->prompt = r.prompt;
      j->cfg = r.cfg;
      j->seed = seed + uint32_t(i);
      j->logprobs = r.logprobs >= 0;
      j->top_logprobs = std::max(r.logprobs, 0);
      j->prompt_logprobs = r.echo && r.logprobs >= 0;
      j->start_state = start;
      j->want_state = save_state;
      std::weak_ptr<Channel> w = ch;
      j->on_token = [w, i](const TokenEvent& e) {
        if (auto c = w.lock()) {
          std::lock_guard<std::mutex> l(c->mu);
          c->events.emplace_back(i, e);
          c->cv.notify_all();
        }
      };
      j->on_done = [w, i](const JobSummary& s) {
        if (auto c = w.lock()) {
          std::lock_guard<std::mutex> l(c->mu);
          c->done[size_t(i)] = s;
          c->cv.notify_all();
        }
      };
      ch->jobs.push_back(j);
    }
    for (auto& j : ch->jobs)
      if (!sched->submit(j)) {
        ch->cancel();
        res.set_header("Retry-After", "1");
        throw ApiError(503, "", "the server is busy (every slot and the queue are full); retry later", "server_busy",
                       "server_error");
      }
    const std::string id = new_id(chat ? "chatcmpl" : "cmpl");
    const std::string prompt_text = r.echo ? tok->decode(r.prompt) : "";
    if (!r.stream) {
      std::vector<std::string> text(size_t(r.n), prompt_text);
      std::vector<std::vector<TokenEvent>> evs(size_t(r.n));
      std::unique_lock<std::mutex> l(ch->mu);
      while (true) {
        ch->cv.wait(l, [&] { return !ch->events.empty() || ch->all_done(); });
        while (!ch->events.empty()) {
          auto [i, e] = std::move(ch->events.front());
          ch->events.pop_front();
          text[size_t(i)] += e.text;
          evs[size_t(i)].push_back(std::move(e));
        }
        if (ch->all_done()) break;
      }
      json choices = json::array();
      int64_t completion = 0, prompt_tokens = int64_t(r.prompt.size()), cached = 0;
      for (int i = 0; i < r.n; i++) {
        const JobSummary& s = *ch->done[size_t(i)];
        if (s.reason == FinishReason::Error) throw ApiError(500, "", "generation failed: " + s.error, "", "server_error");
        text[size_t(i)] += s.tail;
        completion += s.completion_tokens;
        cached = std::max(cached, s.cached_tokens);
        json c = {{"index", i}};
        if (save_state) c["state_id"] = keep_state(s);
        if (chat) c["message"] = {{"role", "assistant"}, {"content", text[size_t(i)]}};
        else c["text"] = text[size_t(i)];
        if (r.logprobs >= 0) {
          std::vector<TokenEvent> all;
          if (r.echo) {  // the first prompt token has no logprob (null), as OpenAI's echo
            TokenEvent first;
            first.token = r.prompt[0];
            all.push_back(first);
            all.insert(all.end(), s.prompt_events.begin(), s.prompt_events.end());
          }
          all.insert(all.end(), evs[size_t(i)].begin(), evs[size_t(i)].end());
          json lp = logprobs_json(all, chat);
          if (r.echo) {
            lp["token_logprobs"][0] = nullptr;
            lp["top_logprobs"][0] = nullptr;
          }
          c["logprobs"] = lp;
        } else {
          c["logprobs"] = nullptr;
        }
        c["finish_reason"] = s.reason == FinishReason::Length ? "length" : "stop";
        choices.push_back(c);
      }
      json out = {{"id", id}, {"object", chat ? "chat.completion" : "text_completion"}, {"created", now_s()},
                  {"model", model_id}, {"choices", choices}, {"usage", usage_json(prompt_tokens, completion, cached)}};
      res.set_content(text_of(out), "application/json");
      return;
    }
    // streaming: SSE "data: {...}\n\n" chunks, then "data: [DONE]\n\n"
    const int n = r.n;
    const int64_t prompt_tokens = int64_t(r.prompt.size());
    const bool want_lp = r.logprobs >= 0;
    auto chunk = [id, chat, this](int i, const std::string& text, const json& finish, const json& lp, bool role,
                                  const std::string& state_id = "") {
      json c = {{"index", i}};
      if (chat) {
        json delta = json::object();
        if (role) delta["role"] = "assistant";
        if (!text.empty() || !role) delta["content"] = text;
        c["delta"] = delta;
      } else {
        c["text"] = text;
      }
      c["logprobs"] = lp;
      c["finish_reason"] = finish;
      if (!state_id.empty()) c["state_id"] = state_id;  // the finish chunk names the saved state
      json o = {{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", now_s()},
                {"model", model_id}, {"choices", json::array({c})}};
      return "data: " + text_of(o) + "\n\n";
    };
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, ch, chunk, n, chat, want_lp, include_usage, prompt_tokens, save_state](size_t, httplib::DataSink& sink) {
          std::vector<bool> sent_role(size_t(n), false), finished(size_t(n), false);
          int64_t completion = 0, cached = 0;
          auto write = [&](const std::string& s) {
            if (!sink.write(s.data(), s.size())) throw std::runtime_error("client gone");
          };
          try {
            if (chat)
              for (int i = 0; i < n; i++) write(chunk(i, "", nullptr, nullptr, true)), sent_role[size_t(i)] = true;
            std::unique_lock<std::mutex> l(ch->mu);
            while (true) {
              ch->cv.wait(l, [&] { return !ch->events.empty() || ch->all_done(); });
              std::deque<std::pair<int, TokenEvent>> evs;
              evs.swap(ch->events);
              std::vector<std::optional<JobSummary>> done = ch->done;
              l.unlock();
              for (auto& [i, e] : evs) {
                if (e.text.empty() && !want_lp) continue;
                json lp = want_lp ? logprobs_json({e}, chat) : json(nullptr);
                write(chunk(i, e.text, nullptr, lp, false));
              }
              for (int i = 0; i < n; i++) {
                if (!done[size_t(i)] || finished[size_t(i)]) continue;
                const JobSummary& s = *done[size_t(i)];
                // events already queued before on_done were drained above (same lock)
                if (s.reason == FinishReason::Error) {
                  ApiError e(500, "", "generation failed: " + s.error, "", "server_error");
                  write("data: " + error_json(e) + "\n\n");
                }
                if (!s.tail.empty()) write(chunk(i, s.tail, nullptr, nullptr, false));
                write(chunk(i, "", s.reason == FinishReason::Length ? "length" : "stop", nullptr, false,
                            save_state ? keep_state(s) : ""));
                finished[size_t(i)] = true;
                completion += s.completion_tokens;
                cached = std::max(cached, s.cached_tokens);
              }
              // every choice's finish chunk written: done (a choice that finished after the copy
              // above is handled in the next round, which does not wait: all_done() holds)
              if (std::all_of(finished.begin(), finished.end(), [](bool f) { return f; })) break;
              l.lock();
            }
            if (include_usage) {
              json u = {{"id", "usage"}, {"object", chat ? "chat.completion.chunk" : "text_completion"},
                        {"created", now_s()}, {"model", model_id}, {"choices", json::array()},
                        {"usage", usage_json(prompt_tokens, completion, cached)}};
              write("data: " + text_of(u) + "\n\n");
            }
            write("data: [DONE]\n\n");
            sink.done();
          } catch (const std::exception&) {
            ch->cancel();  // the client went away: the jobs end at the next step
            return false;
          }
          return true;
        },
        [ch](bool) { ch->cancel(); });
  }

  std::string metrics() const {
    const SchedulerStats s = sched->stats();
    std::string o;
    auto m = [&](const char* name, const char* type, const char* help, double v) {
      o += fmt::format("# HELP rwkv_{} {}\n# TYPE rwkv_{} {}\nrwkv_{} {}\n", name, help, name, type, name, v);
    };
    m("requests_total", "counter", "HTTP requests to the completion routes", double(requests.load()));
    m("request_errors_total", "counter", "requests answered with an error status", double(errors.load()));
    m("jobs_total", "counter", "generations started", double(s.jobs));
    m("prompt_tokens_total", "counter", "prompt tokens fed", double(s.prompt_tokens));
    m("generated_tokens_total", "counter", "tokens generated", double(s.generated_tokens));
    m("engine_steps_total", "counter", "engine calls of the scheduler", double(s.steps));
    m("engine_busy_seconds_total", "counter", "seconds spent in engine calls", s.busy_seconds);
    m("tokens_per_second", "gauge", "prompt and generated tokens per busy second",
      s.busy_seconds > 0 ? double(s.prompt_tokens + s.generated_tokens) / s.busy_seconds : 0.0);
    m("slots", "gauge", "state slots", double(s.slots));
    m("slots_busy", "gauge", "slots running a generation", double(s.busy_slots));
    m("queue_length", "gauge", "generations waiting for a slot", double(s.queued));
    m("cache_hits_total", "counter", "generations that started from a cached prefix state", double(s.cache_hits));
    m("cache_bytes", "gauge", "bytes held by the prefix-state cache", double(s.cache_bytes));
    m("cache_entries", "gauge", "states held by the prefix-state cache", double(s.cache_entries));
    m("cached_tokens_total", "counter", "prompt tokens served from the cache", double(s.cached_tokens));
    {
      std::lock_guard<std::mutex> l(states_mu);
      m("states", "gauge", "states held by the state API", double(states.size()));
    }
    return o;
  }
};

}  // namespace

int run_server(const ServeOptions& opt, const std::function<void(int)>& on_listening) {
  if (opt.port < 0 || opt.port > 65535) fail("serve", "--port must be in [0, 65535], got {}", opt.port);
  if (opt.slots < 1 || opt.slots > 1024) fail("serve", "--slots must be in [1, 1024], got {}", opt.slots);
  Server S;
  S.opt = opt;
  if (opt.threads > 0) set_num_threads(opt.threads);
  EngineOptions eo = opt.engine;
  eo.row_invariant = true;  // a request's tokens do not depend on the others in its batch
  S.engine = Engine::load(opt.model, eo);
  S.tok = make_tokenizer_for_model(opt.tokenizer, S.engine->vocab_size());
  S.model_id = std::filesystem::path(opt.model).stem().string();
  SchedulerOptions so;
  so.cache_bytes = opt.cache_mb << 20;
  so.slots = opt.slots;
  so.max_queue = opt.max_queue;
  so.chunk_len = opt.chunk_len;
  S.sched = std::make_unique<Scheduler>(*S.engine, *S.tok, so);

  httplib::Server svr;
  const int http_threads = opt.http_threads;
  svr.new_task_queue = [http_threads] { return new httplib::ThreadPool(size_t(http_threads)); };
  svr.set_payload_max_length(opt.max_body);
  svr.set_read_timeout(30, 0);
  svr.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    if (!opt.api_key.empty() && req.path.rfind("/v1", 0) == 0 &&
        req.get_header_value("Authorization") != "Bearer " + opt.api_key) {
      send_error(res, ApiError(401, "", "missing or wrong API key (Authorization: Bearer <key>)", "invalid_api_key"));
      S.errors++;
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_error_handler([&](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    S.errors++;
    const char* msg = res.status == 404 ? "no such route" : res.status == 413 ? "the request body is too large"
                                                                             : "bad request";
    res.set_content(error_json(ApiError(res.status, "", msg)), "application/json");
  });
  svr.set_exception_handler([&](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    S.errors++;
    try {
      std::rethrow_exception(ep);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const std::exception& e) {
      send_error(res, ApiError(500, "", e.what(), "", "server_error"));
    }
  });
  auto completion = [&](bool chat) {
    return [&S, chat](const httplib::Request& req, httplib::Response& res) {
      try {
        S.completion(parse_body(req.body), res, chat);
      } catch (const ApiError& e) {
        S.errors++;
        send_error(res, e);
      }
    };
  };
  svr.Post("/v1/completions", completion(false));
  svr.Post("/v1/chat/completions", completion(true));
  svr.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) {
    json m = {{"object", "list"},
              {"data", json::array({{{"id", S.model_id}, {"object", "model"}, {"created", S.created}, {"owned_by", "rwkv"}}})}};
    res.set_content(text_of(m), "application/json");
  });
  // ---- the state API ----
  svr.Post("/v1/states", [&](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json body = parse_body(req.body);
    if (!body.is_object()) throw ApiError(400, "", "the request body must be a JSON object");
    const bool chat = body.contains("messages");
    body["max_tokens"] = 0;
    body["save_state"] = true;
    body.erase("stream");
    httplib::Response r2;  // the completion's reply: its state id and token counts
    S.completion(body, r2, chat);
    json out = json::parse(r2.body);
    const std::string id = out["choices"][0]["state_id"];
    json o = {{"id", id}, {"object", "state"}, {"tokens", out["usage"]["prompt_tokens"]},
              {"cached_tokens", out["usage"]["prompt_tokens_details"]["cached_tokens"]}};
    res.set_content(o.dump(), "application/json");
  });
  svr.Get(R"(/v1/states/([A-Za-z0-9_.-]+))", [&](const httplib::Request& req, httplib::Response& res) {
    auto st = S.get_state(req.matches[1], "id");
    res.set_header("Content-Disposition", "attachment; filename=\"" + std::string(req.matches[1]) + ".state\"");
    res.set_content(S.state_file_bytes(st), "application/octet-stream");
  });
  svr.Put(R"(/v1/states/([A-Za-z0-9_.-]+))", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string id = S.put_state(S.state_from_bytes(req.body), req.matches[1]);
    res.status = 201;
    res.set_content(json{{"id", id}, {"object", "state"}}.dump(), "application/json");
  });
  svr.Delete(R"(/v1/states/([A-Za-z0-9_.-]+))", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> l(S.states_mu);
    if (!S.states.erase(req.matches[1]))
      throw ApiError(404, "id", "no state with id '" + std::string(req.matches[1]) + "'", "state_not_found");
    res.set_content(json{{"id", std::string(req.matches[1])}, {"object", "state"}, {"deleted", true}}.dump(),
                    "application/json");
  });
  static bool stopping = false;
  stopping = false;
  if (!opt.runs.empty()) {
    if (!std::filesystem::is_directory(opt.runs)) fail("serve", "--runs {}: not a folder", opt.runs);
    add_runs_routes(svr, opt.runs, &stopping);
  }
  svr.Get("/", [&](const httplib::Request&, httplib::Response& res) { res.set_content(kChatPageHtml, "text/html; charset=utf-8"); });
  svr.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
    const SchedulerStats s = S.sched->stats();
    json h = {{"status", "ok"}, {"slots", s.slots}, {"slots_busy", s.busy_slots}, {"queue_length", s.queued}};
    res.set_content(text_of(h), "application/json");
  });
  svr.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(S.metrics(), "text/plain; version=0.0.4");
  });

  int port = opt.port;
  if (port == 0) port = svr.bind_to_any_port(opt.host.c_str());
  else if (!svr.bind_to_port(opt.host.c_str(), port)) port = -1;
  if (port <= 0) fail("serve", "cannot listen on {}:{} (in use, or not an address of this machine)", opt.host, opt.port);
  g_stop = false;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  std::thread watcher([&] {
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    S.sched->shutdown();  // in-flight generations end (cancelled), so their handlers return
    stopping = true;      // and the runs' metric streams
    svr.stop();
  });
  if (on_listening) on_listening(port);
  svr.listen_after_bind();
  g_stop = true;
  watcher.join();
  S.sched->shutdown();
  return 0;
}

}  // namespace rwkv
