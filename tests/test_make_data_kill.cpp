// test_make_data_kill.cpp — `rwkv make-data` killed (SIGKILL) while it replaces an existing
// dataset: at each step of the pair commit (the crash_point hook) and at 20 random moments. After
// every kill the dataset, as a reader opens it, is exactly the complete old pair or the complete
// new pair — never a new .bin with an old .idx — and the next run leaves no temp files.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "data/binidx.h"
#include "test_util.h"

namespace fs = std::filesystem;
using rwkv::test::read_file;
using rwkv::test::TempDir;

namespace {

struct Pair { std::string bin, idx; };
Pair read_pair(const std::string& prefix) { return {read_file(prefix + ".bin"), read_file(prefix + ".idx")}; }

// `lines` JSON lines of varied text (seeded).
void write_jsonl(const std::string& path, int lines, unsigned seed) {
  std::mt19937 g(seed);
  std::ofstream f(path, std::ios::binary);
  const char* words[] = {"the", "river", "token", "model", "state", "of", "a", "long", "context", "RWKV"};
  for (int i = 0; i < lines; i++) {
    f << "{\"text\": \"";
    for (int w = 0, n = 5 + int(g() % 200); w < n; w++) f << words[g() % 10] << (w + 1 < n ? " " : "");
    f << "\"}\n";
  }
}

// Starts `rwkv <args>` (stdout/stderr to /dev/null) with `env` added; returns the pid.
pid_t spawn(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " exec " + std::string(RWKV_BIN) + " " + args + " >/dev/null 2>&1";
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
    _exit(127);
  }
  return pid;
}
int wait_status(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  return st;
}

std::vector<std::string> temps_in(const std::string& dir) {
  std::vector<std::string> r;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos ||
        e.path().filename().string().find("binidx-replace") != std::string::npos)
      r.push_back(e.path().filename().string());
  return r;
}

struct Fixture {
  TempDir t;
  std::string old_in = t / "old.jsonl", new_in = t / "new.jsonl", prefix = t / "data";
  Pair old_pair, new_pair;
  std::string make(const std::string& in, const std::string& prefix_) const {
    return "make-data " + in + " 2 16 --seed 7 -q --out " + prefix_;
  }
  Fixture(int new_lines) {
    write_jsonl(old_in, 300, 1);
    write_jsonl(new_in, new_lines, 2);
    EXPECT_EQ(rwkv::test::run_cli(make(new_in, t / "ref")).status, 0);
    new_pair = read_pair(t / "ref");
    EXPECT_EQ(rwkv::test::run_cli(make(old_in, prefix)).status, 0);
    old_pair = read_pair(prefix);
    EXPECT_NE(old_pair.bin, new_pair.bin);
  }
  void restore_old() {
    for (auto& n : temps_in(t.path)) fs::remove(t / n);
    std::ofstream(prefix + ".bin", std::ios::binary | std::ios::trunc) << old_pair.bin;
    std::ofstream(prefix + ".idx", std::ios::binary | std::ios::trunc) << old_pair.idx;
  }
  // Opens the dataset as a reader does (finishing an interrupted replacement), then says which
  // pair the final names hold: "old", "new", or "MISMATCH".
  std::string which() const {
    rwkv::BinidxReader r(prefix);  // recovers first; throws on a pair it cannot trust
    Pair p = read_pair(prefix);
    if (p.bin == old_pair.bin && p.idx == old_pair.idx) return "old";
    if (p.bin == new_pair.bin && p.idx == new_pair.idx) return "new";
    return "MISMATCH";
  }
};

}  // namespace

TEST(MakeDataKill, AtEachStepOfThePairCommit) {
  Fixture f(400);
  const std::pair<const char*, const char*> points[] = {
      {"binidx:bin-synced", "old"},     {"binidx:idx-synced", "old"},  {"binidx:marker-written", "new"},
      {"binidx:bin-renamed", "new"},    {"binidx:idx-renamed", "new"},
  };
  for (auto& [point, expect] : points) {
    f.restore_old();
    int st = wait_status(spawn(f.make(f.new_in, f.prefix), std::string("RWKV_CRASH_AT=") + point));
    ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << point << ": not killed at its crash point";
    if (std::string(point) == "binidx:bin-renamed") {
      // The one moment the final names do not match: the marker is there, so no reader takes them
      // as they are.
      EXPECT_TRUE(fs::exists(rwkv::binidx_marker_path(f.prefix))) << point;
    }
    EXPECT_EQ(f.which(), expect) << point;
    EXPECT_FALSE(fs::exists(rwkv::binidx_marker_path(f.prefix))) << point;
    // The next run starts clean: temps of the killed run are removed, the new pair lands.
    ASSERT_EQ(wait_status(spawn(f.make(f.new_in, f.prefix))), 0) << point;
    EXPECT_EQ(f.which(), "new") << point;
    EXPECT_EQ(temps_in(f.t.path), std::vector<std::string>{}) << point;
  }
}

TEST(MakeDataKill, AtTwentyRandomMoments) {
  Fixture f(20000);
  // How long an uninterrupted run takes; the kills land uniformly inside it (and a little after).
  f.restore_old();
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_status(spawn(f.make(f.new_in, f.prefix))), 0);
  const double full = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::mt19937 g(12345);
  std::uniform_real_distribution<double> at(0.0, full * 1.1);
  int olds = 0, news = 0;
  for (int k = 0; k < 20; k++) {
    f.restore_old();
    pid_t pid = spawn(f.make(f.new_in, f.prefix));
    std::this_thread::sleep_for(std::chrono::duration<double>(at(g)));
    kill(pid, SIGKILL);
    wait_status(pid);
    const std::string w = f.which();
    ASSERT_NE(w, "MISMATCH") << "kill " << k;
    (w == "old" ? olds : news)++;
  }
  std::printf("[ kill ] make-data of %.2f s killed at 20 random moments: %d left the old pair, %d the new pair\n",
              full, olds, news);
  EXPECT_EQ(olds + news, 20);
}
