// web_page.h — the chat page `rwkv serve` answers at `/`: one self-contained HTML document
// (inline CSS and plain JS, no CDN, works offline) that streams replies from
// /v1/chat/completions, with a stop button, a parameters panel and tokens/s.
#pragma once

namespace rwkv {

extern const char* const kChatPageHtml;

}  // namespace rwkv
