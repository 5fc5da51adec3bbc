// test_util.cpp — see test_util.h.
#include "test_util.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "core/assets.h"

namespace fs = std::filesystem;

namespace rwkv::test {

std::string fixtures_dir() {
  const char* env = std::getenv("RWKV_FIXTURES");
  std::string d = env && *env ? env : RWKV_FIXTURES_DIR;
  if (!fs::is_directory(d)) {
    ADD_FAILURE() << "fixtures folder not found: " << d
                  << " (put ../shared beside the checkout, or set RWKV_FIXTURES)";
  }
  return d;
}

std::string fixture(const std::string& rel) {
  std::string p = fixtures_dir() + "/" + rel;
  if (!fs::exists(p)) ADD_FAILURE() << "fixture missing: " << p;
  return p;
}

std::string asset(const std::string& name) { return rwkv::find_asset(name); }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  std::random_device rd;
  path = (fs::temp_directory_path() / ("rwkv_test_" + std::to_string(getpid()) + "_" + std::to_string(rd()))).string();
  fs::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

CliResult run_cli(const std::string& args, const std::string& stdin_text) {
  TempDir t;
  std::string in = t / "stdin", out = t / "stdout", err = t / "stderr";
  { std::ofstream(in, std::ios::binary) << stdin_text; }
  std::string cmd = std::string(RWKV_BIN) + " " + args + " <" + in + " >" + out + " 2>" + err;
  int st = std::system(cmd.c_str());
  CliResult r;
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

CliRun run_cli_measured(const std::string& args, double timeout_s) {
  TempDir t;
  const std::string out = t / "stdout", err = t / "stderr", cmd = "exec " + std::string(RWKV_BIN) + " " + args;
  auto t0 = std::chrono::steady_clock::now();
  std::fflush(nullptr);  // or the child's freopen writes our buffered output a second time
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "r", stdin);
    freopen(out.c_str(), "w", stdout);
    freopen(err.c_str(), "w", stderr);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
    _exit(127);
  }
  CliRun r;
  int st = 0;
  struct rusage ru {};
  for (;;) {
    pid_t w = wait4(pid, &st, WNOHANG, &ru);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (w == pid) break;
    if (r.seconds > timeout_s && !r.timed_out) {
      kill(pid, SIGKILL);
      r.timed_out = true;
    }
    usleep(2000);
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  r.peak_rss_mib = double(ru.ru_maxrss) / 1024;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

double tol_excess(const std::vector<float>& got, const std::vector<float>& ref, Tol t) {
  if (got.size() != ref.size()) return INFINITY;
  double worst = -INFINITY;
  for (size_t i = 0; i < got.size(); i++) {
    double d = std::fabs(double(got[i]) - ref[i]) - (t.abs + t.rel * std::fabs(ref[i]));
    if (!(d <= worst)) worst = d;  // NaN propagates as a failure
  }
  return got.empty() ? 0 : worst;
}

double rel_norm_err(const std::vector<float>& got, const std::vector<float>& ref) {
  if (got.size() != ref.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); i++) {
    double d = double(got[i]) - ref[i];
    num += d * d;
    den += double(ref[i]) * ref[i];
  }
  return std::sqrt(num / (den > 0 ? den : 1));
}

}  // namespace rwkv::test
