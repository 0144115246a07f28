// Share links: a link replays the run exactly in a new page; a broken one
// shows what is wrong and the page still works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { useBrowser, open, clock, playUntil } from './helpers.mjs';

const env = useBrowser();

const rowTexts = (page) => page.locator('#chart g.msg, #chart g.note').allTextContents();
const b64url = (text) => deflateRawSync(Buffer.from(text)).toString('base64url');

test('Share puts a link in the URL; opened in a new page it shows the same chart at the same time', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await playUntil(page, 4, () => Number(document.querySelector('#clock').dataset.us) >= 3e6);
  await page.click('#link-wifi .hit');
  await page.click('#menu-break');
  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 9e6);
  await page.locator('#nat-cgn rect').dragTo(page.locator('#link-wifi .hit'), { force: true });
  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 14e6);
  // Look at an earlier moment and share that.
  await page.locator('#scrubber').fill('12500');
  const at = await clock(page);
  const rows = await rowTexts(page);
  const nat = await page.locator('#nat-table-cgn').textContent();
  const laptop = await page.locator('#state-laptop').textContent();

  await page.click('#share');
  const link = await page.locator('#share-link').inputValue();
  assert.match(link, /#v=1&ex=wifi-to-lte&seed=7&t=12500000&run=/);
  assert.equal(new URL(page.url()).hash, new URL(link).hash, 'the address bar has the link');

  const { page: other, errors: otherErrors } = await open(env.browser, link);
  assert.equal(await clock(other), at);
  assert.deepEqual(await rowTexts(other), rows);
  assert.equal(await other.locator('#nat-table-cgn').textContent(), nat);
  assert.equal(await other.locator('#state-laptop').textContent(), laptop);
  assert.equal(await other.locator('#nat-cgn').getAttribute('data-link'), await page.locator('#nat-cgn').getAttribute('data-link'));
  assert.equal(await other.locator('#error-panel').count(), 0);
  // Playing on replays the rest of the shared run: the same later rows.
  await page.locator('#scrubber').fill('14000');
  await other.locator('#scrubber').fill('14000');
  assert.deepEqual(await rowTexts(other), await rowTexts(page));
  assert.deepEqual(errors, []);
  assert.deepEqual(otherErrors, []);
  await page.close();
  await other.close();
});

test('a broken share link names what is wrong and the default scenario still runs', async () => {
  const run = b64url(JSON.stringify({ log: [[1000000, { do: 'break_link', link: 'wifi' }], [2000000, { do: 'break_link', link: 'wlan' }]] }));
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=wifi-to-lte&seed=7&t=3000000&run=${run}`);
  assert.equal(await page.locator('#error-message').textContent(), 'share link: intervention 2: unknown link "wlan" (links: wifi, lte, uplink)');
  assert.match(await page.locator('#error-panel').textContent(), /could not be opened/);
  assert.equal(await page.locator('.scenario-title').textContent(), 'Laptop roams from Wi-Fi to LTE behind a carrier NAT');
  assert.equal(await clock(page), 0);
  assert.equal(new URL(page.url()).hash, '', 'the bad hash is taken out of the address bar');
  await playUntil(page, 4, () => Number(document.querySelector('#clock').dataset.us) >= 1e6);
  assert.ok(await page.locator('#chart g.msg').count() > 0, 'the page still works');
  await page.click('#error-panel .dismiss');
  assert.equal(await page.locator('#error-panel').count(), 0);

  for (const [hash, want] of [
    ['#v=1&ex=no-such-example', 'share link: unknown example "no-such-example"'],
    ['#v=1&ex=wifi-to-lte&run=%%%', 'share link: the run data (run) is not valid base64url'],
    [`#v=1&scn=${b64url('version = 1\ntitle = [\n')}`, 'share link: scenario: line 2'],
  ]) {
    const { page: p, errors: e } = await open(env.browser, `${env.server.url}${hash}`);
    assert.ok((await p.locator('#error-message').textContent()).startsWith(want), hash);
    assert.ok(await p.locator('#topology .host').count() > 0);
    assert.deepEqual(e, []);
    await p.close();
  }
  assert.deepEqual(errors, []);
  await page.close();
});
