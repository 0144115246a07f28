// One jump with the time slider in a scenario file, timed by the browser's
// own timeline (figures for the notes, not a test):
//   node tools/trace-jump.mjs URL FILE.toml [MS] [--profile]
// Opens FILE as a share link, jumps to MS (default 600000: 10 min) and
// prints the wall time until the clock shows it, the page's and the
// worker's busy time and their tasks over 20 ms; --profile adds the page
// thread's functions by self and inclusive time (wasm names need a build
// that keeps them: data-keep-debug, no wasm-opt); --under NAME adds the
// time of what the functions whose names contain NAME call, by callee;
// --from MS jumps there first (not timed), so the jump timed may go back.
// The 1,000-client hour is made as tools/bench-hour.mjs says.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
const argv = process.argv.slice(2);
const u = argv.indexOf('--under');
const under = u >= 0 ? argv.splice(u, 2)[1] : null;
const f = argv.indexOf('--from');
const from = f >= 0 ? Number(argv.splice(f, 2)[1]) : null;
const args = argv.filter((a) => a !== '--profile');
const profiling = argv.includes('--profile') || under !== null;
const text = readFileSync(args[1], 'utf8');
const scn = deflateRawSync(Buffer.from(text), { level: 9 }).toString('base64url');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
await page.goto(`${args[0]}#v=1&scn=${scn}`);
await page.waitForSelector('#topology .host', { timeout: 120000 });
await page.waitForTimeout(500);
const ms = Number(args[2] ?? 600000);
const shows = (at) => page.waitForFunction((at) => Number(document.querySelector('#clock').dataset.us) === at * 1000, at, { timeout: 900000 });
if (from !== null) {
  await page.locator('#scrubber').fill(String(from));
  await shows(from);
  await page.waitForTimeout(500);
}
const cdp = await page.context().newCDPSession(page);
if (profiling) {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
}
await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
const t0 = Date.now();
await page.locator('#scrubber').fill(String(ms));
await shows(ms);
const wall = Date.now() - t0;
const buf = await browser.stopTracing();
if (profiling) {
  const { profile } = await cdp.send('Profiler.stop');
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nameOf = (id) => byId.get(id).callFrame.functionName || '(anon)';
  const self = new Map(), inc = new Map();
  profile.samples.forEach((id, i) => {
    const d = profile.timeDeltas[i] ?? 0;
    const name = nameOf(id);
    self.set(name, (self.get(name) ?? 0) + d);
    const seen = new Set();
    for (let x = id; x; x = parent.get(x)) { const nm = nameOf(x); if (!seen.has(nm)) { seen.add(nm); inc.set(nm, (inc.get(nm) ?? 0) + d); } }
  });
  console.log('self:'); for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${(v / 1000).toFixed(0)} ms ${k.slice(0, 150)}`);
  console.log('inclusive:'); for (const [k, v] of [...inc].sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log(`  ${(v / 1000).toFixed(0)} ms ${k.slice(0, 150)}`);
  if (under !== null) {
    // Each sample once: under the innermost frame whose name contains
    // `under`, charged to that frame's callee on the sample's stack.
    const callee = new Map();
    profile.samples.forEach((id, i) => {
      const d = profile.timeDeltas[i] ?? 0;
      let below = null;
      for (let x = id; x; x = parent.get(x)) {
        const nm = nameOf(x);
        if (nm.includes(under)) {
          const k = below === null ? '(self)' : below;
          callee.set(k, (callee.get(k) ?? 0) + d);
          break;
        }
        below = nm;
      }
    });
    console.log(`under ${under}:`); for (const [k, v] of [...callee].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${(v / 1000).toFixed(0)} ms ${k.slice(0, 150)}`);
  }
}
await browser.close();
const events = JSON.parse(buf.toString()).traceEvents;
const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
const tasks = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur && e.name === 'RunTask');
const worker = events.find((e) => e.name === 'thread_name' && /DedicatedWorker/.test(e.args?.name ?? '') && e.pid === main.pid);
const w = events.filter((e) => e.pid === worker.pid && e.tid === worker.tid && e.ph === 'X' && e.dur && e.name === 'RunTask');
const s = (l) => (l.reduce((a, e) => a + e.dur, 0) / 1000).toFixed(0);
console.log(`jump to ${ms / 1000} s: ${wall} ms; page busy ${s(tasks)} ms (longest ${(Math.max(...tasks.map((e) => e.dur)) / 1000).toFixed(0)}), worker busy ${s(w)} ms`);
const t00 = Math.min(...tasks.map((e) => e.ts), ...w.map((e) => e.ts));
for (const e of [...tasks.map((e) => ['page', e]), ...w.map((e) => ['worker', e])].filter(([, e]) => e.dur > 20000).sort((a, b) => a[1].ts - b[1].ts)) console.log(`  ${e[0]} ${((e[1].ts - t00) / 1000).toFixed(0)} ms +${(e[1].dur / 1000).toFixed(0)} ms`);
