// A cluster of hundreds behind a carrier-grade NAT: the member table and
// the NAT's mapping table scroll and draw only the rows in view, so the
// page stays small; scrolling brings later rows, and they work as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { useBrowser, open } from './helpers.mjs';

const env = useBrowser();

function shareLink(clients) {
  const text = readFileSync(new URL('../scenarios/cgn-cluster.toml', import.meta.url), 'utf8')
    .replace(/^count = 3$/m, `count = ${clients}`);
  assert.match(text, new RegExp(`count = ${clients}`));
  return `#v=1&scn=${deflateRawSync(Buffer.from(text), { level: 9 }).toString('base64url')}`;
}

// The same run with the simulation in the page's own thread, after jumps
// to each of `moments` (ms), each waited for.
async function inPageAfter(link, moments) {
  const here = await open(env.browser, `${env.server.url}?engine=page${link}`);
  assert.equal(here.page.workers().length, 0);
  for (const ms of moments) {
    await here.page.locator('#scrubber').fill(String(ms));
    await here.page.waitForFunction((us) => document.querySelector('#clock').dataset.us === String(us), ms * 1000, { timeout: 60000 });
  }
  return here;
}

// The page after its jumps shows the chart the same jumps show with the
// run in the page's own thread (`also` checks more of that page); the
// chart's rows.
async function chartAsInPage(page, link, moments, also = async () => {}) {
  const rows = await page.locator('#chart').getAttribute('data-rows');
  const here = await inPageAfter(link, moments);
  assert.equal(await here.page.locator('#chart').getAttribute('data-rows'), rows);
  await also(here.page);
  assert.deepEqual(here.errors, []);
  await here.page.close();
  return Number(rows);
}

test('400 clients: the member and mapping tables draw only the rows in view', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}${shareLink(400)}`);
  // Every client has its SAs and its mappings a few seconds in.
  await page.locator('#scrubber').fill('5000');
  await page.waitForFunction(() => document.querySelector('#clock').dataset.us === '5000000', null, { timeout: 60000 });
  const group = page.locator('#group-client');
  await group.locator('tr[id="row-client-1"]').waitFor();
  const drawn = await group.locator('tr[id^="row-"]').count();
  assert.ok(drawn > 10 && drawn < 60, `${drawn} member rows drawn of 400`);
  const nat = page.locator('#nat-table-cgn');
  const mappings = await nat.locator('tr:not(.spacer) td:first-child').count();
  assert.ok(mappings > 10 && mappings < 60, `${mappings} mapping rows drawn`);
  // The scroll box is as tall as all 400 rows (18 px each).
  const tall = await group.locator('.scroll').evaluate((el) => el.scrollHeight);
  assert.ok(tall >= 400 * 18, `scroll height ${tall}`);
  // Scrolled to the end, the last client is drawn; a click shows its panel.
  await group.locator('.scroll').evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await group.locator('tr[id="row-client-400"]').waitFor();
  assert.equal(await group.locator('tr[id="row-client-1"]').count(), 0, 'the first rows are left out');
  await group.locator('tr[id="row-client-400"]').click();
  await page.waitForFunction(() => document.querySelector('#group-client tr.focused')?.id === 'row-client-400');
  // The NAT's table scrolls the same way, to mappings of other clients.
  const first = await nat.locator('tr:not(.spacer) td:first-child').first().textContent();
  await nat.locator('.scroll').evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await page.waitForFunction((first) => document.querySelector('#nat-table-cgn tr:not(.spacer) td:first-child')?.textContent !== first, first);
  // The page as a whole stays small.
  const dom = await page.evaluate(() => document.getElementsByTagName('*').length);
  assert.ok(dom < 5000, `${dom} elements`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a long jump forward comes from the worker in slices and ends where one jump in the page ends', async () => {
  const link = shareLink(400);
  const { page, errors } = await open(env.browser, `${env.server.url}${link}`);
  const [worker] = page.workers();
  assert.ok(worker, 'the simulation runs in a worker');
  // Count the worker's replies: each slice of the jump is one.
  await worker.evaluate(() => {
    const post = self.postMessage.bind(self);
    self.__posted = 0;
    self.postMessage = (m, t) => { self.__posted += 1; post(m, t); };
  });
  // The progress the clock shows while the slices come in.
  await page.evaluate(() => {
    window.__progress = [];
    const clock = document.querySelector('#clock');
    new MutationObserver(() => window.__progress.push(clock.dataset.progress ?? null))
      .observe(clock, { attributes: true, attributeFilter: ['data-progress'] });
  });
  await page.locator('#scrubber').fill('35000');
  await page.waitForFunction(() => document.querySelector('#clock').dataset.us === '35000000', null, { timeout: 60000 });
  const slices = await worker.evaluate(() => self.__posted);
  assert.ok(slices >= 3, `${slices} replies for one jump`);
  const progress = await page.evaluate(() => window.__progress);
  assert.equal(progress.at(-1), null, 'no progress once the jump is in');
  const reached = progress.slice(0, -1).map((p) => {
    const m = /^([\d.]+)s of 35\.000s$/.exec(p);
    assert.ok(m, `progress ${p}`);
    return Number(m[1]);
  });
  assert.ok(reached.length >= 2, `${reached.length} progress steps`);
  reached.forEach((r, i) => assert.ok(r < 35 && (i === 0 || r >= reached[i - 1]), `${reached}`));
  // The same jump with the run in the page's own thread, in one go.
  const rows = await chartAsInPage(page, link, [35000]);
  assert.ok(rows > 1000, `${rows} chart rows`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('dragging the slider while a jump is computed sends only where it was let go', async () => {
  const link = shareLink(400);
  const { page, errors } = await open(env.browser, `${env.server.url}${link}`);
  const [worker] = page.workers();
  assert.ok(worker, 'the simulation runs in a worker');
  // Count the jumps the worker gets: commands whose first octet, the
  // variant's number in src/engine/mod.rs, is 5 (`Command::Seek`); not the
  // page's word that it took a reply in, nor its asking, once paused, to
  // run the first tick of playing ahead.
  await worker.evaluate(() => {
    const take = self.onmessage;
    self.__got = 0;
    self.onmessage = (e) => { if (e.data !== 'took' && e.data[0] === 5) self.__got += 1; take(e); };
  });
  // A jump far forward (computed in slices), then the thumb dragged back
  // over twenty places in one go, before any reply can be taken in.
  await page.evaluate(() => {
    const slider = document.querySelector('#scrubber');
    for (const v of [35000, 30000, 28000, 26000, 24000, 22000, 20000, 19000, 18000, 17000, 16000,
      15500, 15000, 14500, 14000, 13500, 13000, 12800, 12600, 12400, 12345]) {
      slider.value = String(v);
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    }
  });
  await page.waitForFunction(() => document.querySelector('#clock').dataset.us === '12345000'
    && !document.querySelector('.app[data-busy]'), null, { timeout: 60000 });
  assert.equal(await worker.evaluate(() => self.__got), 2, 'the first jump and the last place');
  // The page shows the chart of one jump there, with the run in the
  // page's own thread. (The place went as soon as the first jump's
  // slices came in, and ended that jump where it had come.)
  await chartAsInPage(page, link, [12345]);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a jump asked for during a long jump forward ends that one where it has come', async () => {
  const link = shareLink(400);
  const { page, errors } = await open(env.browser, `${env.server.url}${link}`);
  // Once its slices are coming in (the clock shows its progress), the
  // user jumps back.
  await page.evaluate(() => {
    const clock = document.querySelector('#clock');
    const seen = new MutationObserver(() => {
      if (!clock.dataset.progress) return;
      seen.disconnect();
      const slider = document.querySelector('#scrubber');
      slider.value = '5000';
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    });
    seen.observe(clock, { attributes: true, attributeFilter: ['data-progress'] });
  });
  await page.locator('#scrubber').fill('35000');
  await page.waitForFunction(() => document.querySelector('#clock').dataset.us === '5000000'
    && !document.querySelector('.app[data-busy]'), null, { timeout: 60000 });
  // The run went on past 5 s only as far as the first jump had come (if
  // that was before 5 s, the second jump ran on to it).
  const text = await page.locator('#scrub-time').textContent();
  const m = /^5\.000s (?:of 40\.000s|\(run to ([\d.]+)s\))$/.exec(text);
  assert.ok(m, text);
  const reached = m[1] === undefined ? null : Number(m[1]);
  assert.ok(reached === null || reached < 35, `the first jump stopped at ${reached} s`);
  // The same jumps with the run in the page's own thread show the same.
  await chartAsInPage(page, link, reached === null ? [5000] : [Math.round(reached * 1000), 5000],
    async (here) => assert.equal(await here.locator('#scrub-time').textContent(), text));
  assert.deepEqual(errors, []);
  await page.close();
});
