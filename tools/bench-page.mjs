// A timed run of the page in headless Chromium (figures for the notes, not a test):
//   node tools/bench-page.mjs URL            e.g. URL#v=1&ex=cluster-20-mobike
//   node tools/bench-page.mjs URL --clients 200
//       examples/cluster-20-mobike.toml with 200 clients, opened from a share
//       link that carries the scenario
//   node tools/bench-page.mjs URL --wait 1500
//       press Play 1.5 s after choosing the speed, as a user who reads the
//       page first (the worker runs the first tick ahead meanwhile); by
//       default Play is pressed at once
// Reports: time to first render; wall-clock to play 60 s of virtual time at
// 64x (ideal 937 ms: ticks are 40 ms apart when the page keeps up) and the
// mean wall-clock per tick, over the whole run and over the frames while
// playing (the run stops once at the scenario's end); the mean time of a jump back with the time
// slider (rebuild from a checkpoint, replay, redraw) and forward again; the
// page's DOM size (at the end, and the most while playing) and the DOM
// calls it made while playing, by kind; the frame times
// while playing (p50, p95, p99, max: how smooth it looks); how long
// selecting a message takes until the frame that shows it is drawn (in the
// page, and as Playwright clicks); and how long 300 Step clicks take.
import { chromium } from 'playwright-core';
import { clusterUrl } from './cluster-link.mjs';
const args = process.argv.slice(2);
const flag = args.indexOf('--clients');
const clients = flag >= 0 ? Number(args.splice(flag, 2)[1]) : 0;
const waitFlag = args.indexOf('--wait');
const waitMs = waitFlag >= 0 ? Number(args.splice(waitFlag, 2)[1]) : 0;
const url = clusterUrl(args[0] ?? 'http://127.0.0.1:8099/', clients);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
// DOM calls while playing, by kind (how much the page rebuilds; fewer
// frames drawn on a slower machine make fewer).
await page.addInitScript(() => {
  window.__calls = {};
  const count = (proto, name) => {
    const f = proto[name];
    proto[name] = function (...a) {
      if (window.__counting) window.__calls[name] = (window.__calls[name] ?? 0) + 1;
      return f.apply(this, a);
    };
  };
  count(Element.prototype, 'setAttribute');
  count(Document.prototype, 'createElementNS');
  count(Document.prototype, 'createElement');
  count(Document.prototype, 'createTextNode');
  count(Node.prototype, 'insertBefore');
  count(Node.prototype, 'removeChild');
});
const t0 = Date.now();
await page.goto(url);
await page.waitForSelector('#topology .host');
const firstRender = Date.now() - t0;
const us = () => page.locator('#clock').getAttribute('data-us').then(Number);
await page.selectOption('#speed', '64');
if (waitMs > 0) await page.waitForTimeout(waitMs);
// Frame times and the DOM's size, sampled by the page's own frames.
await page.evaluate(() => {
  const w = window;
  w.__frames = [];
  w.__dom = 0;
  w.__rate = [0, 0];
  let last = performance.now();
  let prev = null;
  const tick = (t) => {
    w.__frames.push(t - last);
    last = t;
    // Virtual time gained over wall time, while playing (not across the
    // stop at the scenario's end).
    const us = Number(document.querySelector('#clock').dataset.us);
    const on = document.querySelector('#play').classList.contains('on');
    if (prev && prev.on && on && us >= prev.us) {
      w.__rate[0] += us - prev.us;
      w.__rate[1] += t - prev.t;
    }
    prev = { t, us, on };
    if (w.__frames.length % 10 === 0) w.__dom = Math.max(w.__dom, document.getElementsByTagName('*').length);
    if (!w.__stop) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
});
const start = Date.now();
await page.evaluate(() => { window.__counting = true; });
await page.click('#play');
// Playback stops once at the scenario's `until`: press Play to go on.
for (;;) {
  await page.waitForFunction(() => Number(document.querySelector('#clock').dataset.us) >= 60e6
    || !document.querySelector('#play').classList.contains('on'), null, { timeout: 300000 });
  if (await us() >= 60e6) break;
  await page.click('#play');
}
const wall = Date.now() - start;
const { frames, domMax, rate, domCalls } = await page.evaluate(() => {
  window.__stop = true;
  window.__counting = false;
  return { frames: window.__frames.slice(1), domMax: window.__dom, rate: window.__rate, domCalls: window.__calls };
});
const sorted = [...frames].sort((a, b) => a - b);
const pct = (p) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] * 10) / 10;
if (/\bon\b/.test(await page.locator('#play').getAttribute('class') ?? '')) await page.click('#play');
const virtual = await us();
// 64x: 2.56 s of virtual time per 40 ms tick. msPerTick counts the
// whole run, the stop at the scenario's end and the click that goes on
// included; msPer2560usPlaying only the frames while playing (40 when the
// page keeps 64x).
const ticks = virtual / 2.56e6;
const playingMsPerTick = rate[0] > 0 ? Math.round(10 * 2.56e6 * rate[1] / rate[0]) / 10 : null;
const rows = await page.locator('#chart g.msg').count();
const domNodes = await page.evaluate(() => document.getElementsByTagName('*').length);
// Jumps with the slider: each waits until the clock shows the moment.
const seek = async (ms) => {
  const s0 = Date.now();
  await page.locator('#scrubber').fill(String(ms));
  await page.waitForFunction((ms) => Number(document.querySelector('#clock').dataset.us) === ms * 1000, ms);
  return Date.now() - s0;
};
const back = [];
const fwd = [];
for (const ms of [52000, 31000, 7300, 44000, 18000]) {
  back.push(await seek(ms));
  fwd.push(await seek(60000));
}
const mean = (v) => Math.round(v.reduce((a, b) => a + b, 0) / v.length);
// Selecting a message, in the page: from the click event until the frame
// that shows the selection is drawn (the mean of five rows, the first
// selection included).
const pickInPage = await page.evaluate(async () => {
  const out = [];
  for (let i = 0; i < 5; i++) {
    const hit = document.querySelectorAll('#chart g.msg .hit')[i];
    if (!hit) break;
    const row = hit.closest('g.msg');
    const t0 = performance.now();
    hit.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    await new Promise((ok) => {
      const wait = () => (row.isConnected && row.classList.contains('selected')
        || document.querySelector('#chart g.msg.selected')) ? ok() : setTimeout(wait, 0);
      wait();
    });
    await new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)));
    out.push(performance.now() - t0);
  }
  return out;
});
// The same as Playwright clicks (its own overhead included).
const pick = [];
for (let i = 0; i < 5; i++) {
  const msg = page.locator('#chart g.msg .hit').nth(i);
  if (await msg.count() === 0) break;
  const s1 = Date.now();
  await msg.click();
  await page.waitForFunction(() => document.querySelector('#chart g.msg.selected'));
  pick.push(Date.now() - s1);
}
await page.click('#reset');
const s0 = Date.now();
for (let i = 0; i < 300; i++) await page.click('#step');
const steps = Date.now() - s0;
console.log(JSON.stringify({ clients: clients || undefined, firstRenderMs: firstRender, play60sVirtualAt64x_ms: wall,
  idealMs: 60000 / 64, msPerTick: Math.round(wall / ticks), msPer2560usPlaying: playingMsPerTick, chartRows: rows, domNodes, domNodesMaxWhilePlaying: domMax,
  domCallsWhilePlaying: domCalls, frames: frames.length, frameP50Ms: pct(0.5), frameP95Ms: pct(0.95), frameP99Ms: pct(0.99), frameMaxMs: pct(1),
  selectMessageMeanMs: pickInPage.length ? mean(pickInPage) : null,
  selectMessageFirstMs: pickInPage.length ? Math.round(pickInPage[0]) : null,
  selectMessagePlaywrightMs: pick.length ? mean(pick) : null,
  seekBackMeanMs: mean(back), seekBackMaxMs: Math.max(...back), seekForwardToEndMeanMs: mean(fwd),
  steps300_ms: steps }));
await browser.close();
