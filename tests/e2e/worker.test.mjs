// The simulation runs in a Web Worker beside the page (src/engine): the
// page keeps a mirror of the run that its panels read. The run is the same
// one the page's own thread makes (`?engine=page`), byte for byte, through
// playing, a jump back and an intervention in the past; and a worker that
// fails hands the run to the page, which goes on from the moment shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBrowser, open, clock, stateRow, settled } from './helpers.mjs';
import { clusterUrl } from '../../tools/cluster-link.mjs';

const env = useBrowser();

async function seek(page, ms) {
  await page.locator('#scrubber').fill(String(ms));
  await page.waitForFunction((us) => Number(document.querySelector('#clock').dataset.us) === us, ms * 1000);
}

/// Plays at 64× until the clock passes `s` seconds, then pauses.
async function playPast(page, s) {
  await page.selectOption('#speed', '64');
  await page.click('#play');
  await page.waitForFunction((us) => Number(document.querySelector('#clock').dataset.us) >= us, s * 1e6, { timeout: 30000 });
  await page.click('#play');
}

/// The JSON document of the run as shown (Export menu).
async function json(page, dir) {
  if (await page.locator('#export-panel').count() === 0) await page.click('#export');
  const [d] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const path = join(dir, `${Date.now()}-${d.suggestedFilename()}`);
  await d.saveAs(path);
  await page.keyboard.press('Escape');
  return readFile(path, 'utf8');
}

/// The cluster of 20 played past 20 s, back to 7.3 s, a link broken there
/// (a new timeline), on to 15 s: the run's JSON document then.
async function session(page, dir) {
  await playPast(page, 20);
  await seek(page, 7300);
  await page.click('#link-access .hit');
  await page.click('#menu-break');
  assert.match(await page.locator('#fork-notice').textContent(), /You changed the past/);
  await seek(page, 15000);
  return json(page, dir);
}

test('the run is in a worker, and the same as in the page itself', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mobike-worker-'));
  const url = `${env.server.url}#v=1&ex=cluster-20-mobike`;
  const inWorker = await open(env.browser, url);
  assert.equal(inWorker.page.workers().length, 1, 'one worker runs the simulation');
  const a = await session(inWorker.page, dir);

  const inPage = await open(env.browser, `${env.server.url}?engine=page#v=1&ex=cluster-20-mobike`);
  assert.equal(inPage.page.workers().length, 0, '?engine=page runs it in the page');
  const b = await session(inPage.page, dir);

  assert.ok(a.length > 10000, `${a.length} octets`);
  assert.equal(a, b, 'the same run, byte for byte');
  assert.match(a, /"break link Access \(by you\)"/);
  assert.deepEqual(inWorker.errors, []);
  assert.deepEqual(inPage.errors, []);
  await inWorker.page.close();
  await inPage.page.close();
});

test('a worker that fails hands the run to the page, which goes on', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await playPast(page, 3);
  const at = await clock(page);
  const [worker] = page.workers();
  // An error the worker does not catch: its `error` event reaches the page.
  await worker.evaluate(() => setTimeout(() => { throw new Error('a failure provoked for a test'); }));
  await page.waitForSelector('#error-panel');
  const shown = await page.locator('#error-panel').textContent();
  assert.match(shown, /The simulation's worker stopped; the run goes on in the page/);
  assert.match(shown, /a failure provoked for a test/);
  await page.waitForFunction(() => !document.querySelector('.app[data-busy]'));
  assert.equal(await clock(page), at, 'the moment shown stays');
  // The run goes on here: the IKE SA is up and playing moves the clock.
  assert.match(await stateRow(page, 'laptop', 'state'), /Established/);
  await page.click('#step');
  assert.ok(await clock(page) > at);
  assert.ok(errors.every((e) => /a failure provoked for a test/.test(e)), errors.join('\n'));
  await page.close();
});

test('playing, the chart keeps the newest messages in view; scrolled up, it stays there', async () => {
  // 200 clients: replies large and one after another while they start.
  const { page, errors } = await open(env.browser, clusterUrl(env.server.url, 200));
  const gap = () => page.evaluate(() => {
    const c = document.querySelector('#chart');
    return { below: c.scrollHeight - c.scrollTop - c.clientHeight, top: c.scrollTop };
  });
  // How much of the chart's view, below its lane headers, no drawn row
  // reaches down to: the rows are drawn for where the chart stands.
  const blank = () => page.evaluate(() => {
    const c = document.querySelector('#chart');
    const box = c.getBoundingClientRect();
    const head = c.querySelector('.lane-heads')?.getBoundingClientRect().bottom ?? box.top;
    const tops = [...c.querySelectorAll('[data-row]')].map((r) => r.getBoundingClientRect())
      .filter((r) => r.bottom > head && r.top < box.bottom).map((r) => r.top);
    return tops.length ? Math.max(0, Math.min(...tops) - head) : box.bottom - head;
  });
  // The scroll events of following them must not stop it.
  await playPast(page, 25);
  assert.ok((await gap()).below < 40, JSON.stringify(await gap()));
  assert.ok(await blank() < 60, `following, the view is drawn: ${await blank()} px blank`);
  await page.locator('#chart').evaluate((c) => { c.scrollTop = 0; c.dispatchEvent(new Event('scroll')); });
  await playPast(page, 29);
  assert.ok((await gap()).top < 100, `scrolled up, the chart stays: ${JSON.stringify(await gap())}`);
  assert.ok(await blank() < 60, `scrolled up, the view is drawn: ${await blank()} px blank`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a pause keeps the moment the clock showed at the click', async () => {
  // 200 clients at 64×: two ticks on their way hold up to 5 s of the run.
  const { page, errors } = await open(env.browser, clusterUrl(env.server.url, 200));
  await page.selectOption('#speed', '64');
  await page.click('#play');
  for (const past of [8, 16]) {
    await page.waitForFunction((us) => Number(document.querySelector('#clock').dataset.us) >= us, past * 1e6, { timeout: 30000 });
    // Read and click in one task: no reply of the worker comes between.
    const shown = await page.evaluate(() => {
      const us = Number(document.querySelector('#clock').dataset.us);
      document.querySelector('#play').click();
      return us;
    });
    await settled(page);
    assert.equal(await page.locator('#clock').getAttribute('data-us'), String(shown));
    assert.ok(!(await page.locator('#play').getAttribute('class')).includes('on'), 'paused');
    if (past === 8) {
      await page.click('#play');
      continue;
    }
    // Acting at the moment shown changes no past the user saw: the run
    // the ticks made past it is forgotten, so no fork notice.
    await page.click('#link-node1 .hit');
    await page.waitForSelector('#menu[data-target="link:node1"]');
    await page.click('#menu-break');
    await page.waitForSelector('#menu', { state: 'detached' });
    await settled(page);
    assert.equal(await page.locator('#chart g.note', { hasText: '(by you)' }).count(), 1);
    assert.equal(await page.locator('#fork-notice').count(), 0, 'no fork');
    assert.equal(await page.locator('#clock').getAttribute('data-us'), String(shown));
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('paused, the worker runs the first tick ahead: Play moves the clock a whole tick at once', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=cluster-20-mobike`);
  await page.selectOption('#speed', '64');
  // A user reads the page before pressing Play; the worker runs meanwhile.
  await page.waitForTimeout(1500);
  await page.evaluate(() => {
    const clockEl = document.querySelector('#clock');
    window.__firstMove = null;
    new MutationObserver(() => {
      const us = Number(clockEl.dataset.us);
      if (window.__firstMove === null && us > 0) window.__firstMove = us;
    }).observe(clockEl, { attributes: true, attributeFilter: ['data-us'] });
  });
  await page.click('#play');
  await page.waitForFunction(() => window.__firstMove !== null, null, { timeout: 30000 });
  await page.click('#play');
  // The first tick at 64× is 40 ms of wall clock, 2.56 s of virtual time:
  // 20 clients' key exchanges, which a tick's budget alone cannot compute
  // (the first reply then reaches about 0.1 s).
  const first = await page.evaluate(() => window.__firstMove);
  assert.ok(first >= 2560000, `the clock's first move went to ${first} µs`);
  assert.equal(first % 2560000, 0, `a whole number of ticks: ${first} µs`);
  assert.deepEqual(errors, []);
  await page.close();
});
