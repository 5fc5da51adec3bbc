// bpe_unicode.cpp — UTF-8 decoding/encoding, category and White_Space lookup, and NFC for the
// 20B BPE tokenizer. Hand-written because no packaged library among the project's dependencies
// offers Unicode categories or normalisation; the tables are generated from the Unicode data
// (scripts/gen_unicode_tables.py -> bpe_unicode_classes.cpp, bpe_unicode_nfc.cpp).
#include "tokenizer/bpe_unicode.h"

#include <algorithm>

namespace rwkv::unicode {
namespace {

using namespace unicode_data;

// Hangul syllable arithmetic (Unicode ch. 3.12).
constexpr char32_t SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
constexpr int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

uint32_t range_value(const Range* r, size_t n, char32_t cp) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (r[mid].last < cp) lo = mid + 1;
    else hi = mid;
  }
  return (lo < n && r[lo].first <= cp && cp <= r[lo].last) ? r[lo].value : 0;
}

const Decomp* find_decomp(char32_t cp) {
  auto it = std::lower_bound(kDecomposition, kDecomposition + kDecomposition_size, cp,
                             [](const Decomp& d, char32_t c) { return d.cp < c; });
  return (it != kDecomposition + kDecomposition_size && it->cp == cp) ? it : nullptr;
}

void decompose(char32_t cp, std::u32string& out) {
  if (cp >= SBase && cp < SBase + SCount) {
    int s = int(cp - SBase);
    out.push_back(LBase + s / NCount);
    out.push_back(VBase + (s % NCount) / TCount);
    if (s % TCount) out.push_back(TBase + s % TCount);
    return;
  }
  const Decomp* d = cp < kRawByteBase ? find_decomp(cp) : nullptr;
  if (!d) {
    out.push_back(cp);
    return;
  }
  decompose(d->first, out);
  if (d->second) decompose(d->second, out);
}

// Primary composite of (a, b), or 0.
char32_t compose(char32_t a, char32_t b) {
  if (a >= LBase && a < LBase + LCount && b >= VBase && b < VBase + VCount)
    return SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
  if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && b > TBase && b < TBase + TCount)
    return a + (b - TBase);
  auto it = std::lower_bound(kComposition, kComposition + kComposition_size, std::pair(a, b),
                             [](const Comp& c, std::pair<char32_t, char32_t> k) {
                               return c.first != k.first ? c.first < k.first : c.second < k.second;
                             });
  if (it != kComposition + kComposition_size && it->first == a && it->second == b) return it->composite;
  return 0;
}

}  // namespace

std::u32string from_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; k++) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      out.push_back(kRawByteBase + c);
      i++;
    } else {
      out.push_back(cp);
      i += len;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp >= kRawByteBase) {
    out.push_back(char(cp - kRawByteBase));
  } else if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) append_utf8(out, cp);
  return out;
}

Category category(char32_t cp) {
  if (cp < 0x80) {
    if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return kLetter;
    return (cp >= '0' && cp <= '9') ? kNumber : kOther;
  }
  if (cp >= kRawByteBase) return kOther;
  return Category(range_value(kCategory, kCategory_size, cp));
}

bool is_whitespace(char32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

uint8_t combining_class(char32_t cp) {
  if (cp < 0x300 || cp >= kRawByteBase) return 0;
  return uint8_t(range_value(kCombiningClass, kCombiningClass_size, cp));
}

std::u32string nfc(std::u32string_view s) {
  // Nothing below U+0300 decomposes, and nothing below it is the second half of a composition.
  if (std::all_of(s.begin(), s.end(), [](char32_t c) { return c < 0x300 || c >= kRawByteBase; }))
    return std::u32string(s);
  std::u32string d;
  d.reserve(s.size() + 8);
  for (char32_t c : s) decompose(c, d);
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < d.size();) {
    if (combining_class(d[i]) == 0) { i++; continue; }
    size_t j = i;
    while (j < d.size() && combining_class(d[j]) != 0) j++;
    std::stable_sort(d.begin() + i, d.begin() + j,
                     [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    i = j;
  }
  // Canonical composition.
  std::u32string out;
  out.reserve(d.size());
  ptrdiff_t starter = -1;
  uint8_t last_cc = 0;
  for (char32_t c : d) {
    uint8_t cc = combining_class(c);
    if (starter >= 0) {
      bool adjacent = ptrdiff_t(out.size()) - 1 == starter;
      bool blocked = !adjacent && (last_cc == 0 || last_cc >= cc);
      if (!blocked) {
        if (char32_t comp = compose(out[starter], c)) {
          out[starter] = comp;
          continue;
        }
      }
    }
    if (cc == 0) starter = ptrdiff_t(out.size());
    last_cc = cc;
    out.push_back(c);
  }
  return out;
}

}  // namespace rwkv::unicode
