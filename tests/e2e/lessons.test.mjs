// Lessons: the course through the built-in examples, narration that never
// skips a step, rule ids that show their text, and the print view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { useBrowser, open, clock } from './helpers.mjs';

const env = useBrowser();

const SAME_MOMENT = new URL('../scenarios/same-moment-steps.toml', import.meta.url);

test('the course: Lessons lists them, Next lesson opens the next example, share and reset keep the lesson', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=rfc4555-e1-mobility`);
  assert.equal(await page.locator('#lesson-count').textContent(), 'Lesson 1 of 12');
  await page.click('#lessons');
  const items = page.locator('#lessons-panel li');
  assert.equal(await items.count(), 12);
  assert.match(await items.nth(0).textContent(), /^1RFC 4555 example 1: mobility/);
  assert.equal(await page.locator('#lessons-panel li.current').count(), 1);
  assert.equal(await page.locator('#lessons-panel [aria-current=page]').getAttribute('data-lesson'), '1');
  // Escape closes the list.
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#lessons-panel').count(), 0);

  await page.click('#next-lesson');
  assert.equal(await page.locator('#lesson-count').textContent(), 'Lesson 2 of 12');
  assert.equal(await page.locator('#scenario option:checked').textContent(), 'RFC 4555 example 2: multihoming');
  await page.click('#next-lesson');
  assert.equal(await page.locator('#lesson-count').textContent(), 'Lesson 3 of 12');
  assert.match(await page.locator('#scenario option:checked').textContent(), /Wi-Fi to LTE/);

  // Picking a lesson from the list opens it; the list marks it.
  await page.click('#lessons');
  await page.click('#lessons-panel button[data-lesson="8"]');
  assert.equal(await page.locator('#lesson-count').textContent(), 'Lesson 8 of 12');
  assert.match(await page.locator('#scenario option:checked').textContent(), /attack|spoof|Mallory/i);
  await page.click('#lessons');
  assert.equal(await page.locator('#lessons-panel [aria-current=page]').getAttribute('data-lesson'), '8');
  await page.click('#lessons');

  // Share: the link names the lesson's example and opens it again.
  await page.click('#share');
  const hash = await page.evaluate(() => location.hash);
  assert.match(hash, /ex=attacker-spoofed-update/);
  const again = await open(env.browser, `${env.server.url}${hash}`);
  assert.equal(await again.page.locator('#lesson-count').textContent(), 'Lesson 8 of 12');
  await again.page.close();
  // Reset keeps the lesson.
  await page.click('#step');
  await page.click('#reset');
  assert.equal(await clock(page), 0);
  assert.equal(await page.locator('#lesson-count').textContent(), 'Lesson 8 of 12');

  // The last lesson has no next; a scenario outside the course offers the first.
  await page.selectOption('#scenario', { label: 'Cluster moves 20 clients by Redirect (RFC 5685)' });
  assert.equal(await page.locator('#lesson-count').textContent(), 'Lesson 12 of 12');
  assert.equal(await page.locator('#next-lesson').count(), 0);
  const other = await page.locator('#scenario option').evaluateAll((os) => os.map((o) => o.textContent));
  const outside = other.find((t) => /strongSwan/i.test(t));
  await page.selectOption('#scenario', { label: outside });
  assert.equal(await page.locator('#lesson-count').textContent(), 'Not a lesson of the course');
  await page.click('#next-lesson');
  assert.equal(await page.locator('#lesson-count').textContent(), 'Lesson 1 of 12');
  assert.deepEqual(errors, []);
  await page.close();
});

test('at the end of a lesson the narration offers the next lesson', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=rfc4555-e1-mobility`);
  assert.equal(await page.locator('#next-lesson-end').count(), 0);
  await page.selectOption('#speed', '64');
  await page.click('#play');
  await page.waitForFunction(() => /^Step (\d+) of \1$/.test(document.querySelector('#narration-step').textContent), null, { timeout: 30000 });
  await page.evaluate(() => { const p = document.querySelector('#play'); if (p.classList.contains('on')) p.click(); });
  assert.match(await page.locator('#next-lesson-end').textContent(), /^Next lesson: RFC 4555 example 2: multihoming/);
  await page.click('#next-lesson-end');
  assert.equal(await page.locator('#lesson-count').textContent(), 'Lesson 2 of 12');
  assert.equal(await clock(page), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('steps at the same moment: lesson mode pauses at each, Play moves on without time moving, none is lost', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  const text = await readFile(SAME_MOMENT, 'utf8');
  await page.setInputFiles('#open-file', { name: 'same-moment.toml', mimeType: 'text/plain', buffer: Buffer.from(text) });
  await page.waitForFunction(() => document.querySelector('#narration-step')?.textContent === '4 steps');
  await page.check('#lesson');
  await page.selectOption('#speed', '16');
  const stopped = (k) => page.waitForFunction((k) => document.querySelector('#play').textContent.includes('Play')
    && document.querySelector('#narration-step').textContent === `Step ${k} of 4`, k, { timeout: 20000 });
  const shown = [];
  for (let k = 1; k <= 4; k++) {
    await page.click('#play');
    await stopped(k);
    shown.push({ k, t: await clock(page), text: await page.locator('#narration-text').textContent() });
  }
  assert.deepEqual(shown.map((s) => s.text.split(':')[0]), ['Step one', 'Step two', 'Step three, at the same moment', 'Step four']);
  // Steps 2 to 4 came at 4 s: Play showed 3 and 4 without time moving.
  assert.equal(shown[1].t, 4);
  assert.equal(shown[2].t, 4);
  assert.equal(shown[3].t, 4);
  assert.ok(shown[0].t < 1, `${shown[0].t}`);
  // The panel goes back through every step, and forward again.
  await page.click('#step-back');
  assert.equal(await page.locator('#narration-step').textContent(), 'Step 3 of 4');
  assert.match(await page.locator('#narration-text').textContent(), /^Step three/);
  await page.click('#step-dots button[data-step="2"]');
  assert.match(await page.locator('#narration-text').textContent(), /^Step two/);
  assert.equal(await page.locator('#step-dots button.current').getAttribute('data-step'), '2');
  await page.click('#step-forward');
  await page.click('#step-forward');
  assert.match(await page.locator('#narration-text').textContent(), /^Step four/);
  assert.equal(await page.locator('#step-forward').isDisabled(), true);
  assert.equal(await clock(page), 4);

  // Without lesson mode the run plays past all three at once; none is lost.
  await page.click('#reset');
  await page.uncheck('#lesson');
  await page.click('#play');
  await page.waitForFunction(() => document.querySelector('#narration-step').textContent === 'Step 4 of 4', null, { timeout: 20000 });
  await page.click('#play');
  assert.equal(await page.locator('#step-dots button:not([disabled])').count(), 4);
  for (const [k, re] of [[3, /^Step three/], [2, /^Step two/], [1, /^Step one/]]) {
    await page.click('#step-back');
    assert.equal(await page.locator('#narration-step').textContent(), `Step ${k} of 4`);
    assert.match(await page.locator('#narration-text').textContent(), re);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

/// The checklist's requirement for an id, as rules.tsv has it.
async function requirement(id) {
  const tsv = await readFile(new URL('../../crates/render/src/rules.tsv', import.meta.url), 'utf8');
  const line = tsv.split('\n').find((l) => l.startsWith(`${id}\t`));
  assert.ok(line, `${id} is in the table`);
  return line.split('\t')[2];
}

test('rule ids and RFC sections in narration, chart notes and "why" show the rule\'s text', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=rfc4555-e1-mobility`);
  await page.check('#lesson');
  await page.selectOption('#speed', '16');
  await page.click('#play');
  await page.waitForFunction(() => document.querySelector('#narration-step').textContent === 'Step 1 of 5'
    && document.querySelector('#play').textContent.includes('Play'), null, { timeout: 20000 });
  // Narration: "RFC 4555 §3.2" is a button; it shows that section's rules.
  const ref = page.locator('#narration-text button.rule-ref').first();
  assert.equal(await ref.textContent(), 'RFC 4555 §3.2');
  assert.equal(await page.locator('#rule-popover').count(), 0);
  await ref.click();
  assert.equal(await page.locator('#rule-popover-title').textContent(), 'RFC 4555 §3.2');
  const ids = await page.locator('#rule-popover li.rule').evaluateAll((ls) => ls.map((l) => l.dataset.rule));
  assert.ok(ids.length >= 1 && ids.every((id) => /^M-3\.2-\d+$/.test(id)), ids.join(' '));
  assert.match(await page.locator(`#rule-popover li.rule[data-rule="${ids[0]}"] .req`).textContent(),
    new RegExp(`^${(await requirement(ids[0])).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  // The close button has the focus; Escape closes.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'rule-close');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#rule-popover').count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'RFC 4555 §3.2',
    'the focus goes back to the reference that opened it');

  // Chart notes: a checklist id in a protocol note; Enter on it opens it too.
  await page.uncheck('#lesson');
  await page.selectOption('#speed', '64');
  await page.click('#play');
  await page.waitForFunction(() => [...document.querySelectorAll('#chart g.note tspan.rule-ref')]
    .some((t) => /^[MBIU]-\d/.test(t.textContent)), null, { timeout: 20000 });
  await page.evaluate(() => { const p = document.querySelector('#play'); if (p.classList.contains('on')) p.click(); });
  const idRef = page.locator('#chart g.note tspan.rule-ref', { hasText: /^[MBIU]-\d/ }).first();
  const id = await idRef.textContent();
  await idRef.focus();
  await page.keyboard.press('Enter');
  assert.match(await page.locator('#rule-popover-title').textContent(), new RegExp(`^${id} · RFC \\d+ §`));
  assert.equal(await page.locator('#rule-popover li.rule .req').textContent(), await requirement(id));
  await page.click('#rule-close');
  assert.equal(await page.locator('#rule-popover').count(), 0);

  // The inspector's "why": the citation's ids are buttons too.
  await page.locator('#chart g.msg', { hasText: 'UPDATE_SA_ADDRESSES' }).first().locator('.hit').click();
  const why = page.locator('#inspector .why button.rule-ref', { hasText: /^[MBIU]-\d/ }).first();
  const whyId = await why.textContent();
  await why.click();
  assert.equal(await page.locator('#rule-popover li.rule').getAttribute('data-rule'), whyId);
  assert.equal(await page.locator('#rule-popover li.rule .req').textContent(), await requirement(whyId));
  assert.deepEqual(errors, []);
  await page.close();
});

test('Print lesson: a handout with the drawing, every step with its time and the whole chart, alone on paper', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  const text = await readFile(SAME_MOMENT, 'utf8');
  await page.setInputFiles('#open-file', { name: 'same-moment.toml', mimeType: 'text/plain', buffer: Buffer.from(text) });
  await page.waitForFunction(() => document.querySelector('#narration-step')?.textContent === '4 steps');
  await page.evaluate(() => { window.printed = 0; window.print = () => { window.printed += 1; }; });
  assert.equal(await page.locator('#print-view').count(), 0);
  await page.click('#print-lesson');
  await page.waitForFunction(() => window.printed === 1);
  // On screen the handout stays hidden.
  assert.equal(await page.locator('#print-view').isVisible(), false);
  assert.equal(await page.locator('#topology').isVisible(), true);

  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('#print-view').isVisible(), true);
  for (const sel of ['.toolbar', '#narration', '#topology', '#chart', '#lessons', '#print-lesson']) {
    assert.equal(await page.locator(sel).first().isVisible(), false, `${sel} is not printed`);
  }
  assert.equal(await page.locator('#print-view h1').textContent(), 'Three narration steps at the same moment');
  // Every step, with its time, though the run shown is at 0.
  const steps = await page.locator('#print-steps li').evaluateAll((ls) => ls.map((l) => [
    l.querySelector('.print-time').textContent, l.querySelector('.print-text').textContent.split(':')[0]]));
  assert.deepEqual(steps, [['0.108s', 'Step one'], ['4.000s', 'Step two'],
    ['4.000s', 'Step three, at the same moment'], ['4.000s', 'Step four']]);
  // The whole chart as SVG, and the drawing copied without the page's ids.
  const chart = page.locator('#print-chart svg');
  assert.equal(await chart.isVisible(), true);
  assert.match(await chart.textContent(), /UPDATE_SA_ADDRESSES/);
  assert.ok((await chart.boundingBox()).height > 300);
  const topo = page.locator('#print-topology svg');
  assert.equal(await topo.isVisible(), true);
  assert.match(await topo.textContent(), /Laptop/);
  assert.equal(await page.locator('#print-topology [id]').count(), 0);
  await page.emulateMedia({ media: 'screen' });
  // Printing again makes a fresh handout.
  await page.click('#print-lesson');
  await page.waitForFunction(() => window.printed === 2);
  assert.deepEqual(errors, []);
  await page.close();
});
