// Serving: dist/ works from a sub-path of a static host (its assets load
// relative to the page), and under its Content-Security-Policy no request
// leaves the origin and nothing the page does is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, playUntil, settled, settling } from './helpers.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.svg': 'image/svg+xml',
};
const PREFIX = '/play/';

let server;
let browser;
let origin;
/** Every path asked of the server. */
const asked = [];

before(async () => {
  // A static host that has the page under /play/ only: anything else is 404.
  server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    asked.push(path);
    if (!path.startsWith(PREFIX)) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    const rest = normalize(path.slice(PREFIX.length)).replace(/^(\.\.[/\\])+/, '');
    const file = join(DIST, rest === '' || rest === '.' ? 'index.html' : rest);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await new Promise((ok) => server?.close(ok));
});

test('the page runs from a sub-path, asks only its own origin, and its CSP refuses nothing of its own', async () => {
  const html = await readFile(join(DIST, 'index.html'), 'utf8');
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' 'wasm-unsafe-eval';/);
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(html, /(href|src)="\//, 'no absolute asset path');

  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  settling(page);
  const requests = [];
  const failed = [];
  const errors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) errors.push(m.text()); });
  await page.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${origin}${PREFIX}`);
  await page.waitForSelector('#topology .host');
  await settled(page);
  // Use it: play, open a menu and act, inspect a message, share.
  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 3e6);
  await page.click('#link-wifi .hit');
  await page.click('#menu-break');
  await page.locator('#chart g.msg').first().click();
  await page.click('#share');
  const link = await page.locator('#share-link').inputValue();
  assert.ok(link.startsWith(`${origin}${PREFIX}#v=1&`), link);

  assert.deepEqual(await page.evaluate(() => window.violations), [], 'no CSP violation');
  assert.deepEqual(errors, []);
  assert.deepEqual(failed, []);
  assert.ok(requests.length >= 4, requests.join(' '));
  for (const url of requests) {
    assert.ok(url.startsWith(`${origin}${PREFIX}`) || url.startsWith('data:'), `left the page's files: ${url}`);
  }
  assert.ok(asked.every((p) => p.startsWith(PREFIX) || p === '/favicon.ico'), asked.join(' '));
  assert.ok(requests.some((u) => u.endsWith('.wasm')), 'the wasm came from the sub-path');

  // The policy does refuse the outside world: a fetch elsewhere fails and is
  // reported, and never reaches the network.
  const outside = await page.evaluate(async () => {
    try {
      await fetch('http://example.invalid/x');
      return 'fetched';
    } catch (e) {
      return e.name;
    }
  });
  assert.equal(outside, 'TypeError');
  await page.waitForFunction(() => window.violations.length > 0);
  assert.match((await page.evaluate(() => window.violations))[0], /^connect-src http:\/\/example\.invalid/);
  assert.ok(!requests.some((u) => u.includes('example.invalid')));
  await page.close();

  // The share link opens from the sub-path too.
  const other = await browser.newPage();
  const otherErrors = [];
  other.on('pageerror', (e) => otherErrors.push(e.message));
  await other.goto(link);
  await other.waitForSelector('#topology .host');
  await settled(other);
  assert.match(await other.locator('#chart').textContent(), /break link Wi-Fi \(by you\)/);
  assert.deepEqual(otherErrors, []);
  await other.close();
});
