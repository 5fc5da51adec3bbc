// plot_check.mjs — opens an `rwkv plot` HTML page in headless Chromium (playwright-core, the
// system's /usr/bin/chromium or $CHROMIUM) and checks what a person would look at: the legend
// names, the number of points of every line, the axis labels and ticks, distinct run colours,
// the hover readout; then saves a PNG screenshot. Run by tests/test_plot_browser.cpp:
//   node plot_check.mjs PAGE.html OUT.png EXPECT.json
// EXPECT.json: {"runs": {"<name>": {"<metric>": points, ...}}, "refs": {...same...},
//               "x_label": "step", "panels": ["loss", ...]}
// Prints one line per check and "plot_check: OK ..." on success; exits 1 on the first failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [page_path, png_path, expect_path] = process.argv.slice(2);
if (!expect_path) {
  console.error('usage: node plot_check.mjs PAGE.html OUT.png EXPECT.json');
  process.exit(2);
}
const expect = JSON.parse(fs.readFileSync(expect_path, 'utf8'));
function check(cond, what) {
  if (!cond) {
    console.error('plot_check: FAILED: ' + what);
    process.exitCode = 1;
    throw new Error(what);
  }
  console.log('ok   ' + what);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  const requests = [];
  page.on('request', r => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
  await page.goto('file://' + path.resolve(page_path));

  const legend = await page.$$eval('g.legend-item', gs => gs.map(g => g.getAttribute('data-run')));
  const want_names = [...Object.keys(expect.runs), ...Object.keys(expect.refs || {})];
  check(JSON.stringify(legend) === JSON.stringify(want_names), `legend is ${JSON.stringify(legend)}`);
  const legend_text = await page.$$eval('g.legend-item text', ts => ts.map(t => t.textContent));
  check(JSON.stringify(legend_text) === JSON.stringify(want_names), 'legend text shows the run names');

  const panels = await page.$$eval('g.panel', ps => ps.map(p => p.getAttribute('data-metric')));
  check(JSON.stringify(panels) === JSON.stringify(expect.panels), `panels are ${JSON.stringify(panels)}`);
  for (const m of panels) {
    const info = await page.$eval(`g.panel[data-metric="${m}"]`, g => ({
      title: g.querySelector('.panel-title')?.textContent,
      ylabel: g.querySelector('.ylabel')?.textContent,
      xlabel: g.querySelector('.xlabel')?.textContent,
      yticks: [...g.querySelectorAll('.ytick')].map(t => t.textContent),
      xticks: [...g.querySelectorAll('.xtick')].map(t => t.textContent),
    }));
    check(info.ylabel === m && info.title && info.title.startsWith(m === 'lr' ? 'learning rate' : m === 'grad_norm' ? 'grad norm' : m === 'tokens_per_s' ? 'tokens/s' : m),
          `panel ${m}: title "${info.title}", y label "${info.ylabel}"`);
    check(info.xlabel && info.xlabel.startsWith(expect.x_label), `panel ${m}: x label "${info.xlabel}"`);
    check(info.yticks.length >= 2 && info.xticks.length >= 2,
          `panel ${m}: ${info.yticks.length} y ticks [${info.yticks.join(' ')}], ${info.xticks.length} x ticks [${info.xticks.join(' ')}]`);
  }

  const colors = new Set();
  const counts = [];
  for (const [group, kinds] of [['runs', ['raw', 'ema']], ['refs', ['ref-raw', 'ref']]]) {
    for (const [name, per_metric] of Object.entries(expect[group] || {})) {
      for (const [m, n] of Object.entries(per_metric)) {
        for (const kind of kinds) {
          const sel = `polyline[data-kind="${kind}"][data-metric="${m}"]`;
          const lines = (await page.$$eval(sel, (ls) => ls.map(l => ({
            run: l.getAttribute('data-run'), n: +l.getAttribute('data-n'),
            pts: l.getAttribute('points').trim().split(/\s+/).filter(Boolean).length,
            stroke: getComputedStyle(l).stroke,
          })))).filter(l => l.run === name);
          check(lines.length === 1, `${name} ${m} ${kind}: one line`);
          check(lines[0].pts === n && lines[0].n === n, `${name} ${m} ${kind}: ${lines[0].pts} points (want ${n})`);
          counts.push(`${name}/${m}/${kind}=${lines[0].pts}`);
          if (group === 'runs' && kind === 'raw') colors.add(name + '\t' + lines[0].stroke);
        }
      }
    }
  }
  const run_colors = new Map();
  for (const c of colors) { const [n, s] = c.split('\t'); run_colors.set(n, s); }
  const distinct = new Set(run_colors.values());
  check(distinct.size === run_colors.size, `run colours distinct: ${JSON.stringify([...run_colors])}`);
  if (expect.refs && Object.keys(expect.refs).length)
    check(await page.$$eval('polygon[data-kind="band"]', b => b.length) === Object.keys(expect.refs).length,
          'one reference band per reference on the loss panel');

  // Hover in the middle of the first panel: the readout names every line there.
  const box = await page.$eval(`g.panel[data-metric="${panels[0]}"] rect`, r => {
    const b = r.getBoundingClientRect();
    return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
  });
  await page.mouse.move(box.x, box.y);
  const readout = await page.$eval('#readout', d => ({ shown: getComputedStyle(d).display !== 'none', text: d.textContent }));
  check(readout.shown, 'hover shows the readout');
  for (const n of want_names) check(readout.text.includes(n + ':'), `readout names ${n}`);
  console.log('readout: ' + readout.text.replace(/\n/g, ' | '));

  await page.screenshot({ path: png_path, fullPage: true });
  check(fs.statSync(png_path).size > 1000, `screenshot ${png_path}`);
  check(errors.length === 0, `no page errors ${JSON.stringify(errors)}`);
  check(requests.length === 0, `no network requests ${JSON.stringify(requests)}`);
  console.log(`plot_check: OK ${want_names.length} legend entries, ${panels.length} panels, points ${counts.join(' ')}`);
} catch (e) {
  if (!process.exitCode) { console.error('plot_check: FAILED: ' + e.message); process.exitCode = 1; }
} finally {
  await browser.close();
}
