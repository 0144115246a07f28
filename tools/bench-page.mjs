// A timed run of the page in headless Chromium (figures for the notes, not a test):
//   node tools/bench-page.mjs URL
// Reports: time to first render, and wall-clock per animation tick while
// playing the default scenario at 64x (ticks are 40 ms apart when the page
// keeps up), and how long 300 Step clicks take.
import { chromium } from 'playwright-core';
const url = process.argv[2] ?? 'http://127.0.0.1:8099/';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
const t0 = Date.now();
await page.goto(url);
await page.waitForSelector('#topology .host');
const firstRender = Date.now() - t0;
await page.selectOption('#speed', '64');
const start = Date.now();
await page.click('#play');
await page.waitForFunction(() => Number(document.querySelector('#clock').dataset.us) >= 60e6, null, { timeout: 120000 });
await page.click('#play');
const wall = Date.now() - start;
const rows = await page.locator('#chart g.msg').count();
await page.click('#reset');
const s0 = Date.now();
for (let i = 0; i < 300; i++) await page.click('#step');
const steps = Date.now() - s0;
console.log(JSON.stringify({ firstRenderMs: firstRender, play60sVirtualAt64x_ms: wall,
  idealMs: 60000 / 64, chartRows: rows, steps300_ms: steps }));
await browser.close();
