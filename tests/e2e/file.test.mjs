// Opening a scenario file from disk: a good one replaces the scenario, a
// bad one shows where it is wrong and the current run goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { useBrowser, open, clock, playUntil } from './helpers.mjs';

const env = useBrowser();

const example = (name) => readFile(new URL(`../../examples/${name}.toml`, import.meta.url), 'utf8');

test('a valid file becomes the scenario, listed as "(from file)"', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await playUntil(page, 4, () => Number(document.querySelector('#clock').dataset.us) >= 1e6);
  const text = (await example('wifi-to-lte')).replace(/^title = .*$/m, 'title = "My own roaming lab"');
  await page.setInputFiles('#open-file', { name: 'lab.toml', mimeType: 'text/plain', buffer: Buffer.from(text) });
  await page.waitForFunction(() => document.querySelector('.scenario-title').textContent === 'My own roaming lab');
  assert.equal(await clock(page), 0);
  assert.equal(await page.locator('#scenario option:checked').textContent(), '(from file) My own roaming lab');
  assert.equal(await page.locator('#error-panel').count(), 0);
  await playUntil(page, 16, () => document.querySelector('#state-laptop tr[data-key="state"] td')?.textContent.startsWith('Established'));
  // Its share link carries the whole text.
  await page.click('#share');
  assert.match(await page.locator('#share-link').inputValue(), /#v=1&scn=[A-Za-z0-9_-]+&seed=7&t=/);
  const { page: other } = await open(env.browser, await page.locator('#share-link').inputValue());
  assert.equal(await other.locator('.scenario-title').textContent(), 'My own roaming lab');
  await other.close();
  // Back to a built-in example.
  await page.selectOption('#scenario', { label: 'Laptop roams from Wi-Fi to LTE behind a carrier NAT' });
  assert.equal(await page.locator('#scenario option', { hasText: '(from file)' }).count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a file with a syntax error shows line, column and the line itself; the run goes on', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await playUntil(page, 4, () => Number(document.querySelector('#clock').dataset.us) >= 2e6);
  const at = await clock(page);
  const lines = (await example('wifi-to-lte')).split('\n');
  const bad = lines.findIndex((l) => l === '[[link]]');
  lines[bad] = '[[link]';
  await page.setInputFiles('#open-file', { name: 'broken.toml', mimeType: 'text/plain', buffer: Buffer.from(lines.join('\n')) });
  await page.waitForSelector('#error-panel');
  assert.match(await page.locator('#error-panel strong').textContent(), /Could not open broken\.toml; the current scenario keeps running/);
  assert.match(await page.locator('#error-message').textContent(), new RegExp(`^line ${bad + 1}, column \\d+: `));
  assert.match(await page.locator('#error-panel .excerpt').textContent(), /\[\[link\]\n\s+\^/);
  assert.equal(await page.locator('.scenario-title').textContent(), 'Laptop roams from Wi-Fi to LTE behind a carrier NAT');
  assert.equal(await clock(page), at, 'the current run is untouched');

  // A field the format does not know: named, with its place.
  const text = (await example('wifi-to-lte')).replace('seed = 7', 'seed = 7\ncolour = "blue"');
  await page.setInputFiles('#open-file', { name: 'extra.toml', mimeType: 'text/plain', buffer: Buffer.from(text) });
  await page.waitForFunction(() => document.querySelector('#error-message')?.textContent.includes('colour'));
  assert.match(await page.locator('#error-message').textContent(), /^line \d+, column 1: unknown field `colour`/);
  await page.click('#error-panel .dismiss');
  assert.equal(await page.locator('#error-panel').count(), 0);
  await playUntil(page, 4, () => Number(document.querySelector('#clock').dataset.us) >= 3e6);
  assert.deepEqual(errors, []);
  await page.close();
});

const traces = new URL('../../crates/wire/tests/data/strongswan-mobike-basic/', import.meta.url);

test('a real capture opened with its key file: the strongSwan run decrypted, nothing runs or changes it', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await page.setInputFiles('#open-file', [new URL('trace-server.pcap', traces).pathname, new URL('keys', traces).pathname]);
  await page.waitForFunction(() => document.querySelector('#scenario option:checked')?.textContent.startsWith('(capture)'));
  assert.match(await page.locator('#fork-notice').textContent(), /14 datagrams of 20 frames, 1 IKE SA \(1 with keys\)/);
  assert.equal(await page.locator('.chart [data-packet]').count(), 14);
  assert.equal(await page.locator('.chart', { hasText: 'SK {...}' }).count(), 0, 'every message decrypts');
  assert.match(await page.locator('.chart').textContent(), /client\.oracle\.test/);
  assert.ok(await page.locator('#play').isDisabled());
  assert.ok(await page.locator('#share').isDisabled());
  assert.ok(await page.locator('#recorded-note').isVisible());
  // The first UPDATE_SA_ADDRESSES, decrypted in the inspector with its rules.
  await page.locator('.chart [data-packet]', { hasText: 'UPDATE_SA_ADDRESSES' }).first().click();
  await page.waitForFunction(() => document.querySelector('#inspector h2').textContent.startsWith('INFORMATIONAL request #3'));
  assert.match(await page.locator('#inspector').textContent(), /N\(UPDATE_SA_ADDRESSES\) \[16400\]/);
  assert.match(await page.locator('#inspector').textContent(), /RFC 4555 §3\.5/);
  // Step (".") is refused with a notice; the clock stays at the end.
  const at = await clock(page);
  await page.keyboard.press('.');
  await page.waitForFunction(() => /recorded capture/.test(document.querySelector('#fork-notice')?.textContent ?? ''));
  assert.equal(await clock(page), at);
  // A cut capture is refused with its place; the capture stays.
  const cut = (await readFile(new URL('trace-server.pcap', traces))).subarray(0, 100);
  await page.setInputFiles('#open-file', { name: 'cut.pcap', mimeType: 'application/octet-stream', buffer: cut });
  await page.waitForSelector('#error-panel');
  assert.match(await page.locator('#error-message').textContent(), /^cut\.pcap: frame \d+: the file ends inside it/);
  assert.equal(await page.locator('.chart [data-packet]').count(), 14);
  // A built-in example runs again.
  await page.selectOption('#scenario', { label: 'Laptop roams from Wi-Fi to LTE behind a carrier NAT' });
  assert.ok(!(await page.locator('#play').isDisabled()));
  assert.deepEqual(errors, []);
  await page.close();
});
