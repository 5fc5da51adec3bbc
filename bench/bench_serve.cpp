// bench_serve.cpp — `rwkv serve` under load, measured from real HTTP clients: for 1, 4 and 16
// concurrent streaming clients, aggregate generated tokens/s, time to first token (TTFT) and
// inter-token latency (ITL) p50/p95; then the prefix cache: TTFT of a 1,000+-token prompt and
// of a follow-up that extends it. The model is an L12-D768 V65536 RWKV-7 (official init
// weights from `rwkv init`, the numbers do not depend on the values), in the dtype asked.
//   bench_serve [--dtype bf16|fp32] [--threads 2] [--tokens 64] [--clients 1,4,16]
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

struct Stream {
  double ttft = 0;             // seconds to the first text chunk
  std::vector<double> gaps;    // seconds between text chunks
  int chunks = 0;
  bool ok = false;
};

Stream stream(int port, const json& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(600, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  Stream s;
  const auto t0 = Clock::now();
  auto last = t0;
  std::string buf;
  req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    buf.append(d, n);
    size_t at;
    while ((at = buf.find("\n\n")) != std::string::npos) {
      const std::string ev = buf.substr(0, at);
      buf.erase(0, at + 2);
      if (ev.rfind("data: {", 0) != 0) continue;
      json j = json::parse(ev.substr(6), nullptr, false);
      if (j.is_discarded() || !j.contains("choices") || j["choices"].empty()) continue;
      if (j["choices"][0]["text"].get<std::string>().empty()) continue;
      const auto now = Clock::now();
      if (s.chunks == 0) s.ttft = std::chrono::duration<double>(now - t0).count();
      else s.gaps.push_back(std::chrono::duration<double>(now - last).count());
      last = now;
      s.chunks++;
    }
    return true;
  };
  auto r = c.send(req);
  s.ok = r && r->status == 200;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dtype = "bf16", clients = "1,4,16";
  int threads = 2, tokens = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--dtype") dtype = v;
    else if (a == "--threads") threads = std::atoi(v.c_str());
    else if (a == "--tokens") tokens = std::atoi(v.c_str());
    else if (a == "--clients") clients = v;
    else { std::fprintf(stderr, "unknown flag %s\n", a.c_str()); return 2; }
  }
  const std::string dir = std::filesystem::temp_directory_path().string() + "/rwkv-bench-serve-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string model = dir + "/m.pth";
  if (std::system((std::string(RWKV_BIN) + " init --n_layer 12 --n_embd 768 --vocab_size 65536 --out " + model +
                   " > /dev/null 2>&1").c_str()) != 0) {
    std::fprintf(stderr, "rwkv init failed\n");
    return 1;
  }
  int fds[2];
  if (pipe(fds) != 0) return 1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    const std::string cmd = std::string("exec ") + RWKV_BIN + " serve --model " + model + " --port 0 --slots 16 --dtype " +
                            dtype + " --threads " + std::to_string(threads);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    _exit(127);
  }
  close(fds[1]);
  std::string line;
  char ch;
  while (read(fds[0], &ch, 1) == 1 && ch != '\n') line += ch;
  const int port = std::atoi(line.c_str() + line.rfind(':') + 1);
  std::printf("cpu: %d threads; L12-D768 V65536 RWKV-7, %s weights; %d tokens per request (greedy, no stop)\n", threads,
              dtype.c_str(), tokens);
  std::printf("| clients | generated tok/s (all) | x 1 client | TTFT p50 / p95 ms | ITL p50 / p95 ms |\n|---|---|---|---|---|\n");
  double base = 0;
  std::stringstream cs(clients);
  for (std::string item; std::getline(cs, item, ',');) {
    const int n = std::atoi(item.c_str());
    std::vector<Stream> res(static_cast<size_t>(n));
    std::vector<std::thread> th;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; i++)
      th.emplace_back([&, i] {
        res[size_t(i)] = stream(port, {{"prompt", "Request " + std::to_string(i) + " of the benchmark says"},
                                       {"max_tokens", tokens}, {"temperature", 0}, {"stream", true},
                                       {"logit_bias", {{"0", -100}}}});  // never stop early
      });
    for (auto& t : th) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> ttft, gaps;
    int total = 0, bad = 0;
    for (auto& s : res) {
      bad += !s.ok;
      total += s.chunks;
      ttft.push_back(s.ttft * 1e3);
      for (double g : s.gaps) gaps.push_back(g * 1e3);
    }
    const double tps = total / secs;
    if (n == 1 || base == 0) base = tps;
    std::printf("| %d | %.1f | %.2f | %.0f / %.0f | %.1f / %.1f |%s\n", n, tps, tps / base, pct(ttft, 0.5), pct(ttft, 0.95),
                pct(gaps, 0.5), pct(gaps, 0.95), bad ? " (errors!)" : "");
    std::fflush(stdout);
  }
  // the prefix cache: a long prompt, then one that extends it
  std::string doc;
  {
    std::ifstream f(std::string(RWKV_SOURCE_DIR) + "/assets/lambada_test.jsonl");
    for (std::string l; doc.size() < 6000 && std::getline(f, l);) doc += (doc.empty() ? "" : " ") + json::parse(l)["text"].get<std::string>();
  }
  Stream a = stream(port, {{"prompt", doc}, {"max_tokens", 2}, {"temperature", 0}, {"stream", true}, {"logit_bias", {{"0", -100}}}});
  Stream b = stream(port, {{"prompt", doc + " And then"}, {"max_tokens", 2}, {"temperature", 0}, {"stream", true}, {"logit_bias", {{"0", -100}}}});
  httplib::Client c("127.0.0.1", port);
  json u = json::parse(c.Post("/v1/completions", json{{"prompt", doc + " And then"}, {"max_tokens", 1}}.dump(), "application/json")->body);
  std::printf("prefix cache: %zu-byte prompt (%lld tokens), TTFT %.0f ms; the follow-up (cached_tokens %lld): TTFT %.1f ms = %.1f %%\n",
              doc.size(), (long long)u["usage"]["prompt_tokens"].get<int64_t>(), a.ttft * 1e3,
              (long long)u["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), b.ttft * 1e3,
              100 * b.ttft / a.ttft);
  kill(pid, SIGTERM);
  int st = 0;
  waitpid(pid, &st, 0);
  std::filesystem::remove_all(dir);
  return 0;
}
