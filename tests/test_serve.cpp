// test_serve.cpp — `rwkv serve` started for real on a free loopback port (the eval fixture's
// World-vocabulary model) and driven by real clients: the official `openai` npm client
// (tests/browser/serve_client.mjs), curl for the SSE framing byte for byte, and cpp-httplib for
// concurrency (batching is invisible), disconnects, a full server (503), bad input of every
// kind (4xx with OpenAI's error JSON, the server stays healthy with every slot free), the API
// key, and SIGTERM.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace rwkv::test;
using json = nlohmann::json;

namespace {

std::string model() { return fixture("eval/model.pth"); }

// `rwkv serve --port 0 ARGS` in a child process; the port is read from its first stdout line.
class ServerProc {
 public:
  explicit ServerProc(const std::string& args = "") {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      std::string cmd = std::string("exec ") + RWKV_BIN + " serve --model " + model() + " --port 0 --threads 2 " + args;
      execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      _exit(127);
    }
    close(fds[1]);
    std::string line;
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    close(fds[0]);
    const size_t colon = line.rfind(':');
    port_ = colon == std::string::npos ? 0 : std::atoi(line.c_str() + colon + 1);
    EXPECT_GT(port_, 0) << "server did not start: '" << line << "'";
  }
  ~ServerProc() { stop(); }
  int stop() {  // SIGTERM; the exit status
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return status_;
  }
  int port() const { return port_; }
  int64_t rss_kb() const {  // the server's resident memory (VmRSS)
    std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(f, line))
      if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
    return -1;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0, status_ = -1;
};

json post(httplib::Client& c, const std::string& path, const json& body, int* status = nullptr) {
  auto r = c.Post(path.c_str(), body.dump(), "application/json");
  if (!r) return json{{"transport_error", httplib::to_string(r.error())}};
  if (status) *status = r->status;
  return json::parse(r->body, nullptr, false);
}

// slots_busy from /metrics
int busy_slots(httplib::Client& c) {
  auto r = c.Get("/metrics");
  if (!r) return -1;
  const std::string key = "\nrwkv_slots_busy ";
  const size_t p = r->body.find(key);
  return p == std::string::npos ? -1 : std::atoi(r->body.c_str() + p + key.size());
}

bool wait_idle(httplib::Client& c) {
  for (int i = 0; i < 100; i++) {
    if (busy_slots(c) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

// The official openai npm client: chat (stream and not), completions echo + logprobs, n = 2,
// stop strings, errors. Setup installs it (tests/browser/package-lock.json).
TEST(Serve, OfficialOpenAIClient) {
  const std::string dir = std::string(RWKV_SOURCE_DIR) + "/tests/browser";
  if (!std::filesystem::exists(dir + "/node_modules/openai/package.json"))
    GTEST_SKIP() << "npm packages not installed (scripts/setup.sh runs npm ci in tests/browser)";
  ServerProc s;
  const std::string cmd = "node " + dir + "/serve_client.mjs " + s.url() + " model 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int st = pclose(p);
  EXPECT_EQ(WEXITSTATUS(st), 0) << out;
  EXPECT_NE(out.find("serve_client: OK"), std::string::npos) << out;
  std::printf("%s", out.c_str());
  auto c = s.client();
  EXPECT_TRUE(wait_idle(c));
  EXPECT_EQ(s.stop(), 0);
}

// curl reads the stream: "data: {json}\n\n" events, nothing else, "data: [DONE]\n\n" last; the
// pieces concatenate to the non-stream text; finish_reason only in the last chunk.
TEST(Serve, SseFramingByteForByte) {
  ServerProc s;
  auto c = s.client();
  const json body = {{"prompt", "The quick brown"}, {"max_tokens", 10}, {"temperature", 0}};
  const json plain = post(c, "/v1/completions", body);
  ASSERT_TRUE(plain.contains("choices")) << plain.dump();
  json sb = body;
  sb["stream"] = true;
  TempDir d;
  { std::ofstream(d / "b.json") << sb.dump(); }
  FILE* p = popen(("curl -sN -H 'Content-Type: application/json' --data @" + (d / "b.json") + " " + s.url() +
                   "/v1/completions").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string raw;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) raw.append(buf, n);
  pclose(p);
  ASSERT_GE(raw.size(), 20u);
  const std::string done = "data: [DONE]\n\n";
  ASSERT_EQ(raw.substr(raw.size() - done.size()), done) << raw;
  std::string text, rebuilt;
  int events = 0, finishes = 0;
  for (size_t at = 0; at < raw.size() - done.size();) {
    ASSERT_EQ(raw.compare(at, 6, "data: "), 0) << "event at byte " << at << ": " << raw.substr(at, 40);
    const size_t end = raw.find("\n\n", at);
    ASSERT_NE(end, std::string::npos);
    const std::string payload = raw.substr(at + 6, end - at - 6);
    ASSERT_EQ(payload.find('\n'), std::string::npos);
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(payload);
    rebuilt += "data: " + j.dump() + "\n\n";  // compact JSON, one line per event
    EXPECT_EQ(j["object"], "text_completion");
    text += j["choices"][0]["text"].get<std::string>();
    if (!j["choices"][0]["finish_reason"].is_null()) finishes++;
    events++;
    at = end + 2;
  }
  EXPECT_EQ(rebuilt + done, raw);
  EXPECT_EQ(text, plain["choices"][0]["text"].get<std::string>());
  EXPECT_EQ(finishes, 1);
  EXPECT_GE(events, 2);
}

// 16 greedy requests at once give exactly the text each gives alone.
TEST(Serve, BatchingIsInvisible) {
  ServerProc s("--slots 16");
  auto c = s.client();
  const int N = 16;
  std::vector<std::string> alone(N), together(N);
  auto body = [](int i) {
    return json{{"prompt", "Story " + std::to_string(i) + ": the old man said"}, {"max_tokens", 16}, {"temperature", 0}};
  };
  for (int i = 0; i < N; i++) {
    json r = post(c, "/v1/completions", body(i));
    ASSERT_TRUE(r.contains("choices")) << r.dump();
    alone[size_t(i)] = r["choices"][0]["text"];
  }
  std::vector<std::thread> th;
  for (int i = 0; i < N; i++)
    th.emplace_back([&, i] {
      auto cc = s.client();
      json r = post(cc, "/v1/completions", body(i));
      together[size_t(i)] = r.contains("choices") ? r["choices"][0]["text"].get<std::string>() : r.dump();
    });
  for (auto& t : th) t.join();
  for (int i = 0; i < N; i++) EXPECT_EQ(together[size_t(i)], alone[size_t(i)]) << "request " << i;
  EXPECT_TRUE(wait_idle(c));
}

// A client that leaves mid-stream frees its slot; a full server answers 503 with Retry-After.
TEST(Serve, DisconnectFreesSlotAndFullServerIs503) {
  ServerProc s("--slots 1 --queue 0");
  auto c = s.client();
  std::atomic<int> chunks{0};
  std::atomic<bool> sent{false};
  std::thread streamer([&] {
    auto cc = s.client();
    // token 0 would end the completion (maybe within 5 chunks): biased away
    json b = {{"prompt", "Once"}, {"max_tokens", 100000}, {"stream", true}, {"penalty_decay", 0.996},
              {"logit_bias", {{"0", -100}}}};
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.body = b.dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 20; };  // then hang up
    cc.send(req);
    sent = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  while (chunks < 5 && !sent && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (chunks < 5) {  // never hang: stop the server (which ends the stream), then say so
    s.stop();
    streamer.join();
    FAIL() << "the stream ended or stalled after " << chunks.load() << " chunks";
  }
  int st = 0;
  auto busy = c.Post("/v1/completions", json{{"prompt", "x"}, {"max_tokens", 1}}.dump(), "application/json");
  if (chunks < 20) {  // the slot was still taken
    ASSERT_TRUE(busy);
    EXPECT_EQ(busy->status, 503) << busy->body;
    EXPECT_EQ(busy->get_header_value("Retry-After"), "1");
    EXPECT_EQ(json::parse(busy->body)["error"]["code"], "server_busy");
  }
  streamer.join();
  EXPECT_TRUE(wait_idle(c)) << "the slot of the client that left is still busy";
  json ok = post(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 2}}, &st);
  EXPECT_EQ(st, 200) << ok.dump();
}

// Every bad request gets its status and OpenAI's error object; the server stays healthy.
TEST(Serve, BadInputGetsErrorsAndServerStaysHealthy) {
  ServerProc s;
  auto c = s.client();
  struct Case { std::string body; int status; std::string param; };
  const Case cases[] = {
      {"{not json", 400, ""},
      {"[1,2]", 400, ""},
      {R"({"prompt": "x", "max_tokens": "ten"})", 400, "max_tokens"},
      {R"({"prompt": "x", "max_tokens": -5})", 400, "max_tokens"},
      {R"({"prompt": "x", "top_p": 2})", 400, "top_p"},
      {R"({"prompt": "x", "temperature": "hot"})", 400, "temperature"},
      {R"({"prompt": "x", "n": 0})", 400, "n"},
      {R"({"prompt": "x", "stop": [1]})", 400, "stop"},
      {R"({"prompt": "x", "logit_bias": {"999999": 1}})", 400, "logit_bias"},
      {R"({"prompt": [1, 2, 70000]})", 400, "prompt"},
      {R"({"prompt": ""})", 400, "prompt"},
      {R"({"max_tokens": 3})", 400, "prompt"},
      {R"({"prompt": "x", "model": "gpt-4"})", 404, "model"},
  };
  for (const Case& k : cases) {
    auto r = c.Post("/v1/completions", k.body, "application/json");
    ASSERT_TRUE(r) << k.body;
    EXPECT_EQ(r->status, k.status) << k.body << " -> " << r->body;
    json e = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(e.contains("error")) << r->body;
    EXPECT_TRUE(e["error"]["message"].is_string());
    if (!k.param.empty()) EXPECT_EQ(e["error"]["param"], k.param) << k.body;
  }
  auto chat = c.Post("/v1/chat/completions", R"({"messages": [{"role": "robot", "content": "hi"}]})", "application/json");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 400);
  EXPECT_EQ(json::parse(chat->body)["error"]["param"], "messages[0].role");
  auto nf = c.Get("/v1/nothing");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  const std::string big(10u << 20, 'a');  // 10 MB
  auto r413 = c.Post("/v1/completions", big, "application/json");
  ASSERT_TRUE(r413);
  EXPECT_EQ(r413->status, 413);
  std::mt19937 g(5);
  int fours = 0;
  for (int i = 0; i < 200; i++) {  // random bytes as bodies
    std::string b(size_t(1 + g() % 300), '\0');
    for (char& ch : b) ch = char(g());
    auto r = c.Post(i % 2 ? "/v1/completions" : "/v1/chat/completions", b, "application/json");
    ASSERT_TRUE(r) << "request " << i << " got no answer";
    fours += r->status >= 400 && r->status < 500;
    if (r->status < 400 || r->status >= 500) ADD_FAILURE() << "status " << r->status << ": " << r->body;
  }
  EXPECT_EQ(fours, 200);
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(json::parse(h->body)["status"], "ok");
  EXPECT_TRUE(wait_idle(c));
  int st = 0;
  post(c, "/v1/completions", {{"prompt", "still"}, {"max_tokens", 2}}, &st);
  EXPECT_EQ(st, 200);
  EXPECT_EQ(s.stop(), 0);
}

TEST(Serve, ApiKeyModelsHealthMetrics) {
  ServerProc s("--api-key sekrit");
  auto c = s.client();
  auto no = c.Get("/v1/models");
  ASSERT_TRUE(no);
  EXPECT_EQ(no->status, 401);
  EXPECT_EQ(json::parse(no->body)["error"]["code"], "invalid_api_key");
  httplib::Headers wrong = {{"Authorization", "Bearer nope"}}, right = {{"Authorization", "Bearer sekrit"}};
  EXPECT_EQ(c.Get("/v1/models", wrong)->status, 401);
  auto m = c.Get("/v1/models", right);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(json::parse(m->body)["data"][0]["id"], "model");
  EXPECT_EQ(c.Get("/health")->status, 200);  // not under /v1: no key needed
  auto met = c.Get("/metrics");
  ASSERT_TRUE(met);
  for (const char* k : {"rwkv_requests_total", "rwkv_prompt_tokens_total", "rwkv_generated_tokens_total",
                        "rwkv_tokens_per_second", "rwkv_slots_busy", "rwkv_queue_length", "rwkv_cache_hits_total",
                        "rwkv_cache_bytes"})
    EXPECT_NE(met->body.find(std::string("\n") + k + " "), std::string::npos) << k;
}

// SIGTERM with a stream in flight: the stream ends, the server exits 0.
TEST(Serve, SigtermWithStreamInFlightExitsZero) {
  ServerProc s;
  std::atomic<int> chunks{0};
  std::thread streamer([&] {
    auto cc = s.client();
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.body = json{{"prompt", "Once"}, {"max_tokens", 100000}, {"stream", true}}.dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { ++chunks; return true; };
    cc.send(req);
  });
  while (chunks < 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(s.stop(), 0);
  streamer.join();
}

// The prefix-state cache: a second prompt extending a 1,000+-token first one reports the first
// as cached_tokens and gives the same text as a server without a cache; regenerate hits too.
TEST(Serve, PrefixCacheServesSharedPrefix) {
  std::string doc;
  {
    std::ifstream f(asset("lambada_test.jsonl"));
    std::string line;
    for (int i = 0; i < 14 && std::getline(f, line); i++) doc += (i ? " " : "") + json::parse(line)["text"].get<std::string>();
  }
  ServerProc s, nocache("--cache_mb 0");
  auto c = s.client(), c0 = nocache.client();
  const json first = {{"prompt", doc}, {"max_tokens", 4}, {"temperature", 0}};
  const json second = {{"prompt", doc + " And then"}, {"max_tokens", 8}, {"temperature", 0}};
  json a = post(c, "/v1/completions", first);
  ASSERT_TRUE(a.contains("usage")) << a.dump();
  const int64_t n1 = a["usage"]["prompt_tokens"];
  ASSERT_GE(n1, 1000);
  EXPECT_EQ(a["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  json b = post(c, "/v1/completions", second);
  EXPECT_GE(b["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), n1);
  EXPECT_EQ(b["choices"][0]["text"], post(c0, "/v1/completions", second)["choices"][0]["text"]);
  json again = post(c, "/v1/completions", first);  // regenerate: all but the last prompt token cached
  EXPECT_EQ(again["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), n1 - 1);
  EXPECT_EQ(again["choices"][0]["text"], a["choices"][0]["text"]);
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("\nrwkv_cache_hits_total 2"), std::string::npos) << m->body;
}

// The state API: create -> download (a state file) -> upload to a fresh server -> continue gives
// the same greedy text as continuing on the first server, and as `rwkv generate --state-in`.
TEST(Serve, StateApiRoundTripAcrossServers) {
  ServerProc s1, s2;
  auto c1 = s1.client(), c2 = s2.client();
  json st = post(c1, "/v1/states", {{"prompt", "The quick brown fox"}});
  ASSERT_TRUE(st.contains("id")) << st.dump();
  const std::string id = st["id"];
  EXPECT_EQ(st["tokens"], 4);
  auto dl = c1.Get(("/v1/states/" + id).c_str());
  ASSERT_TRUE(dl);
  ASSERT_EQ(dl->status, 200);
  auto up = c2.Put("/v1/states/moved", dl->body, "application/octet-stream");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 201) << up->body;
  const json cont1 = {{"prompt", " jumps"}, {"state", id}, {"max_tokens", 10}, {"temperature", 0}};
  json cont2 = cont1;
  cont2["state"] = "moved";
  const std::string t1 = post(c1, "/v1/completions", cont1)["choices"][0]["text"];
  EXPECT_EQ(post(c2, "/v1/completions", cont2)["choices"][0]["text"], t1);
  EXPECT_EQ(post(c1, "/v1/completions", {{"prompt", "The quick brown fox jumps"}, {"max_tokens", 10}, {"temperature", 0}})
                ["choices"][0]["text"], t1);
  TempDir d;
  { std::ofstream(d / "s.state", std::ios::binary) << dl->body; }
  auto g = run_cli("generate --model " + model() + " --state-in " + (d / "s.state") +
                   " --prompt ' jumps' --tokens 10 --temperature 0 --alpha_frequency 0 --alpha_presence 0");
  ASSERT_EQ(g.status, 0) << g.err;
  // the server's completions use the PIPELINE penalties by default: compare without them
  json nopen = cont1;
  nopen["presence_penalty"] = 0;
  nopen["frequency_penalty"] = 0;
  EXPECT_EQ(g.out, post(c1, "/v1/completions", nopen)["choices"][0]["text"].get<std::string>());
  // save_state names the state after prompt + reply; delete; unknown ids are 404
  json sv = post(c1, "/v1/completions", {{"prompt", "Hello"}, {"max_tokens", 3}, {"save_state", true}});
  ASSERT_TRUE(sv["choices"][0].contains("state_id")) << sv.dump();
  auto del = c1.Delete(("/v1/states/" + id).c_str());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200);
  int code = 0;
  json gone = post(c1, "/v1/completions", cont1, &code);
  EXPECT_EQ(code, 404);
  EXPECT_EQ(gone["error"]["code"], "state_not_found");
  auto bad = c2.Put("/v1/states/x", std::string("not a state file"), "application/octet-stream");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

// The web page in headless Chromium: type, a streamed reply, stop, a second turn; screenshot
// saved as build/serve_chat_page.png. Then the runs view (--runs): a run's curves, redrawn when
// the trainer appends a line (build/serve_runs_page.png).
TEST(Serve, WebPageInHeadlessChromium) {
  const char* env = std::getenv("CHROMIUM");
  const std::string chromium = env ? env : "/usr/bin/chromium";
  const std::string dir = std::string(RWKV_SOURCE_DIR) + "/tests/browser";
  if (!std::filesystem::exists(chromium)) GTEST_SKIP() << chromium << " is not installed (scripts/setup.sh installs it)";
  ASSERT_TRUE(std::filesystem::exists(dir + "/node_modules/playwright-core/package.json"))
      << "chromium is here but playwright-core is not: run scripts/setup.sh";
  TempDir d;
  std::filesystem::create_directories(d / "demo-run");
  {
    std::ofstream f(d / "demo-run/metrics.jsonl");
    for (int i = 0; i < 30; i++)
      f << json{{"step", i}, {"loss", 6.0 - 0.1 * i}, {"lr", 1e-3}, {"grad_norm", 2.0}, {"tokens_per_s", 500.0}}.dump() << "\n";
  }
  ServerProc s("--runs " + d.path + " --chat_roles Sys,Usr,Bot");  // rare roles: a long reply does not stop early
  const std::string build = std::filesystem::path(RWKV_BIN).parent_path().string();
  const std::string png = build + "/serve_chat_page.png", runs_png = build + "/serve_runs_page.png";
  FILE* p = popen(("node " + dir + "/serve_page_check.mjs " + s.url() + " " + png + " " + (d / "demo-run/metrics.jsonl") +
                   " " + runs_png + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 0) << out;
  EXPECT_NE(out.find("serve_page_check: OK"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(png));
  std::printf("%s", out.c_str());
  auto c = s.client();
  EXPECT_TRUE(wait_idle(c)) << "the stopped reply's slot was not freed";
}

// Load: 32 concurrent streaming clients x 4 requests each (8 slots, the rest queued): no errors,
// every stream complete, every slot free afterwards, and the server's memory back within 10 % of
// where it started. The start is measured after one round of 32 streams: the first concurrent
// round grows the HTTP threads' stacks and malloc arenas and the workspace to a full batch once.
TEST(Serve, LoadThirtyTwoStreamingClients) {
  ServerProc s("--slots 8 --queue 64 --cache_mb 0");
  auto c = s.client();
  std::atomic<int> errors{0}, complete{0};
  auto round = [&](int per_client) {
    std::vector<std::thread> th;
    for (int i = 0; i < 32; i++)
      th.emplace_back([&, i] {
        auto cc = s.client();
        for (int r = 0; r < per_client; r++) {
          httplib::Request req;
          req.method = "POST";
          req.path = "/v1/chat/completions";
          req.body = json{{"messages", {{{"role", "user"}, {"content", "Client " + std::to_string(i) + " asks " + std::to_string(r)}}}},
                          {"max_tokens", 24}, {"stream", true}, {"seed", i * 10 + r}}.dump();
          req.set_header("Content-Type", "application/json");
          std::string body;
          req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) { body.append(d, n); return true; };
          auto res = cc.send(req);
          if (!res || res->status != 200) { errors++; continue; }
          if (body.size() >= 14 && body.compare(body.size() - 14, 14, "data: [DONE]\n\n") == 0) complete++;
          else errors++;
        }
      });
    for (auto& t : th) t.join();
  };
  round(1);
  ASSERT_TRUE(wait_idle(c));
  const int64_t rss0 = s.rss_kb();
  errors = 0, complete = 0;
  round(4);
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(complete.load(), 128);
  EXPECT_TRUE(wait_idle(c));
  const int64_t rss1 = s.rss_kb();
  std::printf("[ serve ] 32 clients x 4 streams: %d complete, %d errors; RSS %lld -> %lld KiB\n", complete.load(),
              errors.load(), (long long)rss0, (long long)rss1);
  EXPECT_LE(double(rss1), 1.10 * double(rss0));
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("\nrwkv_queue_length 0"), std::string::npos);
}

// n > 1 shares the prompt's prefill: the later choices start from the first one's cached state.
TEST(Serve, NChoicesSharePrefill) {
  ServerProc s;
  auto c = s.client();
  std::string prompt;
  for (int i = 0; i < 60; i++) prompt += "The river ran past the mill and the old stone bridge. ";
  json r = post(c, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 6}, {"n", 3}, {"seed", 11}});
  ASSERT_TRUE(r.contains("choices")) << r.dump();
  ASSERT_EQ(r["choices"].size(), 3u);
  const int64_t n = r["usage"]["prompt_tokens"];
  EXPECT_GE(n, 500);
  EXPECT_EQ(r["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), n - 1);
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("\nrwkv_cache_hits_total 2"), std::string::npos) << m->body;  // choices 1 and 2
  // the same seeds give the same choices as without the sharing (no cache)
  ServerProc s0("--cache_mb 0");
  auto c0 = s0.client();
  json r0 = post(c0, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 6}, {"n", 3}, {"seed", 11}});
  for (int i = 0; i < 3; i++) EXPECT_EQ(r["choices"][i]["text"], r0["choices"][i]["text"]) << "choice " << i;
}

// --runs DIR: the runs listed, a run's metrics.jsonl streamed (lines so far, then a line the
// trainer appends while the client listens), its curves as SVG, the page; bad names are 404.
TEST(Serve, RunsViewStreamsMetricsLive) {
  TempDir d;
  std::filesystem::create_directories(d / "run-a");
  auto line = [](int step, double loss) {
    return json{{"step", step}, {"loss", loss}, {"lr", 1e-3}, {"grad_norm", 1.0}, {"tokens_per_s", 100.0}}.dump() + "\n";
  };
  { std::ofstream(d / "run-a/metrics.jsonl") << line(0, 5.0) << line(1, 4.5); }
  ServerProc s("--runs " + d.path);
  auto c = s.client();
  json runs = json::parse(c.Get("/v1/runs")->body);
  ASSERT_EQ(runs["data"].size(), 1u);
  EXPECT_EQ(runs["data"][0]["id"], "run-a");
  auto svg = c.Get("/v1/runs/run-a/curves.svg");
  ASSERT_TRUE(svg);
  EXPECT_EQ(svg->status, 200);
  EXPECT_NE(svg->body.find("<svg"), std::string::npos);
  EXPECT_EQ(c.Get("/v1/runs/..%2F..%2Fetc/metrics")->status, 404);
  EXPECT_EQ(c.Get("/v1/runs/nope/curves.svg")->status, 404);
  EXPECT_EQ(c.Get("/runs")->status, 200);
  std::atomic<int> events{0};
  std::thread reader([&] {
    auto cc = s.client();
    cc.Get("/v1/runs/run-a/metrics", [&](const char* data, size_t n) {
      for (size_t i = 0; i + 5 < n; i++) events += std::string(data + i, 6) == "data: ";
      return events < 3;  // two old lines, then the appended one
    });
  });
  for (int i = 0; i < 100 && events < 2; i++) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(events.load(), 2);
  { std::ofstream(d / "run-a/metrics.jsonl", std::ios::app) << line(2, 4.1); }
  reader.join();
  EXPECT_EQ(events.load(), 3);
}
