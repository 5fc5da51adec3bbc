// serve_client.mjs — the official `openai` npm client against a running `rwkv serve`:
//   node serve_client.mjs BASE_URL MODEL_ID
// chat (non-stream and stream), completions with echo + logprobs, n = 2, stop strings and an
// error case. Prints one "ok ..." line per check; exits 1 on the first failure.
import OpenAI from 'openai';

const [base, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL: base + '/v1', apiKey: process.env.RWKV_API_KEY || 'none', maxRetries: 0 });
const fail = (msg) => { console.error('serve_client: FAIL ' + msg); process.exit(1); };
const check = (cond, msg) => { if (!cond) fail(msg); };

// chat, non-stream
const chat = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Tell me about the quick brown fox.' }], max_tokens: 12, temperature: 0,
});
const text = chat.choices[0].message.content;
check(chat.object === 'chat.completion' && typeof text === 'string' && text.length > 0, 'chat: ' + JSON.stringify(chat));
check(chat.usage.prompt_tokens > 0 && chat.usage.completion_tokens > 0 && chat.usage.completion_tokens <= 12,
      'chat usage ' + JSON.stringify(chat.usage));
check(chat.usage.prompt_tokens_details && chat.usage.prompt_tokens_details.cached_tokens === 0, 'cached_tokens');
console.log(`ok chat: ${chat.usage.completion_tokens} tokens, finish ${chat.choices[0].finish_reason}`);

// chat, stream: the same greedy text, piece by piece, then usage
const stream = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Tell me about the quick brown fox.' }], max_tokens: 12, temperature: 0,
  stream: true, stream_options: { include_usage: true },
});
let streamed = '', chunks = 0, usage = null, finish = null;
for await (const c of stream) {
  chunks++;
  if (c.usage) usage = c.usage;
  for (const ch of c.choices) {
    streamed += ch.delta.content || '';
    if (ch.finish_reason) finish = ch.finish_reason;
  }
}
check(streamed === text, `stream text ${JSON.stringify(streamed)} != ${JSON.stringify(text)}`);
check(usage && usage.completion_tokens === chat.usage.completion_tokens && finish, 'stream usage/finish');
console.log(`ok chat stream: ${chunks} chunks, same text, finish ${finish}`);

// completions with echo + logprobs (what lm-evaluation-harness local-completions sends to score)
const prompt = 'The capital of France is Paris';
const sc = await client.completions.create({ model, prompt, max_tokens: 0, echo: true, logprobs: 1, temperature: 0 });
const lp = sc.choices[0].logprobs;
check(sc.choices[0].text === prompt, 'echo text ' + JSON.stringify(sc.choices[0].text));
check(lp.tokens.join('') === prompt && lp.token_logprobs[0] === null, 'echo tokens ' + JSON.stringify(lp.tokens));
check(lp.token_logprobs.slice(1).every((x) => typeof x === 'number' && x <= 0), 'token_logprobs');
check(lp.top_logprobs.slice(1).every((t) => Object.keys(t).length === 1), 'top_logprobs');
console.log(`ok completions echo+logprobs: ${lp.tokens.length} tokens, sum ${lp.token_logprobs.slice(1).reduce((a, b) => a + b, 0).toFixed(4)}`);

// n = 2 with a seed: two choices
const two = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8, n: 2, seed: 7, temperature: 1 });
check(two.choices.length === 2 && two.choices[0].index === 0 && two.choices[1].index === 1, 'n=2');
console.log(`ok n=2: ${JSON.stringify(two.choices.map((c) => c.text))}`);

// stop strings: the greedy text is cut before the stop string
const long = await client.completions.create({ model, prompt: 'The quick brown', max_tokens: 24, temperature: 0 });
const full = long.choices[0].text;
const stopAt = full.slice(6, 9);
const cut = await client.completions.create({ model, prompt: 'The quick brown', max_tokens: 24, temperature: 0, stop: [stopAt] });
check(cut.choices[0].text === full.slice(0, full.indexOf(stopAt)) && cut.choices[0].finish_reason === 'stop',
      `stop: ${JSON.stringify(cut.choices[0].text)} from ${JSON.stringify(full)} at ${JSON.stringify(stopAt)}`);
console.log(`ok stop: cut at ${JSON.stringify(stopAt)}`);

// an error: a bad parameter is a 400 with OpenAI's error object
try {
  await client.completions.create({ model, prompt: 'x', max_tokens: 4, temperature: -1 });
  fail('temperature -1 was accepted');
} catch (e) {
  check(e.status === 400 && e.error && e.error.param === 'temperature', 'error: ' + e);
  console.log(`ok error: ${e.status} ${e.error.message}`);
}
try {
  await client.completions.create({ model: 'no-such-model', prompt: 'x', max_tokens: 1 });
  fail('unknown model was accepted');
} catch (e) {
  check(e.status === 404 && e.error.code === 'model_not_found', 'unknown model: ' + e);
  console.log('ok unknown model: 404');
}
console.log('serve_client: OK');
