// Big scenarios readable in the chart: a host group is one lane naming
// its member on each arrow (expandable), filters by host, exchange and
// kind, search with next/previous, routine traffic folded per run,
// playback that stops at the scenario's `until`, and messages reachable
// from the keyboard alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, clock } from './helpers.mjs';

const env = useBrowser();

/// Opens the page at 1440 px on an example (by its title) and moves the
/// time slider to `ms`.
async function at(title, ms) {
  const { page, errors } = await open(env.browser, env.server.url);
  if (title) {
    const value = await page.locator('#scenario option', { hasText: title }).getAttribute('value');
    await page.selectOption('#scenario', value);
  }
  await page.locator('#scrubber').fill(String(ms));
  await page.waitForFunction((us) => Number(document.querySelector('#clock').dataset.us) === us, ms * 1000);
  return { page, errors };
}

const CLUSTER = 'Cluster moves 20 clients by responder MOBIKE';
/// Rows the chart draws in all (a long chart draws only those near view).
const rowCount = async (page) => Number(await page.locator('#chart').getAttribute('data-rows'));
const rowsText = (page) => page.locator('#chart g.msg, #chart g.note, #chart g.run').allTextContents();

/// Lane headers as boxes, left to right.
async function headBoxes(page) {
  const boxes = await page.locator('#chart .lane-head').evaluateAll((els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    const text = [...e.querySelectorAll('span')].map((s) => s.textContent).join(' ');
    return { left: r.left, right: r.right, text };
  }));
  return boxes.sort((a, b) => a.left - b.left);
}

function assertNoOverlap(boxes) {
  for (let i = 1; i < boxes.length; i++) {
    assert.ok(boxes[i - 1].right <= boxes[i].left + 0.5,
      `headers overlap: ${boxes[i - 1].text} [${boxes[i - 1].right}] and ${boxes[i].text} [${boxes[i].left}]`);
  }
}

/// Arrow labels that sit over a lifeline: none of them may.
async function labelsOverLifelines(page) {
  return page.evaluate(() => {
    const xs = [...document.querySelectorAll('#chart line.lane')].map((l) => l.getBoundingClientRect().left);
    return [...document.querySelectorAll('#chart g.msg text.l')]
      .map((t) => ({ r: t.getBoundingClientRect(), text: t.textContent }))
      .filter(({ r }) => xs.some((x) => x > r.left + 0.5 && x < r.right - 0.5))
      .map(({ text }) => text);
  });
}

test('cluster-20: the clients are one lane, every arrow names its client, and the lane expands', async () => {
  const { page, errors } = await at(CLUSTER, 30000);
  assert.equal(await page.locator('#chart line.lane').count(), 2, 'a lane for the group and one for the cluster');
  const heads = await headBoxes(page);
  assert.deepEqual(heads.map((h) => h.text), ['Client ×20 ▸ initiator', 'Cluster responder']);
  assertNoOverlap(heads);
  assert.deepEqual(await labelsOverLifelines(page), []);
  // Every drawn arrow names its member; the chart's bottom rows are drawn.
  const who = await page.locator('#chart g.msg').evaluateAll((gs) => gs.map((g) => g.querySelector('.who')?.textContent));
  assert.ok(who.length > 0);
  assert.ok(who.every((w) => /^client-([1-9]|1\d|20)$/.test(w)), `members: ${who}`);
  // A long chart draws only the rows near the view: far fewer elements.
  assert.ok(await rowCount(page) > 300);
  assert.ok(await page.locator('#chart *').count() < 1500);

  // Expanded: a lane per client, headers apart, a band folds it again.
  await page.click('#chart button.lane-head.group');
  assert.equal(await page.locator('#chart line.lane').count(), 21);
  const expanded = await headBoxes(page);
  assert.equal(expanded.length, 21);
  assertNoOverlap(expanded);
  assert.match(expanded[6].text, /Client 7/);
  assert.equal(await page.locator('#chart g.msg .who').count(), 0, 'each client has its own lane now');
  await page.click('#chart button.group-span');
  assert.equal(await page.locator('#chart line.lane').count(), 2);

  // The host filter offers every lane once, and the group once, right
  // before its first member.
  const choices = await page.locator('#chart-host option').evaluateAll((os) => os.map((o) => o.value));
  assert.equal(choices.filter((v) => v === 'group:client').length, 1, `${choices}`);
  assert.equal(choices[choices.indexOf('group:client') + 1], 'client-1', `${choices}`);
  assert.equal(new Set(choices).size, choices.length, `${choices}`);
  assert.ok(choices.includes('client-20'), `${choices}`);

  // Filter by a host of the group: only client-7's messages.
  const before = await rowCount(page);
  await page.selectOption('#chart-host', 'client-7');
  const only = await page.locator('#chart g.msg .who').allTextContents();
  assert.ok(only.length > 0 && only.every((w) => w === 'client-7'), `members: ${only}`);
  assert.ok(await rowCount(page) < before / 5);
  await page.click('#chart-clear');
  assert.equal(await rowCount(page), before);
  assert.deepEqual(errors, []);
  await page.close();
});

test('wifi-to-lte: folding keepalives and liveness checks makes one row per run; a run opens and folds again', async () => {
  const { page, errors } = await at(null, 25000);
  const before = await rowCount(page);
  assert.equal(await page.locator('#chart g.run').count(), 0);
  await page.check('#chart-collapse');
  const folded = await rowCount(page);
  const runs = await page.locator('#chart g.run').count();
  assert.ok(runs > 0);
  const n = Number((await page.locator('#chart-status').textContent()).match(/(\d+) folded/)[1]);
  assert.equal(folded, before - n + runs, 'each run of rows became one summary row');
  const run = page.locator('#chart g.run').first();
  assert.match(await run.locator('text.s').textContent(), /^▸ \d+ (liveness checks?|NAT-keepalives?)(, \d+ NAT-keepalives?)? · [\d.]+ s/);
  const size = Number((await run.locator('title').textContent()).match(/^(\d+) rows/)[1]);
  assert.ok(size >= 2);
  // What went wrong is never folded: the lost check stays.
  assert.ok(await page.locator('#chart g.msg.lost').count() > 0);
  await run.click();
  assert.equal(await rowCount(page), folded + size, 'the run is shown whole');
  assert.equal(await page.locator('#chart g.run').first().getAttribute('aria-expanded'), 'true');
  assert.match(await page.locator('#chart g.run text.s').first().textContent(), /^▾/);
  await page.locator('#chart g.run').first().click();
  assert.equal(await rowCount(page), folded);
  await page.uncheck('#chart-collapse');
  assert.equal(await rowCount(page), before);
  assert.deepEqual(errors, []);
  await page.close();
});

test('cluster-20: past its end, the twenty clients\' liveness checks fold into one row', async () => {
  const { page, errors } = await at(CLUSTER, 30000);
  await page.selectOption('#speed', '4');
  await page.click('#play');
  await page.waitForFunction(() => Number(document.querySelector('#clock').dataset.us) > 31e6, null, { timeout: 20000 });
  await page.click('#play');
  const before = await rowCount(page);
  await page.check('#chart-collapse');
  assert.ok(await rowCount(page) < before - 30);
  assert.match(await page.locator('#chart g.run text.s').last().textContent(), /^▸ 20 liveness checks · 30\.\d+ s – 30\.\d+ s$/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('wifi-to-lte: filters by exchange, kind and host change the rows shown', async () => {
  const { page, errors } = await at(null, 25000);
  assertNoOverlap(await headBoxes(page));
  assert.deepEqual(await labelsOverLifelines(page), []);
  const all = await rowsText(page);
  assert.ok(all.some((t) => t.includes('IKE_SA_INIT')));
  await page.uncheck('#chart-ex-ike_sa_init');
  const noInit = await rowsText(page);
  assert.ok(noInit.length < all.length);
  assert.ok(!(await page.locator('#chart g.msg').allTextContents()).some((t) => t.includes('IKE_SA_INIT')));
  await page.check('#chart-ex-ike_sa_init');
  assert.deepEqual(await rowsText(page), all);

  // "notes" are the protocol's decisions and rejected messages.
  const notes = await page.locator('#chart g.note.protocol, #chart g.note.rejected').count();
  assert.ok(notes > 0);
  await page.uncheck('#chart-kind-note');
  assert.equal(await page.locator('#chart g.note.protocol, #chart g.note.rejected').count(), 0);
  assert.equal((await rowsText(page)).length, all.length - notes);
  const requests = await page.locator('#chart g.msg:not(.lost)', { hasText: / request/ }).count();
  assert.ok(requests > 0);
  await page.uncheck('#chart-kind-request');
  assert.equal(await page.locator('#chart g.msg:not(.lost)', { hasText: / request/ }).count(), 0);
  assert.ok(await page.locator('#chart g.msg', { hasText: / response/ }).count() > 0, 'responses stay');
  await page.click('#chart-clear');
  assert.deepEqual(await rowsText(page), all);

  // By host: the gateway's own notes go when the laptop alone is asked for.
  const hosts = await page.locator('#chart-host option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(hosts.includes('laptop'));
  const other = hosts.find((h) => h && h !== 'laptop');
  await page.selectOption('#chart-host', other);
  const theirs = await rowsText(page);
  await page.selectOption('#chart-host', 'laptop');
  const mine = await rowsText(page);
  assert.ok(mine.length < all.length && theirs.length < all.length, `${mine.length}, ${theirs.length} of ${all.length}`);
  assert.notDeepEqual(mine, theirs);
  assert.deepEqual(errors, []);
  await page.close();
});

test('wifi-to-lte: search marks the matches and next/previous move between them', async () => {
  const { page, errors } = await at(null, 25000);
  await page.fill('#chart-search', 'update_sa_addresses');
  const matches = page.locator('#chart .match');
  const n = await matches.count();
  assert.ok(n >= 2, `${n} matches`);
  for (const t of await matches.allTextContents()) assert.match(t, /UPDATE_SA_ADDRESSES/);
  const others = await page.locator('#chart g.msg:not(.match), #chart g.note:not(.match)').allTextContents();
  assert.ok(others.every((t) => !/UPDATE_SA_ADDRESSES/i.test(t)));
  assert.equal(await page.locator('#chart-matches').textContent(), `1 of ${n}`);
  const current = () => page.locator('#chart .match.current').getAttribute('data-row');
  const first = await current();
  await page.click('#chart-next');
  assert.equal(await page.locator('#chart-matches').textContent(), `2 of ${n}`);
  const second = await current();
  assert.notEqual(second, first);
  assert.equal(await page.locator('#chart .match.current').count(), 1);
  await page.click('#chart-prev');
  assert.equal(await current(), first);
  await page.click('#chart-prev');
  assert.equal(await page.locator('#chart-matches').textContent(), `${n} of ${n}`, 'wraps around');
  // Enter in the field goes on to the next one.
  await page.locator('#chart-search').press('Enter');
  assert.equal(await current(), first);
  await page.fill('#chart-search', 'no such thing anywhere');
  assert.equal(await page.locator('#chart-matches').textContent(), 'no match');
  assert.equal(await matches.count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('playback stops at the scenario\'s end with a notice; Play goes on past it', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await page.selectOption('#speed', '64');
  await page.click('#play');
  await page.locator('#ended-notice').waitFor({ timeout: 20000 });
  assert.match(await page.locator('#ended-notice').textContent(), /ends at 25 s; press Play to go on/);
  assert.equal(await clock(page), 25);
  await page.waitForTimeout(300);
  assert.equal(await clock(page), 25, 'stopped');
  assert.doesNotMatch(await page.locator('#play').getAttribute('class'), /\bon\b/);
  await page.click('#play');
  await page.waitForFunction(() => Number(document.querySelector('#clock').dataset.us) > 27e6, null, { timeout: 20000 });
  assert.equal(await page.locator('#ended-notice').count(), 0);
  await page.click('#play');
  assert.deepEqual(errors, []);
  await page.close();
});

test('keyboard only: Tab to a message, arrows move, Enter opens the inspector; Space presses a focused button', async () => {
  const { page, errors } = await at(null, 25000);
  // From the last switch of the chart's toolbar, Tab enters the chart.
  await page.locator('.chart-tools input[type=checkbox]').last().focus();
  await page.keyboard.press('Tab');
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    const hit = el.querySelector?.('.hit');
    return { row: el.getAttribute('data-row'), cls: el.getAttribute('class'), label: el.getAttribute('aria-label'),
      top: el.getBoundingClientRect().top, ring: hit ? getComputedStyle(hit).stroke : null };
  });
  const a = await focused();
  assert.match(a.row ?? '', /^r\d+$/, `focus on ${JSON.stringify(a)}`);
  assert.match(a.cls, /\bmsg\b/);
  assert.match(a.label, /^\d+\.\d{3}s .+ to .+: /, 'a spoken label');
  assert.notEqual(a.ring, 'none', 'a visible focus ring');
  await page.keyboard.press('ArrowUp');
  const b = await focused();
  assert.notEqual(b.row, a.row);
  assert.ok(b.top < a.top, 'up is the message before');
  await page.keyboard.press('ArrowDown');
  assert.equal((await focused()).row, a.row);
  assert.equal(await clock(page), 25, 'the arrows moved in the chart, not in time');
  await page.keyboard.press('Enter');
  await page.locator('#bytes-wire .hex').waitFor();
  assert.match(await page.locator(`#chart g[data-row="${a.row}"]`).getAttribute('class'), /\bselected\b/);
  // Space on another message selects that one, and does not play.
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press(' ');
  assert.match(await page.locator(`#chart g[data-row="${b.row}"]`).getAttribute('class'), /\bselected\b/);
  assert.doesNotMatch(await page.locator('#play').getAttribute('class'), /\bon\b/);
  // Space on a focused button presses that button, not play/pause.
  await page.locator('#scrubber').fill('1000');
  await page.locator('#step').focus();
  await page.keyboard.press(' ');
  await page.waitForFunction(() => Number(document.querySelector('#clock').dataset.us) > 1e6);
  assert.doesNotMatch(await page.locator('#play').getAttribute('class'), /\bon\b/);
  assert.deepEqual(errors, []);
  await page.close();
});
