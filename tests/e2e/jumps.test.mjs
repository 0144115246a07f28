// Jumps with the time slider: back, and forward again over the stretch run
// before (which starts from the latest checkpoint on the way and takes up
// the trace the page kept), show exactly what the first run there showed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open } from './helpers.mjs';

const env = useBrowser();

const CLUSTER = 'Cluster moves 20 clients by responder MOBIKE';

async function seek(page, ms) {
  await page.locator('#scrubber').fill(String(ms));
  await page.waitForFunction((us) => Number(document.querySelector('#clock').dataset.us) === us
    && !document.querySelector('.app[data-busy]'), ms * 1000);
}

/// What the page shows: the chart's row count and drawn rows, and the
/// text of the whole page (panels, tables, clock).
async function shown(page) {
  return page.evaluate(() => ({
    rows: document.querySelector('#chart').getAttribute('data-rows'),
    drawn: [...document.querySelectorAll('#chart g.msg, #chart g.note, #chart g.run')].map((g) => g.textContent),
    text: document.body.innerText,
  }));
}

test('slider: back and forward again shows what the first run showed', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  const value = await page.locator('#scenario option', { hasText: CLUSTER }).getAttribute('value');
  await page.selectOption('#scenario', value);
  await seek(page, 27000);
  const first = await shown(page);
  assert.ok(Number(first.rows) > 100, `${first.rows} rows`);
  for (const back of [21300, 4000, 12000]) {
    await seek(page, back);
    const there = await shown(page);
    assert.ok(Number(there.rows) <= Number(first.rows), `${there.rows} rows at ${back} ms`);
    assert.notEqual(there.text, first.text, `the page at ${back} ms`);
    await seek(page, 27000);
    assert.deepEqual(await shown(page), first, `forward again from ${back} ms`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});
