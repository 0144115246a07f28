// Dragging the time slider as a user does (figures for the notes, not a
// test):
//   node tools/bench-drag.mjs URL [--clients 200] [--file FILE.toml] [--to MS] [--moves N]
// Opens the page (the cluster with N clients, or FILE as a share link),
// jumps to --to (default: the slider's end) and waits for it, then drags the slider's
// thumb from there to a tenth of it with --moves mouse moves (default 40),
// 16 ms apart as a hand moves it (whether or not the page keeps up), and back to the middle. Prints the jump commands the page
// sent the simulation's worker during the drag, the input events the
// slider fired, and the time from letting go until the clock shows where
// the thumb was let go and the page is no longer busy.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { clusterUrl } from './cluster-link.mjs';
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : dflt; };
const clients = Number(opt('--clients', 0));
const file = opt('--file', null);
let to = Number(opt('--to', 0));
const moves = Number(opt('--moves', 40));
const base = args[0] ?? 'http://127.0.0.1:8099/';
const url = file
  ? `${base.replace(/#.*$/, '')}#v=1&scn=${deflateRawSync(readFileSync(file), { level: 9 }).toString('base64url')}`
  : clusterUrl(base, clients);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
// Every command the page posts to the worker (not its word that it took a
// reply in), and the slider's input events.
await page.addInitScript(() => {
  window.__posted = 0;
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (...a) {
    if (a[0] !== 'took') window.__posted += 1;
    return post.apply(this, a);
  };
  window.__inputs = 0;
  document.addEventListener('input', (e) => { if (e.target.id === 'scrubber') window.__inputs += 1; }, true);
});
await page.goto(url);
await page.waitForSelector('#topology .host', { timeout: 120000 });
const idle = (ms) => page.waitForFunction((ms) => Number(document.querySelector('#clock').dataset.us) === ms * 1000
  && !document.querySelector('.app[data-busy]'), ms, { timeout: 900000 });
// A jump past the slider's end stops at it: the end, unless --to is before.
const end = Number(await page.locator('#scrubber').getAttribute('max'));
to = to > 0 ? Math.min(to, end) : end;
await page.locator('#scrubber').fill(String(to));
await idle(to);
await page.waitForTimeout(300);
const box = await page.locator('#scrubber').boundingBox();
const max = Number(await page.locator('#scrubber').getAttribute('max'));
// The thumb's centre for a value (a range input's thumb runs over its width
// less the thumb's own, about 16 px in Chromium).
const xOf = (ms) => box.x + 8 + (box.width - 16) * (ms / max);
const y = box.y + box.height / 2;
await page.evaluate(() => { window.__posted = 0; window.__inputs = 0; });
await page.mouse.move(xOf(to), y);
await page.mouse.down();
const d0 = Date.now();
const path = [];
for (let i = 1; i <= moves; i++) path.push(to - (to * 0.9 * i) / moves);
for (let i = 1; i <= moves / 2; i++) path.push(to * 0.1 + (to * 0.4 * i) / (moves / 2));
for (const ms of path) {
  await page.mouse.move(xOf(ms), y);
  await page.waitForTimeout(16);
}
const dragMs = Date.now() - d0;
const t0 = Date.now();
await page.mouse.up();
const at = Math.round(Number(await page.locator('#scrubber').inputValue()));
await page.waitForFunction(() => {
  const v = Number(document.querySelector('#scrubber').value);
  const us = Number(document.querySelector('#clock').dataset.us);
  return Math.abs(us / 1000 - v) < 1 && !document.querySelector('.app[data-busy]');
}, null, { timeout: 900000 });
const settled = Date.now() - t0;
const { posted, inputs } = await page.evaluate(() => ({ posted: window.__posted, inputs: window.__inputs }));
const shown = Number(await page.locator('#clock').getAttribute('data-us')) / 1000;
console.log(JSON.stringify({ clients: clients || undefined, file: file ?? undefined, moves: path.length, dragMs,
  sliderInputs: inputs, commandsToWorker: posted, letGoAtMs: at, shownMs: shown, settledAfterLetGoMs: settled }));
await browser.close();
