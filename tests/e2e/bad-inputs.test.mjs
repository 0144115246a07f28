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
  // At 1x the example's 25 s outlast the catalogue on most machines;
  // where they do not, playback stops once at the end with its notice, and
  // Play goes on past it (what a user does then).
  await page.selectOption('#speed', '1');
  await page.click('#play');
  const playsOn = async (f, before) => {
    await page.waitForFunction((t) => Number(document.querySelector('#clock').dataset.us) > t * 1e6
      || !document.querySelector('#play').classList.contains('on'), before);
    if (/\bon\b/.test(await page.locator('#play').getAttribute('class'))) return;
    assert.equal(await page.locator('#ended-notice').count(), 1, `${f}: playing stopped before the end`);
    await page.click('#ended-notice .dismiss');
    await page.click('#play');
    await page.waitForFunction((t) => Number(document.querySelector('#clock').dataset.us) > t * 1e6, before);
  };
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
    await playsOn(f, before);
    // A notice that comes meanwhile (the scenario's end) moves the button
    // between Playwright's look at it and its click: click again until
    // the panel goes (a panel that will not go fails here).
    for (let k = 0; ; k++) {
      await page.click('#error-panel .dismiss');
      try {
        await page.waitForSelector('#error-panel', { state: 'detached', timeout: 3000 });
        break;
      } catch (e) {
        if (k >= 3) throw e;
      }
    }
  }
  assert.deepEqual(errors, []);
  await page.close();
});
