// web_page.cpp — the chat page's HTML, CSS and JS (see web_page.h), embedded as text.
#include "serve/web_page.h"

namespace rwkv {

const char* const kChatPageHtml = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rwkv chat</title>
<style>
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: #1d2330; background: #f4f5f7; display: flex; height: 100vh; }
  main { flex: 1; display: flex; flex-direction: column; min-width: 0; }
  header { padding: 10px 16px; background: #1d2330; color: #fff; display: flex; gap: 12px; align-items: baseline; }
  header b { font-size: 17px; }
  header span { opacity: .75; font-size: 13px; }
  #log { flex: 1; overflow-y: auto; padding: 16px; display: flex; flex-direction: column; gap: 10px; }
  .msg { max-width: 80%; padding: 8px 12px; border-radius: 10px; white-space: pre-wrap; word-wrap: break-word; }
  .user { align-self: flex-end; background: #2f6fed; color: #fff; }
  .assistant { align-self: flex-start; background: #fff; border: 1px solid #d8dbe2; }
  .error { align-self: center; background: #fde8e8; color: #8a1c1c; }
  form { display: flex; gap: 8px; padding: 12px 16px; background: #fff; border-top: 1px solid #d8dbe2; }
  textarea { flex: 1; resize: none; height: 52px; padding: 8px; font: inherit; border: 1px solid #c4c8d2; border-radius: 8px; }
  button { padding: 0 16px; font: inherit; border: 0; border-radius: 8px; background: #2f6fed; color: #fff; cursor: pointer; }
  button:disabled { background: #9db6ee; cursor: default; }
  #stop { background: #c23b3b; }
  #stop:disabled { background: #e3aaaa; }
  aside { width: 250px; padding: 16px; background: #fff; border-left: 1px solid #d8dbe2; font-size: 13px; }
  aside h2 { font-size: 14px; margin: 0 0 10px; }
  aside label { display: block; margin: 10px 0 2px; }
  aside input { width: 100%; padding: 4px 6px; font: inherit; }
  #stats { margin-top: 16px; color: #49505f; }
</style>
</head>
<body>
<main>
  <header><b>rwkv chat</b><span id="model">…</span><a href="/runs" style="margin-left:auto;color:#9db6ee">runs</a></header>
  <div id="log" aria-live="polite"></div>
  <form id="form">
    <textarea id="input" placeholder="Say something (Enter sends, Shift+Enter: new line)"></textarea>
    <button id="send" type="submit">Send</button>
    <button id="stop" type="button" disabled>Stop</button>
  </form>
</main>
<aside>
  <h2>Parameters</h2>
  <label for="temperature">temperature</label><input id="temperature" type="number" step="0.1" min="0" max="5" value="1">
  <label for="top_p">top_p</label><input id="top_p" type="number" step="0.05" min="0" max="1" value="0.3">
  <label for="max_tokens">max_tokens</label><input id="max_tokens" type="number" step="1" min="1" value="500">
  <label for="presence_penalty">presence_penalty</label><input id="presence_penalty" type="number" step="0.1" value="0.5">
  <label for="frequency_penalty">frequency_penalty</label><input id="frequency_penalty" type="number" step="0.1" value="0.5">
  <label for="system">system prompt</label><input id="system" type="text" value="">
  <label for="apikey">API key (if the server has one)</label><input id="apikey" type="password" value="">
  <div id="stats">tokens/s: <span id="tps">–</span><br>tokens: <span id="ntok">–</span><br>cached: <span id="cached">–</span></div>
  <p><button id="clear" type="button">New chat</button></p>
</aside>
<script>
'use strict';
const $ = (id) => document.getElementById(id);
const history = [];
let controller = null;

function headers() {
  const h = { 'Content-Type': 'application/json' };
  if ($('apikey').value) h['Authorization'] = 'Bearer ' + $('apikey').value;
  return h;
}
function add(role, text) {
  const d = document.createElement('div');
  d.className = 'msg ' + role;
  d.textContent = text;
  $('log').appendChild(d);
  $('log').scrollTop = $('log').scrollHeight;
  return d;
}
function busy(on) {
  $('send').disabled = on;
  $('stop').disabled = !on;
}
fetch('/v1/models', { headers: headers() }).then((r) => r.json()).then((j) => {
  $('model').textContent = j.data ? j.data[0].id : '';
}).catch(() => {});

async function send(text) {
  history.push({ role: 'user', content: text });
  add('user', text);
  const out = add('assistant', '');
  const messages = $('system').value ? [{ role: 'system', content: $('system').value }, ...history] : history;
  const body = {
    messages, stream: true, stream_options: { include_usage: true },
    temperature: +$('temperature').value, top_p: +$('top_p').value, max_tokens: +$('max_tokens').value,
    presence_penalty: +$('presence_penalty').value, frequency_penalty: +$('frequency_penalty').value,
  };
  controller = new AbortController();
  busy(true);
  // the reply is drawn once per frame, appending only what is new: setting the whole text and
  // reading the scroll height per token costs O(length) each and freezes the page on a long,
  // fast reply
  let reply = '', shown = 0, frame = 0, tokens = 0, t0 = 0;
  const draw = () => {
    frame = 0;
    if (shown < reply.length) { out.append(reply.slice(shown)); shown = reply.length; }
    const s = (performance.now() - t0) / 1000;
    if (t0 && s > 0) $('tps').textContent = (tokens / s).toFixed(1);
    $('log').scrollTop = $('log').scrollHeight;
  };
  try {
    const r = await fetch('/v1/chat/completions', { method: 'POST', headers: headers(), body: JSON.stringify(body), signal: controller.signal });
    if (!r.ok) {
      const e = await r.json().catch(() => ({}));
      throw new Error((e.error && e.error.message) || ('HTTP ' + r.status));
    }
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (!ev.startsWith('data: ')) continue;
        const data = ev.slice(6);
        if (data === '[DONE]') continue;
        const j = JSON.parse(data);
        if (j.error) throw new Error(j.error.message);
        if (j.usage) {
          $('ntok').textContent = j.usage.completion_tokens;
          $('cached').textContent = j.usage.prompt_tokens_details ? j.usage.prompt_tokens_details.cached_tokens : 0;
        }
        for (const c of j.choices || []) {
          const piece = (c.delta && c.delta.content) || '';
          if (!piece) continue;
          if (!t0) t0 = performance.now();
          reply += piece;
          tokens++;
          if (!frame) frame = requestAnimationFrame(draw);
        }
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') add('error', String(e.message || e));
  } finally {
    if (frame) cancelAnimationFrame(frame);
    draw();
    history.push({ role: 'assistant', content: reply });
    controller = null;
    busy(false);
    out.dataset.done = '1';
  }
}
$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('input').value.trim();
  if (!text || controller) return;
  $('input').value = '';
  send(text);
});
$('input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('form').requestSubmit(); }
});
$('stop').addEventListener('click', () => { if (controller) controller.abort(); });
$('clear').addEventListener('click', () => { history.length = 0; $('log').textContent = ''; });
</script>
</body>
</html>
)HTML";

}  // namespace rwkv
