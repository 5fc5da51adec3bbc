// openai_api.h — the OpenAI-style request bodies `rwkv serve` accepts (/v1/completions,
// /v1/chat/completions), checked field by field, and its error JSON. A bad field throws ApiError
// (HTTP status, message, the parameter's name), which the server sends as
// {"error": {"message", "type", "param", "code"}}.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infer/generate.h"
#include "tokenizer/tokenizer.h"

namespace rwkv {

struct ApiError : std::runtime_error {
  int status;
  std::string type, param, code;
  ApiError(int status, std::string param, const std::string& msg, std::string code = "",
           std::string type = "invalid_request_error")
      : std::runtime_error(msg), status(status), type(std::move(type)), param(std::move(param)), code(std::move(code)) {}
};
std::string error_json(const ApiError& e);

// RWKV's chat format: "System: ..." / "User: ..." / "Assistant: ..." turns, each message
// cleaned as the chat demo does (trimmed, blank lines collapsed), separated by a blank line,
// ending with "Assistant:" for the reply. Role names come from `roles` (system, user, assistant).
struct ChatTemplate {
  std::string system = "System", user = "User", assistant = "Assistant";
  std::string render(const nlohmann::json& messages) const;  // throws ApiError for bad messages
};

struct CompletionRequest {
  bool chat = false;
  std::string model;
  std::vector<int32_t> prompt;  // tokenized prompt (>= 1 token)
  GenerateConfig cfg;
  std::optional<uint32_t> seed;
  int n = 1;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a last chunk with the usage
  std::string state;           // "state": start from this state id (the state API)
  bool save_state = false;     // "save_state": keep the final state, reply with its id
  int logprobs = -1;           // completions: top-N (0..5); chat: 0 when "logprobs": true
  bool echo = false;
};

// Parses and checks a request body. vocab: the model's; tok: encodes the prompt.
CompletionRequest parse_completion_request(const nlohmann::json& body, bool chat, const Tokenizer& tok, int vocab,
                                           const ChatTemplate& tmpl);

}  // namespace rwkv
