// generate.cpp — see generate.h.
#include "infer/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "infer/decoder.h"

namespace rwkv {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::Length: return "length";
    case StopReason::TokenStop: return "token_stop";
    case StopReason::StopString: return "stop";
  }
  return "?";
}

GenerateStats& GenerateStats::operator+=(const GenerateStats& o) {
  prompt_tokens += o.prompt_tokens;
  prompt_seconds += o.prompt_seconds;
  decode_tokens += o.decode_tokens;
  decode_seconds += o.decode_seconds;
  return *this;
}

std::string GenerateStats::line() const {
  auto part = [](const char* name, int64_t n, double sec) {
    std::string r = fmt::format("{}: {} token{}", name, n, n == 1 ? "" : "s");
    if (n > 0) r += fmt::format(" in {:.2f} s, {:.1f} tokens/s", sec, sec > 0 ? double(n) / sec : 0.0);
    return r;
  };
  return part("prompt", prompt_tokens, prompt_seconds) + "; " + part("decode", decode_tokens, decode_seconds);
}

GenerateResult generate(Session& s, const Tokenizer& tok, const std::vector<int32_t>& prompt,
                        const GenerateConfig& cfg, Rng& rng, const TextCallback& on_text) {
  const int V = s.vocab_size();
  cfg.args.validate(V);
  if (cfg.max_tokens < 0) fail("sampler", "the number of tokens to generate must be >= 0, got {}", cfg.max_tokens);
  s.set_chunk_len(cfg.args.chunk_len);
  if (!prompt.empty()) s.feed(prompt);
  if (!s.has_logits())
    fail("generate", "empty prompt: give a non-empty prompt (or a state file saved with logits)");

  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  GenerateResult res;
  res.stats.prompt_tokens = int64_t(s.pending());
  auto t0 = Clock::now();
  (void)s.logits();  // the prefill
  res.stats.prompt_seconds = since(t0);
  t0 = Clock::now();
  Decoder dec(cfg, tok, V, rng);
  auto emit = [&](const std::string& out) {
    if (out.empty()) return;
    res.text += out;
    if (on_text) on_text(out);
  };
  for (int i = 0; i < cfg.max_tokens; i++) {
    const int32_t token = dec.sample(s.logits().data());
    if (dec.is_stop_token(token)) {
      res.reason = StopReason::TokenStop;
      break;
    }
    res.tokens.push_back(token);
    s.feed(&token, 1);
    emit(dec.accept(token));
    if (dec.stopped()) {
      res.reason = StopReason::StopString;
      break;
    }
  }
  emit(dec.finish());
  res.stats.decode_tokens = int64_t(res.tokens.size());
  res.stats.decode_seconds = since(t0);
  return res;
}

GenerateConfig chat_defaults() {
  GenerateConfig c;
  c.args.temperature = 1.0f;
  c.args.top_p = 0.3f;
  c.args.alpha_presence = 0.5;
  c.args.alpha_frequency = 0.5;
  c.args.alpha_decay = 0.996;
  c.args.token_ban = {0};
  c.ban_penalty = 1e10f;
  c.light_weights = false;
  c.max_tokens = 1000;
  c.stop = {"\n\n"};
  return c;
}

std::string chat_clean_message(const std::string& msg) {
  std::string m;
  for (size_t i = 0; i < msg.size(); i++) {
    if (msg[i] == '\r' && i + 1 < msg.size() && msg[i + 1] == '\n') continue;
    if (msg[i] == '\n' && !m.empty() && m.back() == '\n') continue;
    m += msg[i];
  }
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  size_t b = 0, e = m.size();
  while (b < e && ws(m[b])) b++;
  while (e > b && ws(m[e - 1])) e--;
  return m.substr(b, e - b);
}

GenerateResult chat_turn(Session& s, const Tokenizer& tok, const std::string& msg,
                         const GenerateConfig& cfg, Rng& rng, const TextCallback& on_text) {
  std::string m = chat_clean_message(msg);
  if (m.empty()) fail("chat", "empty message: please say something");
  std::vector<int32_t> p = tok.encode("User: " + m + "\n\nAssistant:");
  return generate(s, tok, p, cfg, rng, on_text);
}

}  // namespace rwkv
