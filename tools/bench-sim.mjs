// The simulator's speed natively and in the page's wasm, side by side on the
// same scenario (figures for the notes, not a test):
//   node tools/bench-sim.mjs [--clients N] [--minutes M] [--runs R]
// Scenario: tests/scenarios/cgn-cluster.toml (clients behind a carrier-grade
// NAT, keepalives every 20 s, liveness checks every 60 s, a mass move by
// responder MOBIKE halfway) with N clients (default 200) for M minutes
// (default 60). Native: `cargo build --release -p mobike-sim --example hour`
// and that program. Wasm: the release build in dist/ (`trunk build
// --release`), served here on a free loopback port, its `bench_simulator`
// called in headless Chromium. Each side runs R times (default 3); the
// median is printed. Both run the simulator alone: no chart, no page.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join, extname, normalize } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const clients = opt('--clients', 200);
const minutes = opt('--minutes', 60);
const runs = opt('--runs', 3);

let text = readFileSync(join(root, 'tests/scenarios/cgn-cluster.toml'), 'utf8');
for (const [from, to] of [
  ['count = 3\n', `count = ${clients}\n`],
  ['until = "40s"', `until = "${minutes}min"`],
  ['at = "20s"', `at = "${minutes * 30}s"`],
]) {
  if (!text.includes(from)) throw new Error(`cgn-cluster.toml has no ${from}`);
  text = text.replace(from, to);
}
const file = join(mkdtempSync(join(tmpdir(), 'bench-sim-')), 'cluster.toml');
writeFileSync(file, text);
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

// Native.
execFileSync('cargo', ['build', '--release', '--quiet', '-p', 'mobike-sim', '--example', 'hour'],
  { cwd: root, stdio: 'inherit' });
const native = [];
let events = 0;
for (let i = 0; i < runs; i++) {
  const out = execFileSync(join(root, 'target/release/examples/hour'), [file], { encoding: 'utf8' });
  // "N events, M trace entries, S s, E events/s"
  const m = out.match(/^(\d+) events, (\d+) trace entries, ([\d.]+) s/);
  if (!m) throw new Error(`unexpected output: ${out}`);
  events = Number(m[1]);
  native.push(Number(m[3]) * 1000);
}

// Wasm, in headless Chromium.
const dist = join(root, 'dist');
if (!existsSync(join(dist, 'index.html'))) throw new Error('no dist/: run `trunk build --release` first');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml' };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '');
  const full = join(dist, path === '' ? 'index.html' : path);
  if (!full.startsWith(dist) || !existsSync(full)) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'content-type': types[extname(full)] ?? 'application/octet-stream' });
  res.end(readFileSync(full));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const wasm = [];
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('#topology .host');
  for (let i = 0; i < runs; i++) {
    const out = await page.evaluate(async (t) => {
      const m = await import('./mobike-playground.js');
      return m.bench_simulator(t);
    }, text);
    const [ev, ms] = out.split(' ').map(Number);
    if (ev !== events) throw new Error(`wasm ran ${ev} events, native ${events}: not the same run`);
    wasm.push(ms);
  }
} finally {
  await browser.close();
  server.close();
}
const wasmFile = readFileSync(join(dist, 'mobike-playground_bg.wasm'));
const wasmBytes = wasmFile.length;
// gzip -9 as a server would send it (the wasm is over a megabyte gzipped:
// no child process's output buffer).
const gz = gzipSync(wasmFile, { level: 9 }).length;
const rate = (ms) => Math.round(events / (ms / 1000)).toLocaleString('en');
console.log(`cgn-cluster, ${clients} clients, ${minutes} min: ${events.toLocaleString('en')} events, median of ${runs} runs`);
console.log(`native  ${Math.round(median(native))} ms  ${rate(median(native))} events/s`);
console.log(`wasm    ${Math.round(median(wasm))} ms  ${rate(median(wasm))} events/s  (${(median(wasm) / median(native)).toFixed(2)}x native)`);
console.log(`wasm size ${wasmBytes.toLocaleString('en')} bytes, ${gz.toLocaleString('en')} gzip -9`);
