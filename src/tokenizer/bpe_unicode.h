// bpe_unicode.h — the little Unicode the 20B BPE tokenizer needs: UTF-8 <-> code points (invalid
// bytes survive a round trip), general category letter/number and White_Space (for the GPT-2
// pre-tokenizer split), and NFC normalisation. Tables are generated (bpe_unicode_classes.cpp,
// bpe_unicode_nfc.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rwkv::unicode {

// Code points of a UTF-8 string. A byte that does not start a valid sequence becomes
// kRawByteBase + byte, which to_utf8() writes back as that byte (never a real code point).
inline constexpr char32_t kRawByteBase = 0x110000;
std::u32string from_utf8(std::string_view s);
std::string to_utf8(std::u32string_view s);
void append_utf8(std::string& out, char32_t cp);

enum Category : uint8_t { kOther = 0, kLetter = 1, kNumber = 2 };
Category category(char32_t cp);  // \p{L} -> kLetter, \p{N} -> kNumber
bool is_whitespace(char32_t cp);  // the White_Space property (regex \s)
uint8_t combining_class(char32_t cp);

// Unicode Normalization Form C (canonical decomposition, reordering, canonical composition).
std::u32string nfc(std::u32string_view s);

namespace unicode_data {
struct Range { uint32_t first, last, value; };
struct Decomp { uint32_t cp, first, second; };  // second == 0: singleton decomposition
struct Comp { uint32_t first, second, composite; };
extern const Range kCategory[];
extern const size_t kCategory_size;
extern const Range kCombiningClass[];
extern const size_t kCombiningClass_size;
extern const Decomp kDecomposition[];
extern const size_t kDecomposition_size;
extern const Comp kComposition[];
extern const size_t kComposition_size;
}  // namespace unicode_data

}  // namespace rwkv::unicode
