// choice.h — multiple choice: each line {"context": str, "choices": [str], "answer": int}. The
// input is [0] + enc(context), then each choice tokenized on its own (write the leading space
// into the choice, as " Paris"). The context is prefilled once; every choice continues from a
// copy of its state. A choice scores the summed log-likelihood of its tokens; acc picks the
// largest sum, acc_norm the largest sum per UTF-8 byte of the choice (lm-eval's acc_norm).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

namespace rwkv {

struct ChoiceItem {
  std::vector<int32_t> context;               // [0] + enc(context)
  std::vector<std::vector<int32_t>> choices;  // enc(choice), each >= 1 token
  std::vector<int64_t> choice_bytes;
  int answer = 0;
};

struct ChoiceResult {
  std::vector<double> ll;  // per choice
  int pred = 0, pred_norm = 0;  // argmax of ll, of ll / bytes (first on ties)
};

// Scores one item through the engine: one call for the context, one for all its choices.
ChoiceResult score_choice(const Engine& engine, const ChoiceItem& item);

}  // namespace rwkv
