// Jumps with the time slider, each timed until the clock shows the moment
// (figures for the notes, not a test):
//   node tools/bench-seek.mjs URL [--clients 200] [--rounds 3]
// Plays to 60 s at 64x first, then jumps back to 52, 31, 7.3, 44 and
// 18 s, each followed by a jump forward to 60 s again, `--rounds` times, and
// prints every jump's time and the means.
import { openAt64 } from './cluster-link.mjs';
const args = process.argv.slice(2);
const r = args.indexOf('--rounds');
const rounds = r >= 0 ? Number(args.splice(r, 2)[1]) : 3;
const { browser, page } = await openAt64(args, 0);
const seek = async (ms) => {
  const s0 = Date.now();
  await page.locator('#scrubber').fill(String(ms));
  await page.waitForFunction((ms) => Number(document.querySelector('#clock').dataset.us) === ms * 1000, ms,
    { timeout: 300000 });
  return Date.now() - s0;
};
const t0 = Date.now();
await page.click('#play');
// Playback stops once at the scenario's `until`: press Play to go on.
for (;;) {
  await page.waitForFunction(() => Number(document.querySelector('#clock').dataset.us) >= 60e6
    || !document.querySelector('#play').classList.contains('on'), null, { timeout: 300000 });
  if (Number(await page.locator('#clock').getAttribute('data-us')) >= 60e6) break;
  await page.click('#play');
}
if (/\bon\b/.test(await page.locator('#play').getAttribute('class') ?? '')) await page.click('#play');
const first = Date.now() - t0;
const back = [];
const fwd = [];
for (let k = 0; k < rounds; k++) {
  for (const ms of [52000, 31000, 7300, 44000, 18000]) {
    back.push(await seek(ms));
    fwd.push(await seek(60000));
  }
}
const mean = (v) => Math.round(v.reduce((a, b) => a + b, 0) / v.length);
console.log(JSON.stringify({ playTo60sMs: first, back, fwd, backMeanMs: mean(back), forwardMeanMs: mean(fwd) }));
await browser.close();
