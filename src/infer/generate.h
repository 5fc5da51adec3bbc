// generate.h — the generation loop of the official PIPELINE.generate (bans, occurrence
// penalties, sample_logits, token_stop), streamed as complete UTF-8 and cut at stop strings;
// and the World-format chat turn built on it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "infer/sampler.h"
#include "infer/session.h"
#include "tokenizer/tokenizer.h"

namespace rwkv {

struct GenerateConfig {
  SamplerArgs args;
  int max_tokens = 100;            // token_count
  std::vector<std::string> stop;   // stop strings: the text ends before the first one
  bool light_weights = true;       // generate(): " \t0-9" tokens count 0 in occurrences; chat: all 1
  float ban_penalty = INFINITY;    // subtracted from banned logits (chat bans token 0 with 1e10)
  std::vector<std::pair<int32_t, float>> logit_bias;  // added to a token's logit (the API's logit_bias)
};

enum class StopReason { Length, TokenStop, StopString };
const char* stop_reason_name(StopReason r);  // "length", "token_stop", "stop"

// Speed of one generation, or of several added up (a chat session).
struct GenerateStats {
  int64_t prompt_tokens = 0;   // tokens run before the first sample (the prompt, and a chat's
  double prompt_seconds = 0;   // previous reply's last token)
  int64_t decode_tokens = 0;   // sampled tokens emitted
  double decode_seconds = 0;   // from the first sample to the end: forwards, sampling, output
  GenerateStats& operator+=(const GenerateStats& o);
  // "prompt: 16 tokens in 0.08 s, 200.0 tokens/s; decode: 100 tokens in 1.52 s, 65.8 tokens/s"
  std::string line() const;
};

struct GenerateResult {
  std::string text;              // emitted text (cut before a stop string)
  std::vector<int32_t> tokens;   // sampled tokens (without a token_stop token)
  StopReason reason = StopReason::Length;
  GenerateStats stats;
};

using TextCallback = std::function<void(const std::string&)>;

// Feeds `prompt` to the session (it may be empty when the session already has logits), then
// samples up to max_tokens tokens. Each sampled token (not a token_stop one) is queued in the
// session, so the session's state afterwards covers prompt + output. Ids the tokenizer cannot
// decode (>= its vocab size) are never sampled. on_text receives the text as it completes.
GenerateResult generate(Session& s, const Tokenizer& tok, const std::vector<int32_t>& prompt,
                        const GenerateConfig& cfg, Rng& rng, const TextCallback& on_text = {});

// Chat defaults of the official chat demo: temperature 1, top_p 0.3, presence 0.5,
// frequency 0.5, decay 0.996, token 0 banned, stop at "\n\n".
GenerateConfig chat_defaults();
// One chat turn: feeds "User: <msg>\n\nAssistant:" (msg trimmed, blank lines collapsed) and
// generates the reply up to "\n\n" (the reply's "\n\n" stays in the state, as the official).
// Throws "[chat] empty message" for an empty msg.
GenerateResult chat_turn(Session& s, const Tokenizer& tok, const std::string& msg,
                         const GenerateConfig& cfg, Rng& rng, const TextCallback& on_text = {});
std::string chat_clean_message(const std::string& msg);  // trimmed, "\n+" -> "\n", "\r\n" -> "\n"

}  // namespace rwkv
