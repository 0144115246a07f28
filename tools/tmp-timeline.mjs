import { chromium } from 'playwright-core';
import { clusterUrl } from './cluster-link.mjs';
const url = clusterUrl('http://127.0.0.1:8099/', 200);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
await page.goto(url);
await page.waitForSelector('#topology .host');
await page.waitForTimeout(500);
await page.selectOption('#speed', '64');
await page.evaluate(() => {
  window.__clock = [];
  new MutationObserver(() => window.__clock.push([Math.round(performance.now() + performance.timeOrigin), Number(document.querySelector('#clock').dataset.us) / 1e6]))
    .observe(document.querySelector('#clock'), { attributes: true });
  window.__frames = [];
  let last = performance.now();
  const f = (t) => { window.__frames.push([Math.round(t + performance.timeOrigin), Math.round(t - last)]); last = t; if (window.__frames.length < 400) requestAnimationFrame(f); };
  requestAnimationFrame(f);
});
const w = page.workers()[0];
await page.click('#play');
await page.waitForFunction(() => Number(document.querySelector('#clock').dataset.us) >= 30e6 || !document.querySelector('#play').classList.contains('on'), null, { timeout: 120000 });
const clock = await page.evaluate(() => window.__clock);
const frames = await page.evaluate(() => window.__frames);
const wl = await w.evaluate(() => self.__log);
const t0 = Math.min(clock[0]?.[0] ?? Infinity, wl[0]?.[0] ?? Infinity);
const ev = [...clock.map(([t, us]) => [t - t0, `clock ${us}`]), ...wl.map(([t, d, n]) => [t - t0, `worker ${d}ms ${n}B`]), ...frames.filter(([t, d]) => d > 20).map(([t, d]) => [t - t0, `frame ${d}ms`])].sort((a, b) => a[0] - b[0]);
for (const [t, s] of ev) if (t >= -100 && t < 1200) console.log(t, s);
await browser.close();
