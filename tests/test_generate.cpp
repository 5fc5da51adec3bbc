// test_generate.cpp — the generation loop (PIPELINE.generate semantics) on a hand-made model:
// a FakeRunner whose next token is predictable, so stops, bans, penalties, seeds, chunked
// prefill and the session's state bookkeeping can be checked exactly.
#include <cmath>
#include <cstring>
#include <set>

#include "core/error.h"
#include "engine/engine.h"
#include "infer/generate.h"
#include "test_util.h"

using namespace rwkv;

namespace {

// Byte tokenizer over ids 0..255 (decode of an id >= 256 throws, as a real tokenizer would).
struct ByteTok : Tokenizer {
  std::vector<int32_t> encode(std::string_view t) const override {
    std::vector<int32_t> r;
    for (unsigned char c : t) r.push_back(c);
    return r;
  }
  std::string decode(const int32_t* ids, size_t n) const override {
    std::string s;
    for (size_t i = 0; i < n; i++) {
      if (ids[i] < 0 || ids[i] >= 256) fail("tokenizer", "id {} outside the vocabulary", ids[i]);
      s += char(ids[i]);
    }
    return s;
  }
  int32_t vocab_size() const override { return 256; }
  std::string name() const override { return "test-bytes"; }
};

// vocab V; state "state.0.last" (1) = last token, "state.0.count" (1) = tokens seen.
// logits: `peak` at (last + 1) % mod, 0 elsewhere (flat when peak = 0). A Model, so it runs
// behind a real Engine (batching, state pool, logits) like the RWKV versions.
struct FakeModel : Model {
  float peak = 20.f;
  int mod = 128;  // successor = (last + 1) % mod
  mutable int64_t forward_calls = 0, max_T = 0;
  explicit FakeModel(int V) {
    cfg_.vocab_size = V;
    cfg_.n_layer = 1;
    cfg_.n_embd = 1;
    layout_.add("state.0.last", {1});
    layout_.add("state.0.count", {1});
  }
  void forward(const ModelBatch& b, Arena&) const override {
    forward_calls++;
    for (const SeqRun& r : b.runs) {
      max_T = std::max(max_T, r.n);
      r.state[0] = float(b.tokens[r.row0 + r.n - 1]);
      r.state[1] += float(r.n);
    }
    for (int64_t i = 0; i < b.R; i++) {
      float* l = b.logits + i * cfg_.vocab_size;
      for (int v = 0; v < cfg_.vocab_size; v++) l[v] = 0;
      l[(b.tokens[b.logit_rows[i]] + 1) % mod] = peak;
    }
  }
};

// The fake model in an engine; its knobs and counters reachable by name.
struct FakeRunner {
  FakeModel* m;
  Engine e;
  float& peak;
  int& mod;
  int64_t &forward_calls, &max_T;
  explicit FakeRunner(int V = 300)
      : m(new FakeModel(V)), e(std::unique_ptr<Model>(m)), peak(m->peak), mod(m->mod),
        forward_calls(m->forward_calls), max_T(m->max_T) {}
  operator const Engine&() const { return e; }
};

GenerateConfig greedy(int n) {
  GenerateConfig c;
  c.args.temperature = 0;
  c.args.alpha_frequency = c.args.alpha_presence = 0;
  c.max_tokens = n;
  return c;
}

}  // namespace

TEST(Generate, GreedyFollowsTheModelAndQueuesOutputInTheState) {
  FakeRunner r;
  ByteTok tok;
  Session s(r);
  Rng rng(1);
  std::string streamed;
  auto res = generate(s, tok, tok.encode("a"), greedy(5), rng, [&](const std::string& t) { streamed += t; });
  EXPECT_EQ(res.text, "bcdef");
  EXPECT_EQ(streamed, "bcdef");
  EXPECT_EQ(res.reason, StopReason::Length);
  // the state covers prompt + all 5 outputs once it is read
  EXPECT_EQ(s.state().items[1].second.ptr<float>()[0], 6.0f);
  EXPECT_EQ(s.state().items[0].second.ptr<float>()[0], float('f'));
}

TEST(Generate, StopStringCutsTheTextAndTokenStopEndsBeforeEmitting) {
  FakeRunner r;
  ByteTok tok;
  {
    Session s(r);
    Rng rng(1);
    auto c = greedy(50);
    c.stop = {"ef", "xyz"};
    auto res = generate(s, tok, tok.encode("a"), c, rng);
    EXPECT_EQ(res.text, "bcd");
    EXPECT_EQ(res.reason, StopReason::StopString);
    EXPECT_EQ(res.tokens.size(), 5u);  // 'f' completed the stop string
  }
  {
    Session s(r);
    Rng rng(1);
    auto c = greedy(50);
    c.args.token_stop = {'e'};
    auto res = generate(s, tok, tok.encode("a"), c, rng);
    EXPECT_EQ(res.text, "bcd");
    EXPECT_EQ(res.reason, StopReason::TokenStop);
    EXPECT_EQ(s.state().items[1].second.ptr<float>()[0], 4.0f);  // 'e' was not fed
  }
}

// A vocabulary without id 0 (the World one): token 0 is end-of-text and ends the generation;
// with a tokenizer that has text for 0 it is an ordinary token.
TEST(Generate, TokenZeroEndsTheTextWhenTheVocabularyHasNoId0) {
  struct NoZeroTok : ByteTok {
    std::string decode(const int32_t* ids, size_t n) const override {
      for (size_t i = 0; i < n; i++)
        if (ids[i] == 0) fail("tokenizer", "token id 0 is not in the vocabulary");
      return ByteTok::decode(ids, n);
    }
  } world_like;
  ByteTok bytes;
  FakeRunner r;  // successor (last + 1) % 128: after '~' (126) come 127, then 0
  for (const Tokenizer* tok : {static_cast<const Tokenizer*>(&world_like), static_cast<const Tokenizer*>(&bytes)}) {
    Session s(r);
    Rng rng(1);
    auto res = generate(s, *tok, tok->encode("~"), greedy(5), rng);
    if (tok == &world_like) {
      EXPECT_EQ(res.reason, StopReason::TokenStop);
      EXPECT_EQ(res.tokens, (std::vector<int32_t>{127}));
    } else {
      EXPECT_EQ(res.reason, StopReason::Length);
      EXPECT_EQ(res.tokens, (std::vector<int32_t>{127, 0, 1, 2, 3}));
    }
  }
}

TEST(Generate, BansAndUndecodableIdsAreNeverSampled) {
  FakeRunner r;
  r.peak = 0;  // flat distribution over 300 ids
  ByteTok tok;
  Session s(r);
  Rng rng(3);
  GenerateConfig c;
  c.args.top_p = 1;
  c.args.token_ban = {'q', 'r', 's'};
  c.max_tokens = 3000;
  auto res = generate(s, tok, tok.encode("x"), c, rng);
  ASSERT_EQ(res.tokens.size(), 3000u);
  for (int32_t t : res.tokens) {
    ASSERT_LT(t, 256);  // ids 256..299 cannot be decoded by the tokenizer
    ASSERT_TRUE(t != 'q' && t != 'r' && t != 's');
  }
}

TEST(Generate, SameSeedSameTextDifferentSeedDifferentText) {
  FakeRunner r;
  r.peak = 2;
  ByteTok tok;
  auto run = [&](uint32_t seed) {
    Session s(r);
    Rng rng(seed);
    GenerateConfig c;
    c.max_tokens = 64;
    c.args.top_p = 1;
    return generate(s, tok, tok.encode("hello"), c, rng).tokens;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(Generate, PresencePenaltyAvoidsRepeats) {
  // The model cycles through ids 0, 1, 2 (peak 1). Greedy decoding repeats the cycle; a
  // presence penalty of 5 (no decay) pushes every seen token below the unseen ones.
  FakeRunner r;
  r.peak = 1;
  r.mod = 3;
  ByteTok tok;
  Rng rng(1);
  Session s2(r);
  auto plain = generate(s2, tok, tok.encode("a"), greedy(9), rng);
  EXPECT_EQ(std::set<int32_t>(plain.tokens.begin(), plain.tokens.end()).size(), 3u);
  Session s(r);
  auto c = greedy(40);
  c.args.alpha_presence = 5;
  c.args.alpha_decay = 1;
  c.light_weights = false;
  auto res = generate(s, tok, tok.encode("a"), c, rng);
  ASSERT_EQ(res.tokens.size(), 40u);
  EXPECT_EQ(std::set<int32_t>(res.tokens.begin(), res.tokens.end()).size(), 40u);
}

TEST(Generate, LongPromptIsFedInChunks) {
  FakeRunner r;
  ByteTok tok;
  Session s(r);
  Rng rng(1);
  auto c = greedy(1);
  c.args.chunk_len = 7;
  std::string prompt(100, 'z');
  prompt += "a";
  auto res = generate(s, tok, tok.encode(prompt), c, rng);
  EXPECT_EQ(res.text, "b");
  EXPECT_EQ(r.max_T, 7);
  EXPECT_EQ(r.forward_calls, 15);  // ceil(101 / 7)
}

TEST(Generate, EmptyPromptAndBadValuesAreErrors) {
  FakeRunner r;
  ByteTok tok;
  Session s(r);
  Rng rng(1);
  EXPECT_THROW(generate(s, tok, {}, greedy(3), rng), Error);
  auto c = greedy(3);
  c.args.top_p = 2;
  EXPECT_THROW(generate(s, tok, tok.encode("a"), c, rng), Error);
  c = greedy(-1);
  EXPECT_THROW(generate(s, tok, tok.encode("a"), c, rng), Error);
  c = greedy(3);
  c.args.token_ban = {300};
  EXPECT_THROW(generate(s, tok, tok.encode("a"), c, rng), Error);
  EXPECT_THROW(s.feed(std::vector<int32_t>{300}), Error);
}

TEST(Chat, TurnFormatAndStopAtBlankLine) {
  EXPECT_EQ(chat_clean_message("  hi\n\n\nthere \r\n"), "hi\nthere");
  EXPECT_EQ(chat_clean_message(" \n "), "");
  FakeRunner r;
  ByteTok tok;
  Session s(r);
  Rng rng(1);
  EXPECT_THROW(chat_turn(s, tok, "   ", chat_defaults(), rng), Error);
  auto c = greedy(4);
  c.stop = {"\n\n"};
  auto res = chat_turn(s, tok, "hi", c, rng);
  // the prompt "User: hi\n\nAssistant:" ends in ':' -> greedy successors ";<=>"
  EXPECT_EQ(res.text, ";<=>");
  EXPECT_EQ(s.state().items[1].second.ptr<float>()[0], float(std::string("User: hi\n\nAssistant:").size() + 4));
}
