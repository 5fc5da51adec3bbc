// tokenizer_for_model.h — picks the tokenizer for a model: the one asked for, or the one its
// vocabulary size implies (65536 -> World, 50277 -> the 20B BPE), and refuses a tokenizer whose
// ids do not fit the model's vocabulary.
#pragma once
#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"

namespace rwkv {

// The make_tokenizer spec a model of `vocab_size` uses: "world" for 65536, the 20B
// tokenizer.json from assets/ for 50277; "" when the size implies none.
std::string guess_tokenizer_spec(int vocab_size);

// spec empty: guessed from vocab_size ("[tokenizer] ..." when it cannot be). Then
// make_tokenizer(spec), refused ("[tokenizer] ...") when its vocabulary is larger than the model's.
std::unique_ptr<Tokenizer> make_tokenizer_for_model(const std::string& spec, int vocab_size);

}  // namespace rwkv
