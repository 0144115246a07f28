// Determinism across targets: every example run in the page's wasm gives
// the trace hash pinned natively (tests/trace-hashes.txt, which a native
// test checks): the same scenario and seed, the same bytes, in Chromium as
// on the command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { useBrowser, open } from './helpers.mjs';

const env = useBrowser();

test('every example gives the native trace hash in the page', async () => {
  const pinned = (await readFile(new URL('../trace-hashes.txt', import.meta.url), 'utf8'))
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(' '));
  assert.ok(pinned.length >= 20, `${pinned.length} examples pinned`);
  const { page, errors } = await open(env.browser, env.server.url);
  for (const [name, hash] of pinned) {
    const text = await readFile(new URL(`../../examples/${name}.toml`, import.meta.url), 'utf8');
    const got = await page.evaluate(async (t) => {
      const m = await import('./mobike-playground.js');
      return m.trace_hash(t);
    }, text);
    assert.equal(got, hash, `${name}: the wasm trace differs from the native one`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});
