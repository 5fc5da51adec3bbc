// test_generate_cli.cpp — `rwkv generate` end to end on the fixture model (byte tokenizer):
// reproducible seeds, --stop / --token_stop / --token_ban, state files, prompt sources,
// chunked long prompts, and bad input (empty prompt, missing model, foreign state, bad values).
#include <fstream>

#include "test_util.h"

using namespace rwkv::test;

namespace {
std::string model() { return fixture("rwkv7-L2-D128-V512/model.pth"); }
std::string gen(const std::string& args) { return "generate --model " + model() + " --tokenizer bytes " + args; }
const char* kGreedy = " --temperature 0 --alpha_frequency 0 --alpha_presence 0";
}  // namespace

TEST(GenerateCli, SameSeedSameTextAndGreedyIsSeedFree) {
  auto a = run_cli(gen("--prompt Hello --tokens 24 --seed 5 --top_p 1"));
  auto b = run_cli(gen("--prompt Hello --tokens 24 --seed 5 --top_p 1"));
  auto c = run_cli(gen("--prompt Hello --tokens 24 --seed 6 --top_p 1"));
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  EXPECT_FALSE(a.out.empty());
  auto g1 = run_cli(gen(std::string("--prompt Hello --tokens 24 --seed 1") + kGreedy));
  auto g2 = run_cli(gen(std::string("--prompt Hello --tokens 24 --seed 2") + kGreedy));
  EXPECT_EQ(g1.out, g2.out);
}

TEST(GenerateCli, StopStringTokenStopAndBan) {
  auto g = run_cli(gen(std::string("--prompt Hello --tokens 40") + kGreedy));
  ASSERT_EQ(g.status, 0) << g.err;
  const std::string G = g.out;
  ASSERT_GE(G.size(), 12u);
  // --stop: the output ends right before the first occurrence of the stop string
  std::string stop = G.substr(6, 3);
  TempDir d;
  { std::ofstream(d / "stop.txt", std::ios::binary) << stop; }
  auto s = run_cli(gen(std::string("--prompt Hello --tokens 40 --stop \"$(cat ") + (d / "stop.txt") + ")\"" + kGreedy));
  ASSERT_EQ(s.status, 0) << s.err;
  EXPECT_EQ(s.out, G.substr(0, G.find(stop)));
  // --token_stop: byte tokenizer, so the id of G[8] is its byte value
  int id = static_cast<unsigned char>(G[8]);
  auto t = run_cli(gen(std::string("--prompt Hello --tokens 40 --token_stop ") + std::to_string(id) + kGreedy));
  EXPECT_EQ(t.out, G.substr(0, G.find(G[8])));
  // --token_ban of the greedy first token: a different first token
  int first = static_cast<unsigned char>(G[0]);
  auto b = run_cli(gen(std::string("--prompt Hello --tokens 5 --token_ban 300,") + std::to_string(first) + kGreedy));
  ASSERT_EQ(b.status, 0) << b.err;
  ASSERT_FALSE(b.out.empty());
  EXPECT_NE(b.out[0], G[0]);
}

TEST(GenerateCli, StateOutThenStateInContinues) {
  TempDir d;
  auto whole = run_cli(gen(std::string("--prompt Hello --tokens 20") + kGreedy));
  auto first = run_cli(gen(std::string("--prompt Hello --tokens 8 --state-out ") + (d / "s.safetensors") + kGreedy));
  auto rest = run_cli(gen(std::string("--state-in ") + (d / "s.safetensors") + " --tokens 12" + kGreedy));
  ASSERT_EQ(first.status, 0) << first.err;
  ASSERT_EQ(rest.status, 0) << rest.err;
  EXPECT_EQ(first.out + rest.out, whole.out);
}

TEST(GenerateCli, PromptSourcesAndLongPromptChunked) {
  TempDir d;
  { std::ofstream(d / "p.txt", std::ios::binary) << "Hello"; }
  auto a = run_cli(gen(std::string("--prompt Hello --tokens 10") + kGreedy));
  auto b = run_cli(gen(std::string("--prompt-file ") + (d / "p.txt") + " --tokens 10" + kGreedy));
  auto c = run_cli(gen(std::string("--tokens 10") + kGreedy), "Hello");
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out, c.out);
  std::string longp;
  for (int i = 0; i < 60; i++) longp += "the quick brown fox ";
  { std::ofstream(d / "long.txt", std::ios::binary) << longp; }
  auto l1 = run_cli(gen(std::string("--prompt-file ") + (d / "long.txt") + " --tokens 6 --chunk_len 16" + kGreedy));
  auto l2 = run_cli(gen(std::string("--prompt-file ") + (d / "long.txt") + " --tokens 6 --chunk_len 1000" + kGreedy));
  ASSERT_EQ(l1.status, 0) << l1.err;
  EXPECT_EQ(l1.out, l2.out);
}

TEST(GenerateCli, BadInputIsAClearError) {
  TempDir d;
  auto e = run_cli(gen("--prompt \"\" --tokens 3"));
  EXPECT_EQ(e.status, 1);
  EXPECT_NE(e.err.find("empty prompt"), std::string::npos) << e.err;
  auto m = run_cli("generate --model " + (d / "nope.pth") + " --prompt hi");
  EXPECT_EQ(m.status, 1);
  EXPECT_NE(m.err.find("nope.pth"), std::string::npos) << m.err;
  for (std::string bad : {"--top_p 1.5", "--temperature -1", "--top_k -2", "--alpha_decay 2", "--token_ban 9999",
                          "--chunk_len 0", "--dtype fp8"}) {
    auto r = run_cli(gen("--prompt hi --tokens 3 " + bad));
    EXPECT_EQ(r.status, 1) << bad;
    EXPECT_NE(r.err.find("error"), std::string::npos) << bad << ": " << r.err;
  }
  // a state file written for another model (RWKV-6 fixture) is refused
  auto v6 = fixture("pip/rwkv6-L2-D128-V512/model.pth");
  auto s6 = run_cli("generate --model " + v6 + " --tokenizer bytes --prompt hi --tokens 1 --state-out " +
                    (d / "v6.safetensors"));
  ASSERT_EQ(s6.status, 0) << s6.err;
  auto x = run_cli(gen(std::string("--prompt hi --tokens 3 --state-in ") + (d / "v6.safetensors")));
  EXPECT_EQ(x.status, 1);
  EXPECT_NE(x.err.find("another model"), std::string::npos) << x.err;
}

// The speed lines go to stderr, stdout keeps only the text: generate's at the end (prompt =
// the prompt's tokens, decode = the tokens printed), chat's for the whole session at its end.
TEST(GenerateCli, SpeedOnStderrOnly) {
  auto g = run_cli(gen(std::string("--prompt Hello --tokens 12") + kGreedy));
  ASSERT_EQ(g.status, 0) << g.err;
  EXPECT_NE(g.err.find("prompt: 5 tokens in "), std::string::npos) << g.err;
  EXPECT_NE(g.err.find(" tokens/s; decode: 12 tokens in "), std::string::npos) << g.err;
  EXPECT_EQ(g.out.find("tokens/s"), std::string::npos) << g.out;
  auto c = run_cli("chat --model " + model() + " --tokenizer bytes --tokens 8 --seed 1", "Hi\nHow are you\n/quit\n");
  ASSERT_EQ(c.status, 0) << c.err;
  // both turns' "User: ...\n\nAssistant:" bytes, and the first reply's last token (sampled, not yet run)
  const size_t prompts = std::string("User: Hi\n\nAssistant:User: How are you\n\nAssistant:").size() + 1;
  EXPECT_NE(c.err.find("prompt: " + std::to_string(prompts) + " tokens in "), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("decode: "), std::string::npos) << c.err;
  EXPECT_EQ(c.out.find("tokens/s"), std::string::npos) << c.out;
}
