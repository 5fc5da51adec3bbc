// openai_api.cpp — request parsing and errors of the OpenAI-style API (see openai_api.h).
#include "serve/openai_api.h"

#include <cmath>

namespace rwkv {

std::string error_json(const ApiError& e) {
  nlohmann::json j = {{"error",
                       {{"message", e.what()},
                        {"type", e.type},
                        {"param", e.param.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.param)},
                        {"code", e.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.code)}}}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ChatTemplate::render(const nlohmann::json& messages) const {
  if (!messages.is_array() || messages.empty())
    throw ApiError(400, "messages", "'messages' must be a non-empty array of {role, content}");
  std::string out;
  for (size_t i = 0; i < messages.size(); i++) {
    const auto& m = messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) throw ApiError(400, where, where + " must be an object");
    auto r = m.find("role");
    auto c = m.find("content");
    if (r == m.end() || !r->is_string()) throw ApiError(400, where + ".role", where + ".role must be a string");
    std::string content;
    if (c != m.end() && c->is_string()) content = c->get<std::string>();
    else if (c != m.end() && c->is_array()) {  // [{"type": "text", "text": ...}]
      for (const auto& part : *c)
        if (part.is_object() && part.value("type", "") == "text" && part.contains("text") && part["text"].is_string())
          content += part["text"].get<std::string>();
        else throw ApiError(400, where + ".content", where + ".content: only text parts are supported");
    } else if (c == m.end() || !c->is_null()) {
      throw ApiError(400, where + ".content", where + ".content must be a string");
    }
    const std::string role = r->get<std::string>();
    const std::string* name = role == "system" || role == "developer" ? &system
                              : role == "user"                       ? &user
                              : role == "assistant"                  ? &assistant
                                                                     : nullptr;
    if (!name) throw ApiError(400, where + ".role", where + ".role must be system, user or assistant, got '" + role + "'");
    out += *name + ": " + chat_clean_message(content) + "\n\n";
  }
  return out + assistant + ":";
}

namespace {

double number(const nlohmann::json& b, const char* key, double def, double lo, double hi) {
  auto it = b.find(key);
  if (it == b.end() || it->is_null()) return def;
  if (!it->is_number()) throw ApiError(400, key, std::string("'") + key + "' must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi)
    throw ApiError(400, key, std::string("'") + key + "' must be in [" + nlohmann::json(lo).dump() + ", " +
                                 nlohmann::json(hi).dump() + "], got " + it->dump());
  return v;
}

int64_t integer(const nlohmann::json& b, const char* key, int64_t def, int64_t lo, int64_t hi) {
  auto it = b.find(key);
  if (it == b.end() || it->is_null()) return def;
  if (!it->is_number_integer()) throw ApiError(400, key, std::string("'") + key + "' must be an integer");
  const int64_t v = it->get<int64_t>();
  if (v < lo || v > hi)
    throw ApiError(400, key, std::string("'") + key + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                 "], got " + std::to_string(v));
  return v;
}

bool boolean(const nlohmann::json& b, const char* key, bool def) {
  auto it = b.find(key);
  if (it == b.end() || it->is_null()) return def;
  if (!it->is_boolean()) throw ApiError(400, key, std::string("'") + key + "' must be true or false");
  return it->get<bool>();
}

}  // namespace

CompletionRequest parse_completion_request(const nlohmann::json& b, bool chat, const Tokenizer& tok, int vocab,
                                           const ChatTemplate& tmpl) {
  if (!b.is_object()) throw ApiError(400, "", "the request body must be a JSON object");
  CompletionRequest r;
  r.chat = chat;
  if (b.contains("model") && !b["model"].is_string()) throw ApiError(400, "model", "'model' must be a string");
  r.model = b.value("model", "");
  // sampler: the pip package's PIPELINE defaults for completions, the chat demo's for chat
  r.cfg = chat ? chat_defaults() : GenerateConfig{};
  if (chat) {  // stop at the next user turn and at token 0 (no ban: 0 ends the reply)
    r.cfg.stop = {"\n\n" + tmpl.user + ":"};
    r.cfg.args.token_ban.clear();
    r.cfg.args.token_stop = {0};
    r.cfg.ban_penalty = INFINITY;
  } else {
    r.cfg.max_tokens = 16;              // OpenAI's default for completions
    r.cfg.args.token_stop = {0};        // token 0 ends a document: the completion stops there
  }
  SamplerArgs& a = r.cfg.args;
  a.temperature = float(number(b, "temperature", a.temperature, 0, 5));
  a.top_p = float(number(b, "top_p", a.top_p, 0, 1));
  a.top_k = int(integer(b, "top_k", a.top_k, 0, vocab));
  a.alpha_presence = number(b, "presence_penalty", a.alpha_presence, -2, 2);
  a.alpha_frequency = number(b, "frequency_penalty", a.alpha_frequency, -2, 2);
  a.alpha_decay = number(b, "penalty_decay", a.alpha_decay, 0, 1);
  const char* max_key = b.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  r.cfg.max_tokens = int(integer(b, max_key, r.cfg.max_tokens, 0, 1 << 20));
  r.n = int(integer(b, "n", 1, 1, 16));
  r.stream = boolean(b, "stream", false);
  if (auto so = b.find("stream_options"); so != b.end() && !so->is_null()) {
    if (!so->is_object()) throw ApiError(400, "stream_options", "'stream_options' must be an object");
    r.include_usage = boolean(*so, "include_usage", false);
  }
  if (auto st = b.find("state"); st != b.end() && !st->is_null()) {
    if (!st->is_string()) throw ApiError(400, "state", "'state' must be a state id (string)");
    r.state = st->get<std::string>();
  }
  r.save_state = boolean(b, "save_state", false);
  r.echo = boolean(b, "echo", false);
  if (b.contains("seed") && !b["seed"].is_null()) r.seed = uint32_t(integer(b, "seed", 0, INT64_MIN, INT64_MAX) & 0xffffffff);
  if (chat) {
    if (boolean(b, "logprobs", false)) r.logprobs = int(integer(b, "top_logprobs", 0, 0, 20));
    if (r.echo) throw ApiError(400, "echo", "'echo' is for /v1/completions");
  } else {
    r.logprobs = int(integer(b, "logprobs", -1, 0, 5));
  }
  if (auto s = b.find("stop"); s != b.end() && !s->is_null()) {
    std::vector<std::string> stops;
    if (s->is_string()) stops.push_back(s->get<std::string>());
    else if (s->is_array()) {
      for (const auto& x : *s) {
        if (!x.is_string()) throw ApiError(400, "stop", "'stop' must be a string or an array of strings");
        stops.push_back(x.get<std::string>());
      }
    } else throw ApiError(400, "stop", "'stop' must be a string or an array of strings");
    if (stops.size() > 16) throw ApiError(400, "stop", "'stop' takes at most 16 strings");
    for (auto& x : stops)
      if (x.empty()) throw ApiError(400, "stop", "a stop string must not be empty");
    r.cfg.stop.insert(r.cfg.stop.end(), stops.begin(), stops.end());
  }
  if (auto lb = b.find("logit_bias"); lb != b.end() && !lb->is_null()) {
    if (!lb->is_object()) throw ApiError(400, "logit_bias", "'logit_bias' must be an object {token id: bias}");
    for (auto& [k, v] : lb->items()) {
      char* end = nullptr;
      const long id = std::strtol(k.c_str(), &end, 10);
      if (k.empty() || *end || id < 0 || id >= vocab)
        throw ApiError(400, "logit_bias", "logit_bias key '" + k + "' is not a token id in [0, " + std::to_string(vocab) + ")");
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < -100 || v.get<double>() > 100)
        throw ApiError(400, "logit_bias", "logit_bias values must be numbers in [-100, 100]");
      r.cfg.logit_bias.emplace_back(int32_t(id), float(v.get<double>()));
    }
  }
  // the prompt
  if (chat) {
    if (!b.contains("messages")) throw ApiError(400, "messages", "'messages' is required");
    r.prompt = tok.encode(tmpl.render(b["messages"]));
  } else {
    auto p = b.find("prompt");
    if (p == b.end()) throw ApiError(400, "prompt", "'prompt' is required");
    if (p->is_string()) r.prompt = tok.encode(p->get<std::string>());
    else if (p->is_array() && !p->empty() && (*p)[0].is_number_integer()) {
      for (const auto& t : *p) {
        if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= vocab)
          throw ApiError(400, "prompt", "prompt token ids must be integers in [0, " + std::to_string(vocab) + ")");
        r.prompt.push_back(int32_t(t.get<int64_t>()));
      }
    } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
      r.prompt = tok.encode((*p)[0].get<std::string>());
    } else {
      throw ApiError(400, "prompt", "'prompt' must be a string, an array of token ids, or an array of one string");
    }
  }
  if (r.prompt.empty()) throw ApiError(400, chat ? "messages" : "prompt", "the prompt is empty");
  for (int32_t t : r.prompt)
    if (t < 0 || t >= vocab) throw ApiError(400, "prompt", "the prompt has a token outside the model's vocabulary");
  try {
    a.validate(vocab);
  } catch (const std::exception& e) {
    throw ApiError(400, "", e.what());
  }
  return r;
}

}  // namespace rwkv
