// test_chat_tmux.cpp — `rwkv chat` in a real terminal (tmux: send-keys, capture-pane) and in a
// pipe: a two-turn conversation, /save then /load restoring the state exactly (the same greedy
// reply to the same message), /reset, and errors that do not end the session.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "test_util.h"

using namespace rwkv::test;

namespace {

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// Only printable ASCII and '\n' may be sampled (the random fixture model would otherwise print
// control bytes into the terminal): ban every other byte id.
std::string printable_only() {
  std::string ids;
  for (int b = 0; b < 256; b++)
    if (!(b == '\n' || (b >= 32 && b < 127))) ids += (ids.empty() ? "" : ",") + std::to_string(b);
  return ids;
}

std::string chat_args() {
  return "chat --model " + fixture("rwkv7-L2-D128-V512/model.pth") +
         " --tokenizer bytes --temperature 0 --tokens 16 --token_ban " + printable_only();
}

struct Tmux {
  std::string name;
  explicit Tmux(const std::string& cmd) {
    name = "rwkvtest" + std::to_string(getpid());
    sh("tmux kill-session -t " + name + " 2>/dev/null");
    sh("tmux new-session -d -s " + name + " -x 250 -y 80 '" + cmd + "; sleep 30'");
  }
  ~Tmux() { sh("tmux kill-session -t " + name + " 2>/dev/null"); }
  std::string screen() { return sh("tmux capture-pane -p -J -S -200 -t " + name); }
  void send(const std::string& line) {
    sh("tmux send-keys -t " + name + " -l '" + line + "'");
    sh("tmux send-keys -t " + name + " Enter");
  }
  // Waits until the screen shows `count` prompts "User: " at line starts.
  bool wait_prompts(int count) {
    for (int i = 0; i < 300; i++) {
      std::string s = screen();
      int n = 0;
      for (size_t p = 0; (p = s.find("User: ", p)) != std::string::npos; p++)
        if (p == 0 || s[p - 1] == '\n') n++;
      if (n >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
};

// The assistant replies, in order: the text after each "Assistant:" up to the next prompt,
// "[...]" notice or reply, without trailing newlines (a reply never contains "\n\n").
std::vector<std::string> replies(const std::string& s) {
  std::vector<std::string> r;
  for (size_t p = 0; (p = s.find("Assistant:", p)) != std::string::npos; p += 10) {
    size_t e = std::min({s.find("\nUser:", p), s.find("\n[", p), s.find("Assistant:", p + 10), s.size()});
    std::string t = s.substr(p + 10, e - p - 10);
    while (!t.empty() && t.back() == '\n') t.pop_back();
    r.push_back(t);
  }
  return r;
}

}  // namespace

TEST(ChatTmux, TwoTurnsSaveLoadRestoresState) {
  if (sh("command -v tmux").empty()) GTEST_SKIP() << "tmux is not installed";
  TempDir d;
  Tmux t(std::string(RWKV_BIN) + " " + chat_args());
  ASSERT_TRUE(t.wait_prompts(1)) << t.screen();
  t.send("Hello there");
  ASSERT_TRUE(t.wait_prompts(2)) << t.screen();
  t.send("How are you?");
  ASSERT_TRUE(t.wait_prompts(3)) << t.screen();
  t.send("/save " + (d / "chat.safetensors"));
  ASSERT_TRUE(t.wait_prompts(4)) << t.screen();
  t.send("Tell me more");
  ASSERT_TRUE(t.wait_prompts(5)) << t.screen();
  t.send("/load " + (d / "chat.safetensors"));
  ASSERT_TRUE(t.wait_prompts(6)) << t.screen();
  t.send("Tell me more");
  ASSERT_TRUE(t.wait_prompts(7)) << t.screen();
  std::string s = t.screen();
  auto r = replies(s);
  ASSERT_EQ(r.size(), 4u) << s;
  EXPECT_NE(s.find("[state saved to"), std::string::npos) << s;
  EXPECT_NE(s.find("[state loaded from"), std::string::npos) << s;
  EXPECT_EQ(r[2], r[3]) << s;  // same state + same message -> same greedy reply
  EXPECT_FALSE(r[0].empty());
  EXPECT_TRUE(std::filesystem::exists(d / "chat.safetensors"));
}

TEST(ChatPipe, WorksWithoutATerminalAndKeepsState) {
  TempDir d;
  std::string in = "Hello there\n/save " + (d / "a.safetensors") + "\nTell me more\n/save " +
                   (d / "b.safetensors") + "\n/load " +
                   (d / "a.safetensors") + "\nTell me more\n/reset\nHello there\n\n/load " +
                   (d / "missing.safetensors") + "\n/quit\n";
  auto r = run_cli(chat_args(), in);
  ASSERT_EQ(r.status, 0) << r.err;
  auto rep = replies(r.out);
  ASSERT_EQ(rep.size(), 4u) << r.out;
  EXPECT_EQ(rep[1], rep[2]);  // after /load: the same reply
  EXPECT_EQ(rep[0], rep[3]);  // after /reset: the first reply again
  EXPECT_EQ(r.out.find("User: "), std::string::npos);  // no prompt echo in a pipe
  EXPECT_NE(r.err.find("empty message"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing.safetensors"), std::string::npos) << r.err;
  // the state moved on between the turns (kept, not restarted)
  EXPECT_NE(read_file(d / "a.safetensors"), read_file(d / "b.safetensors"));
}
