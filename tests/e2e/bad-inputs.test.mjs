// The catalogue of bad inputs (tests/bad-inputs/) in the page, while a run
// plays: every scenario file and capture opened with Open file…, every
// share link put in the address bar. Each shows its text (NAME.expected) in
// the error panel, and the run goes on playing; never a page error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { useBrowser, open, clock } from './helpers.mjs';

const env = useBrowser();
const dir = new URL('../bad-inputs/', import.meta.url);

test('every bad scenario file, capture and share link shows its error; the run plays on', async () => {
  const files = (await readdir(dir)).filter((f) => /^(?!ike-).*\.(toml|link|pcap)$/.test(f)).sort();
  assert.ok(files.length >= 35, `${files.length} files`);
  const { page, errors } = await open(env.browser, env.server.url);
  const title = await page.locator('.scenario-title').textContent();
  await page.selectOption('#speed', '4');
  await page.click('#play');
  for (const f of files) {
    const stem = f.replace(/\.[a-z]+$/, '');
    const want = (await readFile(new URL(`${stem}.expected`, dir), 'utf8')).trimEnd();
    const before = await clock(page);
    if (f.endsWith('.link')) {
      const hash = (await readFile(new URL(f, dir), 'utf8')).trimEnd();
      await page.evaluate((h) => { window.location.hash = h; }, hash);
    } else if (f.endsWith('.pcap')) {
      await page.setInputFiles('#open-file', [new URL(f, dir).pathname, new URL('ike.keys', dir).pathname]);
    } else {
      await page.setInputFiles('#open-file', new URL(f, dir).pathname);
    }
    await page.waitForSelector('#error-message');
    const shown = await page.locator('#error-message').textContent();
    assert.ok(shown.startsWith(want), `${f}: ${JSON.stringify(shown)} does not begin ${JSON.stringify(want)}`);
    assert.equal(await page.locator('.scenario-title').textContent(), title, `${f}: the scenario changed`);
    await page.waitForFunction((t) => Number(document.querySelector('#clock').dataset.us) > t * 1e6, before);
    await page.click('#error-panel .dismiss');
    await page.waitForSelector('#error-panel', { state: 'detached' });
  }
  assert.deepEqual(errors, []);
  await page.close();
});
