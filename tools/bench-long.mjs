// Playing a long run in headless Chromium (figures for the notes, not a
// test): plays at 64x past the scenario's end, then times the page from
// virtual second FROM to TO (default 100 to 200):
//   node tools/bench-long.mjs URL [CLIENTS] [FROM] [TO]
// e.g. node tools/bench-long.mjs http://127.0.0.1:8099/ 200 400 500
// Reports wall-clock per 2.56 s of virtual time (ideal 40 ms at 64x), the
// frame times (p50, p95, p99, max) and the chart's rows at the end.
import { chromium } from 'playwright-core';
import { clusterUrl } from './cluster-link.mjs';
const url = clusterUrl(process.argv[2] ?? 'http://127.0.0.1:8099/', Number(process.argv[3] ?? 200));
const from = Number(process.argv[4] ?? 100), to = Number(process.argv[5] ?? 160);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
await page.goto(url);
await page.waitForSelector('#topology .host');
await page.selectOption('#speed', '64');
const us = () => page.evaluate(() => Number(document.querySelector('#clock').dataset.us) / 1e6);
await page.click('#play');
await page.waitForFunction(() => !document.querySelector('#play').classList.contains('on'), null, { timeout: 60000 });
await page.click('#play');
await page.waitForFunction((f) => Number(document.querySelector('#clock').dataset.us) / 1e6 >= f, from, { timeout: 120000 });
await page.evaluate(() => { window.__f = []; let last = performance.now(); const f = (t) => { window.__f.push(t - last); last = t; if (!window.__stop) requestAnimationFrame(f); }; requestAnimationFrame(f); window.__t0 = performance.now(); });
const v0 = await us();
await page.waitForFunction((t) => Number(document.querySelector('#clock').dataset.us) / 1e6 >= t, to, { timeout: 120000 });
const r = await page.evaluate(() => { window.__stop = true; return { f: window.__f.slice(1), wall: performance.now() - window.__t0, rows: document.querySelector('#chart').dataset.rows }; });
const v1 = await us();
const f = r.f.sort((a, b) => a - b);
const p = (q) => f[Math.min(f.length - 1, Math.floor(q * f.length))].toFixed(1);
console.log(JSON.stringify({ from: v0, to: v1, wallMs: Math.round(r.wall), msPer2560: (r.wall / ((v1 - v0) / 2.56)).toFixed(1), frames: f.length, p50: p(0.5), p95: p(0.95), p99: p(0.99), max: f[f.length - 1].toFixed(1), rows: r.rows }));
await browser.close();
