// CPU profile of the page while it plays (figures for the notes):
//   node tools/prof-page.mjs URL [--clients N] [--ms WALL] [--esp] [--wait MS]
//                            [--after-end | --from SECONDS]
// (--wait: Play that long after the page is ready, as a user who reads it
// first; the worker runs the first tick ahead meanwhile)
// Prints the functions with the most self time (wasm names need a build
// that keeps them: data-keep-debug, no wasm-opt).
import { openAt64 } from './cluster-link.mjs';
const args = process.argv.slice(2);
const { browser, page, wallMs, waitMs } = await openAt64(args, 3000);
// Play to the scenario's end first (playback stops there), so the
// profile covers steady playing with a full chart; `--from S` plays on
// past the end to virtual second S first (a long run's chart).
const fromAt = args.indexOf('--from');
if (args.includes('--after-end') || fromAt >= 0) {
  await page.click('#play');
  await page.waitForFunction(() => !document.querySelector('#play').classList.contains('on'), null, { timeout: 120000 });
}
if (fromAt >= 0) {
  await page.click('#play');
  await page.waitForFunction((s) => Number(document.querySelector('#clock').dataset.us) / 1e6 >= s,
    Number(args[fromAt + 1]), { timeout: 600000 });
  await page.click('#play');
}
await page.waitForTimeout(waitMs);
const cdp = await page.context().newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
await cdp.send('Profiler.start');
await page.click('#play');
await page.waitForTimeout(wallMs);
const { profile } = await cdp.send('Profiler.stop');
if (args.includes('--save')) (await import('node:fs')).writeFileSync(args[args.indexOf('--save') + 1], JSON.stringify(profile));
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = profile.timeDeltas;
let total = 0;
profile.samples.forEach((id, i) => {
  const n = byId.get(id);
  const name = n.callFrame.functionName || `(${n.callFrame.url.split('/').pop() || 'anon'})`;
  self.set(name, (self.get(name) ?? 0) + (dt[i] ?? 0));
  total += dt[i] ?? 0;
});
// Inclusive time by what the main thread was doing (first match from the
// leaf up).
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const cats = [['checkpoint clone', /ChartBuilder as core::clone::Clone|World as core::clone::Clone/],
  ['chart rows (ChartBuilder::update)', /ChartBuilder::update/], ['layout (msc::layout)', /msc::layout/],
  ['simulation (World::step)', /World::step|World>::step/], ['metrics', /MetricsBuilder/],
  ['state panels', /snapshots|hosts_where|World::nats|World::links/], ['yew/DOM', /yew|__wbg_/]];
const inc = new Map();
profile.samples.forEach((id, i) => {
  let cat = null;
  for (let n = id; n !== undefined && !cat; n = parent.get(n)) {
    const f = byId.get(n).callFrame.functionName;
    if (f === '(idle)') { cat = '(idle)'; break; }
    for (const [c, re] of cats) if (re.test(f)) { cat = c; break; }
  }
  cat ??= 'other';
  inc.set(cat, (inc.get(cat) ?? 0) + (dt[i] ?? 0));
});
for (const [c, us] of [...inc.entries()].sort((a, b) => b[1] - a[1])) console.log(`${(us / 1000).toFixed(0).padStart(6)} ms  ${c}`);
// Inclusive time of each yew component's render (its `run`, and what it
// calls; a component inside another counts in both).
const comp = new Map();
profile.samples.forEach((id, i) => {
  const seen = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const m = /<mobike_playground::components::[\w:]*?(\w+) as yew::functional::FunctionProvider>::run/.exec(byId.get(n).callFrame.functionName);
    if (m && !seen.has(m[1])) {
      seen.add(m[1]);
      comp.set(m[1], (comp.get(m[1]) ?? 0) + (dt[i] ?? 0));
    }
  }
});
console.log('components (inclusive):');
for (const [c, us] of [...comp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${(us / 1000).toFixed(0).padStart(6)} ms  ${c}`);
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
for (const [name, us] of top) console.log(`${(100 * us / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name.slice(0, 150)}`);
console.log('clock', await page.locator('#clock').getAttribute('data-us'));
await browser.close();
