// server.h — `rwkv serve`: an OpenAI-compatible HTTP server (cpp-httplib) over the engine and the
// continuous-batching scheduler. Routes: POST /v1/completions, POST /v1/chat/completions (both
// with "stream"), GET /v1/models, GET /health, GET /metrics (Prometheus text). docs/serve.md.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "engine/engine.h"
#include "serve/openai_api.h"

namespace rwkv {

struct ServeOptions {
  std::string model, tokenizer;
  EngineOptions engine;    // dtype, RWKV-2's K_EPS (row_invariant is always set by the server)
  std::string host = "127.0.0.1";
  int port = 8000;         // 0: any free port (printed)
  int slots = 8, max_queue = 64, chunk_len = 256, threads = 0, http_threads = 96;
  std::string api_key;     // non-empty: every /v1 route needs "Authorization: Bearer <key>"
  size_t max_body = 8u << 20;  // bytes; larger bodies get 413 (a state upload is a body too)
  size_t cache_mb = 256;      // prefix-state cache budget (0: off)
  std::string runs;           // training runs folder for the runs view (serve/runs_view.h); empty: none
  ChatTemplate chat;
};

// Loads the model, listens, serves until SIGINT/SIGTERM (then stops accepting, cancels what is
// in flight and returns 0). on_listening(port) runs once the socket is bound.
int run_server(const ServeOptions& opt, const std::function<void(int port)>& on_listening = {});

}  // namespace rwkv
