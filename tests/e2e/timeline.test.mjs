// Time travel in the browser: the scrubber shows any moment, and a change
// made there forks the timeline (RaftScope).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, clock, playUntil } from './helpers.mjs';

const env = useBrowser();

/// Times (s) of every message row in the chart.
const rowTimes = (page) => page.locator('#chart g.msg text.t').evaluateAll((ts) => ts.map((t) => parseFloat(t.textContent)));
/// Text of every row (messages and notes), in order.
const rowTexts = (page) => page.locator('#chart g.msg, #chart g.note').allTextContents();

test('the scrubber goes back in time: clock, chart and state panels show that moment', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 22e6);
  const end = await clock(page);
  const rowsAtEnd = (await rowTimes(page)).length;
  assert.match(await page.locator('#state-laptop tr[data-key="path"] td').textContent(), /^10\.64\.0\.2:4500/, 'moved to LTE by 22 s');

  await page.locator('#scrubber').fill('5000');
  assert.equal(await clock(page), 5);
  const times = await rowTimes(page);
  assert.ok(times.length > 0 && times.length < rowsAtEnd, `${times.length} rows at 5 s, ${rowsAtEnd} at ${end} s`);
  assert.ok(times.every((t) => t <= 5), `every row is from before 5 s: ${times}`);
  assert.match(await page.locator('#state-laptop tr[data-key="path"] td').textContent(), /^192\.0\.2\.10:4500/, 'still on Wi-Fi at 5 s');
  assert.match(await page.locator('#scrub-time').textContent(), /5\.000s \(run to \d+\.\d{3}s\)/);

  // Keyboard: the focused slider moves by a tenth of a second; elsewhere
  // ← and → move by a second.
  await page.locator('#scrubber').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await clock(page), 5.1);
  await page.locator('#scrubber').evaluate((e) => e.blur());
  await page.keyboard.press('ArrowLeft');
  assert.equal(await clock(page), 4.1);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await clock(page), 6.1);
  await page.locator('#scrubber').focus();
  await page.keyboard.press('PageDown');
  assert.equal(await clock(page), 1.1);
  await page.keyboard.press('End');
  assert.equal(await clock(page), end, 'End: as far as the run went');
  await page.keyboard.press('Home');
  assert.equal(await clock(page), 0);
  assert.equal(await page.locator('#chart g.msg').count(), 0);

  // Forward again: the same chart as before.
  await page.locator('#scrubber').fill(String(Math.round(end * 1000)));
  assert.equal(await clock(page), end);
  assert.equal((await rowTimes(page)).length, rowsAtEnd);
  assert.deepEqual(errors, []);
  await page.close();
});

test('clicking a link while viewing the past forks the timeline; later rows differ', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 22e6);
  const before = await rowTexts(page);
  const updateBefore = page.locator('#chart g.msg', { hasText: 'UPDATE_SA_ADDRESSES' }).first();
  assert.ok(parseFloat(await updateBefore.locator('text.t').textContent()) > 12, 'in the old timeline the laptop moves after the 12 s break');

  await page.locator('#scrubber').fill('4000');
  assert.equal(await clock(page), 4);
  assert.equal(await page.locator('#fork-notice').count(), 0);
  await page.click('#link-wifi .hit');
  await page.click('#menu-break');
  const notice = await page.locator('#fork-notice').textContent();
  assert.match(notice, /new timeline starts at 4\.000s/);
  assert.match(notice, /up to 2\d\.\d{3}s/);
  assert.match(await page.locator('#chart').textContent(), /break link Wi-Fi \(by you\)/);
  // The run now ends here; a mark on the timeline shows the click.
  assert.match(await page.locator('#scrub-time').textContent(), /^4\.000s of /);
  assert.equal(await page.locator('.marks .mark').count(), 1);

  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 22e6);
  const afterRows = await rowTexts(page);
  assert.notDeepEqual(afterRows, before, 'the new timeline differs');
  const update = page.locator('#chart g.msg', { hasText: 'UPDATE_SA_ADDRESSES' }).first();
  assert.ok(parseFloat(await update.locator('text.t').textContent()) < 12, 'the laptop now moves right after the click');
  // The notice can be dismissed.
  await page.click('#fork-notice .dismiss');
  assert.equal(await page.locator('#fork-notice').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});
