// tokenizer_for_model.cpp — see tokenizer_for_model.h.
#include "tokenizer/tokenizer_for_model.h"

#include "core/assets.h"
#include "core/error.h"

namespace rwkv {

std::string guess_tokenizer_spec(int vocab_size) {
  if (vocab_size == 65536) return "world";
  if (vocab_size == 50277) return "20b";
  return "";
}

std::unique_ptr<Tokenizer> make_tokenizer_for_model(const std::string& spec, int vocab_size) {
  std::string s = spec.empty() ? guess_tokenizer_spec(vocab_size) : spec;
  if (s.empty())
    fail("tokenizer", "no tokenizer is known for a vocabulary of {} tokens (65536: world, 50277: 20B); "
         "pass --tokenizer", vocab_size);
  auto t = make_tokenizer(s);
  if (t->vocab_size() > vocab_size)
    fail("tokenizer", "tokenizer {} has {} tokens but the model's vocabulary has only {}", t->name(),
         t->vocab_size(), vocab_size);
  return t;
}

}  // namespace rwkv
