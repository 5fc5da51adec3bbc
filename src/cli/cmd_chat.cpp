// cmd_chat.cpp — `rwkv chat`: an interactive World-format chat ("User: ...\n\nAssistant:",
// replies end at "\n\n") keeping the RNN state between turns. Commands: /reset, /save F,
// /load F, /quit. Reads lines from stdin, so it works in a terminal and in a pipe. At the end,
// the prompt and decode speed of the whole session (tokens/s) on stderr, as llama.cpp does.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/infer_flags.h"
#include "infer/session.h"

using namespace rwkv;

static int run(int argc, char** argv) {
  CLI::App app{"Chat with a model (World format). Commands: /reset, /save FILE, /load FILE, /quit."};
  cli::InferFlags f;
  f.gen = chat_defaults();
  f.add_model(app);
  f.add_sampler(app);
  app.add_option("--tokens", f.gen.max_tokens, "most tokens per reply")->capture_default_str();
  std::string state_in;
  app.add_option("--state-in,--state", state_in, "start from this state file (chat /save, forward --state_out, train --train_type state)");
  int code = 0;
  if (!cli::parse(app, argc, argv, &code)) return code;

  auto engine = f.load();
  auto tok = f.make_tok(*engine);
  f.gen.args.validate(engine->vocab_size());
  Session s(*engine, f.gen.args.chunk_len);
  if (!state_in.empty()) s.load(state_in);
  Rng rng(f.seed_value());
  const bool tty = isatty(0) && isatty(1);
  if (tty) fmt::print("rwkv chat — {} (/reset, /save FILE, /load FILE, /quit)\n\n", f.model);

  GenerateStats total;
  std::string line;
  for (;;) {
    if (tty) fmt::print("User: ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) {
      if (tty) fmt::print("\n");  // end of input (Ctrl-D) after the prompt
      break;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string cmd = chat_clean_message(line);
    try {
      if (cmd == "/quit" || cmd == "/exit") break;
      if (cmd == "/reset") {  // back to the start: the --state file when one was given
        s.reset();
        if (!state_in.empty()) s.load(state_in);
        fmt::print("[state reset{}]\n\n", state_in.empty() ? "" : " to " + state_in);
        continue;
      }
      if (cmd.rfind("/save ", 0) == 0 || cmd.rfind("/load ", 0) == 0) {
        std::string path = chat_clean_message(cmd.substr(6));
        if (cmd[1] == 's') {
          s.save(path);
          fmt::print("[state saved to {}]\n\n", path);
        } else {
          s.load(path);
          fmt::print("[state loaded from {}]\n\n", path);
        }
        continue;
      }
      if (cmd.empty()) {
        fmt::print(stderr, "[chat] empty message: please say something\n");
        continue;
      }
      fmt::print("Assistant:");
      std::fflush(stdout);
      total += chat_turn(s, *tok, cmd, f.gen, rng, [](const std::string& t) {
                 std::fwrite(t.data(), 1, t.size(), stdout);
                 std::fflush(stdout);
               }).stats;
      fmt::print("\n\n");
      std::fflush(stdout);
    } catch (const Error& e) {
      // a bad /load or /save file must not end the conversation
      fmt::print(stderr, "error: {}\n", e.what());
    }
  }
  std::fflush(stdout);
  if (total.prompt_tokens + total.decode_tokens > 0) fmt::print(stderr, "{}\n", total.line());
  return 0;
}

static cli::Command reg{"chat", "chat with a model (World format), state kept between turns", run};
