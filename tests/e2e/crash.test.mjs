// The page survives its own bugs: a panic in the reducer (provoked by a
// test-only button, shown when the page is opened with ?test-panic) puts
// the crash panel over the page with what happened and where, a share link
// that replays the run up to the moment before, and a reload that offers
// the autosaved work back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, clock } from './helpers.mjs';

const env = useBrowser();

test('a panic shows the crash panel with a link that replays the run up to it', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}?test-panic#v=1&ex=wifi-to-lte`);
  assert.equal(await page.locator('#crash-panel').count(), 0);
  for (let i = 0; i < 12; i += 1) await page.keyboard.press('.');
  const at = await clock(page);
  assert.ok(at > 0, `clock ${at}`);
  await page.click('#provoke-panic');
  await page.waitForSelector('#crash-panel');
  // Clicks into the stopped page may panic again: one panel stays.
  await page.mouse.click(200, 200);
  assert.equal(await page.locator('#crash-panel').count(), 1);
  assert.equal(await page.locator('#crash-title').textContent(), 'The playground hit a bug and stopped');
  const message = await page.locator('#crash-message').textContent();
  assert.match(message, /a panic provoked for a test \(at src\/state\.rs:\d+\), while doing ProvokePanic/);
  const link = await page.locator('#crash-link').inputValue();
  assert.match(link, new RegExp(`#v=1&ex=wifi-to-lte&seed=7&t=${Math.round(at * 1e6)}$`));
  assert.equal(await page.locator('#crash-replay').getAttribute('href'), `/#${link.split('#')[1]}`);
  assert.equal(await page.locator('#crash-reload').getAttribute('href'), '/');
  // The panel is on top of everything: the page under it takes no clicks.
  const box = await page.locator('#crash-panel').boundingBox();
  assert.ok(box.width >= 1400 && box.height >= 900, `panel ${box.width}×${box.height}`);
  // What the console got: our report, and the trap the abort left.
  assert.ok(errors.some((e) => e.includes('MOBIKE Playground stopped: a panic provoked for a test')), errors.join('\n'));
  assert.ok(errors.every((e) => /MOBIKE Playground stopped|unreachable/.test(e)), errors.join('\n'));
  // The link replays the run to that moment in a fresh page.
  const { page: again, errors: errors2 } = await open(env.browser, link);
  assert.equal(await clock(again), at);
  assert.equal(await again.locator('#crash-panel').count(), 0);
  assert.deepEqual(errors2, []);
  await again.close();
  await page.close();
});
