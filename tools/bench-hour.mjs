// A long run in the page (figures for the notes, not a test): opens a
// scenario file as a share link, jumps with the time slider to each moment
// in turn and back, and prints how long each jump took, the chart's rows
// and the renderer's peak memory (VmHWM of Chromium's renderer processes):
//   node tools/bench-hour.mjs URL FILE.toml [MS,MS,...]
// e.g. the 1,000-client carrier-grade NAT cluster for an hour:
//   sed 's/^count = 3$/count = 1000/; s/^until = "40s"/until = "60min"/;
//     s/^at = "20s"/at = "1800s"/' tests/scenarios/cgn-cluster.toml > /tmp/c1000.toml
//   node tools/bench-hour.mjs http://127.0.0.1:8080/ /tmp/c1000.toml
import { chromium } from 'playwright-core';
import { readFileSync, readdirSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
const text = readFileSync(process.argv[3], 'utf8');
const scn = deflateRawSync(Buffer.from(text), { level: 9 }).toString('base64url');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
const rss = () => {
  let best = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('chromium') || !cmd.includes('--type=renderer')) continue;
      const st = readFileSync(`/proc/${pid}/status`, 'utf8');
      const hwm = Number(/VmHWM:\s+(\d+)/.exec(st)[1]);
      best = Math.max(best, hwm);
    } catch {}
  }
  return Math.round(best / 1024);
};
await page.goto(`${process.argv[2]}#v=1&scn=${scn}`);
await page.waitForSelector('#topology .host', { timeout: 120000 });
console.log('loaded, renderer peak MB', rss());
for (const ms of (process.argv[4] ?? '600000,1800000,3600000').split(',').map(Number)) {
  const t0 = Date.now();
  await page.locator('#scrubber').fill(String(ms));
  await page.waitForFunction((ms) => Number(document.querySelector('#clock').dataset.us) === ms * 1000, ms, { timeout: 900000 });
  console.log(`jump to ${ms / 1000} s: ${Date.now() - t0} ms, renderer peak MB ${rss()}, chart rows ${await page.locator('#chart').getAttribute('data-rows')}`);
}
const t1 = Date.now();
await page.locator('#scrubber').fill('1200000');
await page.waitForFunction(() => Number(document.querySelector('#clock').dataset.us) === 1200000000, null, { timeout: 900000 });
console.log(`jump back to 1200 s: ${Date.now() - t1} ms, renderer peak MB ${rss()}`);
await browser.close();
