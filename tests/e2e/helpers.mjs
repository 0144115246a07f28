// Shared set-up for the browser tests: a static server for dist/ on a free
// loopback port, and Debian's Chromium driven by playwright-core (which
// downloads no browser of its own).
import { before, after } from 'node:test';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../tools/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.svg': 'image/svg+xml', '.toml': 'text/plain',
};

export async function serveDist() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(DIST, path.endsWith('/') ? `${path}index.html` : path);
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
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/// Opens the page and collects page errors; `errors` must stay empty.
/// One static server and one browser for a test file: registers the
/// before/after hooks and returns an object whose `server` and `browser`
/// are set once the tests run.
export function useBrowser() {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    env.server = await serveDist();
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}

export async function open(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  settling(page);
  await page.goto(url);
  await page.waitForSelector('#topology .host');
  await settled(page);
  return { page, errors };
}

/// Waits until the page has shown the outcome of what was done: the
/// simulation runs in a Web Worker, and the page marks its root
/// `data-busy` while a command (other than a tick of playing) waits for
/// the worker's reply.
export async function settled(page) {
  await page.waitForFunction(() => !document.querySelector('.app[data-busy]'), null, { timeout: 20000 });
}

const INPUTS = ['click', 'dblclick', 'tap', 'fill', 'selectOption', 'check', 'uncheck', 'press', 'setInputFiles', 'dispatchEvent'];

/// Every input through `page` (and its locators, keyboard and mouse) waits
/// for its outcome to be shown (see `settled`) before it returns, as a
/// user would look before the next step. `open` does this for its pages;
/// a test that makes its own page calls it.
export function settling(page) {
  const wrap = (obj, names, pageOf) => {
    for (const name of names) {
      const original = obj[name];
      if (typeof original !== 'function' || original.settles) continue;
      const wrapped = async function (...args) {
        const result = await original.apply(this, args);
        const p = pageOf(this);
        if (p && !p.isClosed()) await settled(p).catch(() => {});
        return result;
      };
      wrapped.settles = true;
      obj[name] = wrapped;
    }
  };
  wrap(page, INPUTS, () => page);
  wrap(page.keyboard, ['press', 'type'], () => page);
  wrap(page.mouse, ['up', 'click', 'dblclick'], () => page);
  // Locators share one prototype: wrapped once for every page.
  wrap(Object.getPrototypeOf(page.locator('body')), INPUTS, (loc) => loc.page());
}

/// Text of one row of a host's state panel.
export function stateRow(page, host, key) {
  return page.locator(`#state-${host} tr[data-key="${key}"] td`).textContent();
}

/// Virtual time on the clock, in seconds.
export async function clock(page) {
  return Number(await page.locator('#clock').getAttribute('data-us')) / 1e6;
}

/// Centre of an element's bounding box in page coordinates.
export async function centre(locator) {
  const b = await locator.boundingBox();
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/// Plays at the given speed until `predicate` (run in the page) holds, then
/// pauses. Each animation tick advances a fixed 40 ms × speed of virtual
/// time, so a slow machine only makes the test slower: at speed 1 the pause
/// lands a few ticks (tenths of a virtual second) after the predicate held.
export async function playUntil(page, speed, predicate, arg) {
  await page.selectOption('#speed', String(speed));
  await page.click('#play');
  await page.waitForFunction(predicate, arg, { timeout: 20000 });
  // Pause, unless playback already stopped by itself at the scenario's
  // end (then a click would go on past it); checked and clicked in one go.
  await page.evaluate(() => {
    const play = document.querySelector('#play');
    if (play.classList.contains('on')) play.click();
  });
  // Ticks still on their way land before anything is read.
  await settled(page);
}
