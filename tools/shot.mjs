// Takes a screenshot of the playground for a human to look at.
//   node tools/shot.mjs URL OUT.png [play-ms] [speed]
// Optional, in this order after playing: FILE=path (open it as a scenario
// file), SEEK=ms (move the time slider there), TAP=selector (click it, e.g.
// "#link-wifi .hit"), SHARE=1 (click Share), CLICK=text (select a message).
import { chromium } from 'playwright-core';
const [url, out, playMs = '0', speed = '16'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
page.on('pageerror', (e) => console.error('page error:', e.message));
// The simulation answers from its Web Worker: wait until the page shows
// the outcome of each step (no `data-busy` on its root).
const settled = () => page.waitForFunction(() => !document.querySelector('.app[data-busy]'));
await page.goto(url);
await page.waitForSelector('#topology');
await settled();
if (Number(playMs) > 0) {
  await page.selectOption('#speed', speed);
  await page.click('#play');
  await page.waitForTimeout(Number(playMs));
  await page.click('#play');
  await settled();
}
if (process.env.FILE) await page.setInputFiles('#open-file', process.env.FILE);
await settled();
if (process.env.SEEK) await page.locator('#scrubber').fill(process.env.SEEK);
await settled();
if (process.env.TAP) await page.click(process.env.TAP);
await settled();
if (process.env.SHARE) await page.click('#share');
if (process.env.CLICK) {
  // CLICK: text of the chart message to select, e.g. "UPDATE_SA_ADDRESSES".
  await page.locator('#chart g.msg', { hasText: process.env.CLICK }).first().locator('.hit').click();
  await page.waitForSelector('#bytes .hex');
}
await page.screenshot({ path: out, fullPage: process.env.FULL === '1' });
await browser.close();
