// serve_page_check.mjs — the chat page of `rwkv serve` in headless Chromium (playwright-core,
// the system's /usr/bin/chromium or $CHROMIUM): type a message, see a reply stream in, press
// stop, send again; save a PNG screenshot. With a run's metrics.jsonl (the server started with
// --runs): the /runs view draws its curves and redraws them when a line is appended.
// Run by tests/test_serve.cpp:
//   node serve_page_check.mjs BASE_URL OUT.png [RUN/metrics.jsonl RUNS_OUT.png]
// Prints one line per check and "serve_page_check: OK"; exits 1 on the first failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';

const [base, png, metrics, runs_png] = process.argv.slice(2);
const check = (cond, what) => {
  if (!cond) { console.error('serve_page_check: FAILED: ' + what); process.exit(1); }
  console.log('ok   ' + what);
};
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const errors = [], outside = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });
  await page.goto(base + '/');
  await page.waitForFunction(() => document.getElementById('model').textContent.length > 1);
  check(true, 'model name shown: ' + await page.textContent('#model'));
  // a long reply, stopped while it streams. Left alone the small test model ends a reply after
  // 40-100 tokens (token 0 or the next user turn), sometimes before the checks below see it
  // stream: the request gets a bias against token 0 (the server runs with rare role names, so
  // the next-turn stop string does not come either).
  await page.route('**/v1/chat/completions', async (route) => {
    const body = JSON.parse(route.request().postData());
    body.logit_bias = { '0': -100 };
    await route.continue({ postData: JSON.stringify(body) });
  });
  // The small model writes ~500 tokens/s here: a reply of 2,000 tokens could end between the
  // checks below and the press on stop, one of 100,000 cannot. One try: send, see it busy and streaming, press stop in one step in the page (a click that
  // waits for an enabled button waits forever on a reply that ended meanwhile). A reply that ends
  // by itself first (a sampled stop, however unlikely) is reported and the page reloaded for
  // another try: the model's choice of words is not what this checks.
  const long_reply = async () => {
    await page.fill('#max_tokens', '100000');
    await page.fill('#input', 'Tell me a long story about the sea.');
    await page.press('#input', 'Enter');
    // busy from the moment the request is sent (not raced against the first tokens' arrival)
    await page.waitForFunction(() => !document.getElementById('stop').disabled && document.getElementById('send').disabled,
                               null, { timeout: 5000 });
    check(true, 'streaming: stop enabled, send disabled');
    await page.waitForFunction(() => {
      const a = document.querySelectorAll('.msg.assistant');
      return a.length === 1 && (a[0].textContent.length > 20 || a[0].getAttribute('data-done'));
    }, null, { timeout: 30000 });
    const before = (await page.textContent('.msg.assistant')).length;
    await page.waitForFunction((n) => {
      const a = document.querySelector('.msg.assistant');
      return a.textContent.length > n || a.getAttribute('data-done');
    }, before, { timeout: 30000 });
    const pressed = await page.evaluate(() => {
      const b = document.getElementById('stop');
      if (b.disabled) return false;
      b.click();
      return true;
    });
    if (pressed) {
      check(true, 'the reply grows while it streams');
      return true;
    }
    const errs = await page.$$eval('.msg.error', (e) => e.map((x) => x.textContent));
    check(errs.length === 0, 'no error while streaming ' + JSON.stringify(errs));
    console.log('note the long reply ended by itself before stop: ' + JSON.stringify(await page.textContent('.msg.assistant')) +
                ' tokens ' + await page.textContent('#ntok') + '; trying again');
    return false;
  };
  let pressed = false;
  for (let i = 0; i < 3 && !pressed; i++) {
    if (i > 0) {
      await page.goto(base + '/');
      await page.waitForFunction(() => document.getElementById('model').textContent.length > 1);
    }
    pressed = await long_reply();
  }
  check(pressed, 'stop pressed while the reply streams (3 tries)');
  await page.waitForSelector('.msg.assistant[data-done="1"]', { timeout: 10000 });
  check(await page.isDisabled('#stop') && await page.isEnabled('#send'), 'stopped: send enabled again');
  await page.unroute('**/v1/chat/completions');
  const tps = await page.textContent('#tps');
  check(parseFloat(tps) > 0, 'tokens/s shown: ' + tps);
  // a second, short turn completes by itself
  await page.fill('#max_tokens', '8');
  await page.fill('#input', 'And then?');
  await page.click('#send');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant[data-done="1"]').length === 2, null, { timeout: 30000 });
  check((await page.$$('.msg.user')).length === 2, 'two user messages, two replies');
  check(errors.length === 0, 'no page errors ' + JSON.stringify(errors));
  check(outside.length === 0, 'no request leaves the server (offline page) ' + JSON.stringify(outside));
  await page.screenshot({ path: png });
  if (metrics) {
    await page.click('a[href="/runs"]');
    await page.waitForSelector('#curves svg', { timeout: 15000 });
    await page.waitForFunction(() => /: \d+ steps/.test(document.getElementById('status').textContent));
    const n = parseInt((await page.textContent('#status')).match(/: (\d+) steps/)[1]);
    check(n >= 2, 'runs view draws the run: ' + await page.textContent('#status'));
    fs.appendFileSync(metrics, JSON.stringify({ step: n, loss: 3.0, lr: 1e-3, grad_norm: 1.0, tokens_per_s: 100 }) + '\n');
    await page.waitForFunction((m) => document.getElementById('status').textContent.includes(': ' + m + ' steps'), n + 1, { timeout: 15000 });
    check(true, 'an appended line shows up live: ' + await page.textContent('#status'));
    check(errors.length === 0, 'no page errors on /runs ' + JSON.stringify(errors));
    await page.screenshot({ path: runs_png });
  }
  console.log('serve_page_check: OK');
} finally {
  await browser.close();
}
