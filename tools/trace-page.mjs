// Where the page's main thread spends a playing run, by the browser's own
// timeline (figures for the notes, not a test):
//   node tools/trace-page.mjs URL [--clients N] [--ms WALL] [--wait MS]
// Plays at 64x for WALL ms (default 800: cluster-20-mobike ends at 30 s)
// and prints the time of each kind of top-level task and of the browser's
// style, layout and paint work inside them, and how many of each.
import { openAt64 } from './cluster-link.mjs';
const args = process.argv.slice(2);
const { browser, page, wallMs, waitMs } = await openAt64(args, 800);
await page.waitForTimeout(waitMs);
await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
await page.evaluate(() => {
  window.__clock = [];
  const t0 = performance.now();
  const f = () => { window.__clock.push([Math.round(performance.now() - t0), Number(document.querySelector('#clock').dataset.us) / 1e6]); if (window.__clock.length < 2000) requestAnimationFrame(f); };
  requestAnimationFrame(f);
});
await page.click('#play');
await page.waitForTimeout(wallMs);
const clocks = await page.evaluate(() => window.__clock);
if (args.includes('--windows')) {
  const by = [];
  for (const [t, v] of clocks) by[Math.floor(t / 100)] = v;
  console.log('virtual seconds at the end of each 100 ms:', by.map((v) => v?.toFixed(1)).join(' '));
}
const buf = await browser.stopTracing();
const clock = await page.locator('#clock').getAttribute('data-us');
await browser.close();
const events = JSON.parse(buf.toString()).traceEvents;
const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
const mine = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur);
const sum = new Map();
for (const e of mine) {
  const k = e.name === 'FunctionCall' || e.name === 'EventDispatch' ? `${e.name} ${e.args?.data?.type ?? e.args?.data?.functionName ?? ''}` : e.name;
  const v = sum.get(k) ?? [0, 0, 0];
  v[0] += e.dur; v[1] += 1; v[2] = Math.max(v[2], e.dur);
  sum.set(k, v);
}
const tasks = mine.filter((e) => e.name === 'RunTask');
const busy = tasks.reduce((a, e) => a + e.dur, 0);
console.log(`played to ${Number(clock) / 1e6} s in ${wallMs} ms; main thread busy ${(busy / 1000).toFixed(0)} ms in ${tasks.length} tasks (longest ${(Math.max(...tasks.map((e) => e.dur)) / 1000).toFixed(1)} ms)`);
const worker = events.find((e) => e.name === 'thread_name' && /DedicatedWorker/.test(e.args?.name ?? '') && e.pid === main.pid);
if (worker) {
  const w = events.filter((e) => e.pid === worker.pid && e.tid === worker.tid && e.ph === 'X' && e.dur && e.name === 'RunTask');
  if (args.includes('--windows')) {
    const t0 = Math.min(...mine.map((e) => e.ts));
    const win = (list) => { const b = []; for (const e of list) { const k = Math.floor((e.ts - t0) / 100000); b[k] = (b[k] ?? 0) + e.dur / 1000; } return b; };
    const wb = win(w), mb = win(mine.filter((e) => e.name === 'RunTask'));
    for (let k = 0; k < Math.max(wb.length, mb.length); k++) console.log(`${k * 100}-${k * 100 + 100} ms: page ${(mb[k] ?? 0).toFixed(0)} ms, worker ${(wb[k] ?? 0).toFixed(0)} ms`);
  }
  console.log(`worker (${worker.args.name}) busy ${(w.reduce((a, e) => a + e.dur, 0) / 1000).toFixed(0)} ms in ${w.length} tasks (longest ${(Math.max(0, ...w.map((e) => e.dur)) / 1000).toFixed(1)} ms)`);
}
if (args.includes('--long')) {
  const t0 = Math.min(...mine.map((e) => e.ts));
  for (const t of tasks.sort((a, b) => b.dur - a.dur).slice(0, 5)) {
    const inside = mine.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur && e.dur > 1000);
    console.log(`task ${(t.dur / 1000).toFixed(1)} ms at ${((t.ts - t0) / 1000).toFixed(0)} ms:`, inside.map((e) => `${e.name}${e.args?.data?.type ? '(' + e.args.data.type + ')' : ''} ${(e.dur / 1000).toFixed(1)}`).join(', '));
  }
}
if (args.includes('--layouts')) {
  for (const e of mine.filter((e) => e.name === 'Layout').sort((a, b) => b.dur - a.dur).slice(0, 6)) {
    console.log(`layout ${(e.dur / 1000).toFixed(1)} ms`, JSON.stringify(e.args?.beginData ?? {}).slice(0, 300), JSON.stringify(e.args?.endData?.layoutRoots ?? e.args?.endData ?? {}).slice(0, 300));
  }
}
for (const [k, [d, n, m]] of [...sum.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 25)) {
  console.log(`${(d / 1000).toFixed(1).padStart(8)} ms ${String(n).padStart(5)}x  max ${(m / 1000).toFixed(1).padStart(6)}  ${k}`);
}
