// cmd_serve.cpp — `rwkv serve --model M [--port 8000] ...`: the OpenAI-compatible server
// (serve/server.h, docs/serve.md). Prints "listening on http://HOST:PORT" once bound.
#include <cstdio>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/infer_flags.h"
#include "serve/server.h"

using namespace rwkv;

static int run(int argc, char** argv) {
  CLI::App app{"Serve a model over an OpenAI-compatible HTTP API with continuous batching (docs/serve.md)."};
  ServeOptions o;
  cli::InferFlags f;  // --model, --dtype, --threads, --tokenizer, --k_eps
  f.add_model(app);
  app.add_option("--host", o.host, "address to listen on")->capture_default_str();
  app.add_option("--port", o.port, "port (0: any free port, printed)")->capture_default_str();
  app.add_option("--slots", o.slots, "sequences generated at once (state slots)")->capture_default_str();
  app.add_option("--queue", o.max_queue, "requests waiting for a slot before 503")->capture_default_str();
  app.add_option("--chunk_len", o.chunk_len, "prompt tokens per sequence per step (prefill chunk)")->capture_default_str();
  app.add_option("--api-key,--api_key", o.api_key, "require 'Authorization: Bearer KEY' on /v1 routes");
  app.add_option("--max_body", o.max_body, "largest request body in bytes (413 beyond)")->capture_default_str();
  app.add_option("--cache_mb", o.cache_mb, "prefix-state cache budget in MiB (0: off)")->capture_default_str();
  app.add_option("--runs", o.runs, "a folder of training runs to show at /runs (curves updating live)");
  app.add_option("--chat_roles", [&](const std::vector<std::string>& v) {
       if (v.size() != 3) return false;
       o.chat.system = v[0], o.chat.user = v[1], o.chat.assistant = v[2];
       return true;
     }, "names of the system, user and assistant turns in the chat prompt (default System,User,Assistant)")
      ->delimiter(',')->expected(3);
  int code = 0;
  if (!cli::parse(app, argc, argv, &code)) return code;
  o.model = f.model;
  o.tokenizer = f.tokenizer;
  o.threads = f.threads;
  o.engine = f.engine_options();
  return run_server(o, [&](int port) {
    fmt::print("rwkv serve: listening on http://{}:{}\n", o.host, port);
    std::fflush(stdout);
  });
}

static cli::Command reg{"serve", "OpenAI-compatible HTTP server with continuous batching", run};
