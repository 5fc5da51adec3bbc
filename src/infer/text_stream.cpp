// text_stream.cpp — see text_stream.h.
#include "infer/text_stream.h"

#include <algorithm>

namespace rwkv {

// Expected length of a sequence from its lead byte; 0 for a byte that cannot start one.
static int utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

size_t utf8_complete_prefix(std::string_view s) {
  // Only the last (up to 3) bytes can be an incomplete sequence.
  size_t n = s.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); back++) {
    unsigned char c = s[n - back];
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back for the lead
    int len = utf8_len(c);
    if (len > int(back)) {
      // lead byte with fewer continuation bytes than it needs: check they fit so far
      for (size_t i = n - back + 1; i < n; i++)
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return n;
      // second-byte range restrictions (overlong / surrogates / > U+10FFFF) make it invalid
      if (back >= 2) {
        unsigned char c1 = s[n - back + 1];
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
            (c == 0xF4 && c1 > 0x8F))
          return n;
      }
      return n - back;
    }
    return n;
  }
  return n;
}

std::string Utf8Stream::push(std::string_view bytes) {
  pending_.append(bytes);
  size_t k = utf8_complete_prefix(pending_);
  std::string out = pending_.substr(0, k);
  pending_.erase(0, k);
  return out;
}

std::string Utf8Stream::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

std::string StopMatcher::push(std::string_view text) {
  if (stopped_) return {};
  held_.append(text);
  // earliest complete stop string
  size_t best = std::string::npos;
  for (auto& s : stops_) {
    size_t p = held_.find(s);
    if (p != std::string::npos && (best == std::string::npos || p < best || (p == best && s.size() > matched_.size()))) {
      best = p;
      matched_ = s;
    }
  }
  if (best != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, best);
    held_.clear();
    return out;
  }
  // hold back the longest suffix that is a proper prefix of some stop string
  size_t hold = 0;
  for (auto& s : stops_)
    for (size_t k = std::min(s.size() - 1, held_.size()); k > hold; k--)
      if (held_.compare(held_.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
  std::string out = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  if (stopped_) return {};
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace rwkv
