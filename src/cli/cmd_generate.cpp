// cmd_generate.cpp — `rwkv generate`: sample text from a model as the official
// PIPELINE.generate does, streamed to stdout as complete UTF-8; the prompt and decode speed
// (tokens/s) at the end on stderr.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/infer_flags.h"
#include "core/input_file.h"
#include "infer/session.h"

using namespace rwkv;

static int run(int argc, char** argv) {
  CLI::App app{"Generate text from a prompt (--prompt, --prompt-file, or stdin)."};
  cli::InferFlags f;
  f.add_model(app);
  std::string prompt, prompt_file, state_in, state_out;
  bool have_prompt = false;
  auto* po = app.add_option("--prompt", prompt, "prompt text");
  app.add_option("--prompt-file", prompt_file, "read the prompt from this file")->excludes(po);
  app.add_option("--tokens", f.gen.max_tokens, "number of tokens to generate")->capture_default_str();
  f.add_sampler(app);
  app.add_option("--state-in,--state", state_in, "start from this state file (chat /save, forward --state_out, train --train_type state)");
  app.add_option("--state-out", state_out, "save the state after generation (prompt + output)");
  int code = 0;
  if (!cli::parse(app, argc, argv, &code)) return code;
  have_prompt = po->count() > 0;

  if (!prompt_file.empty()) {
    prompt = read_input_file(prompt_file, "generate", "prompt file");
  } else if (!have_prompt && state_in.empty()) {
    if (isatty(0)) fmt::print(stderr, "reading the prompt from stdin (end with Ctrl-D)\n");
    std::stringstream ss;
    ss << std::cin.rdbuf();
    prompt = ss.str();
  }

  auto engine = f.load();
  auto tok = f.make_tok(*engine);
  f.gen.args.validate(engine->vocab_size());
  Session s(*engine, f.gen.args.chunk_len);
  if (!state_in.empty()) s.load(state_in);
  std::vector<int32_t> ids = tok->encode(prompt);
  if (ids.empty() && !s.has_logits())
    fail("generate", "empty prompt: give --prompt, --prompt-file or text on stdin "
         "(or --state-in with a state saved after at least one token)");
  Rng rng(f.seed_value());
  auto res = generate(s, *tok, ids, f.gen, rng, [](const std::string& t) {
    std::fwrite(t.data(), 1, t.size(), stdout);
    std::fflush(stdout);
  });
  if (!state_out.empty()) s.save(state_out);
  if (!res.text.empty() && res.text.back() != '\n' && isatty(1)) std::fputc('\n', stdout);
  std::fflush(stdout);
  fmt::print(stderr, "{}\n", res.stats.line());
  return 0;
}

static cli::Command reg{"generate", "generate text from a prompt (sampling as the rwkv pip package)", run};
