// Narration steps and lesson mode; a 20-client cluster stays readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, playUntil } from './helpers.mjs';

const env = useBrowser();

test('narration shows the current step; lesson mode pauses at each new one', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=attacker-spoofed-update`);
  assert.match(await page.locator('#narration-step').textContent(), /^\d+ steps$/);
  const n = Number((await page.locator('#narration-step').textContent()).split(' ')[0]);
  await page.check('#lesson');
  await page.selectOption('#speed', '16');
  for (let k = 1; k <= 2; k++) {
    await page.click('#play');
    // Playback stops by itself when step k appears.
    await page.waitForFunction((k) => document.querySelector('#play').textContent.includes('Play')
      && document.querySelector('#narration-step').textContent.startsWith(`Step ${k} of`), k, { timeout: 20000 });
    assert.equal(await page.locator('#narration-step').textContent(), `Step ${k} of ${n}`);
    assert.equal(await page.locator('#play').textContent(), '▶ Play');
    const text = await page.locator('#narration-text').textContent();
    assert.ok(text.length > 20, text);
    // The same text is in the chart, as a narration row.
    const notes = await page.locator('#chart g.note.narration').allTextContents();
    assert.equal(notes.length, k);
  }
  // Space continues.
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.querySelector('#narration-step').textContent.startsWith('Step 3 of'), null, { timeout: 20000 });
  await page.waitForFunction(() => document.querySelector('#play').textContent.includes('Play'), null, { timeout: 20000 });
  // Without lesson mode it plays through.
  await page.uncheck('#lesson');
  await playUntil(page, 64, (n) => document.querySelector('#narration-step').textContent === `Step ${n} of ${n}`, n);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the 20-client cluster: one box with a chip per client, one compact table, a full panel for the chosen client', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await page.selectOption('#scenario', { label: 'Cluster moves 20 clients by responder MOBIKE' });
  await page.waitForSelector('#group-box-client');
  assert.equal(await page.locator('#group-box-client .chip').count(), 20);
  assert.equal(await page.locator('#group-client tr[id^="row-"]').count(), 20);
  // Full panels: the cluster and one client, not twenty.
  assert.equal(await page.locator('.panel.state').count(), 2);
  assert.equal(await page.locator('#state-client-1').count(), 1);
  await playUntil(page, 64, () => document.querySelectorAll('#group-box-client .chip.up.moved').length === 20);
  await page.click('#chip-client-7');
  assert.equal(await page.locator('#state-client-7').count(), 1);
  assert.equal(await page.locator('#state-client-1').count(), 0);
  assert.match(await page.locator('#state-client-7 tr[data-key="path"] td').textContent(), /^192\.0\.2\.16:4500 ⇄ 198\.51\.100\.2:4500$/);
  assert.match(await page.locator('#state-cluster h2').textContent(), /IKE SA with Client 7, 20 IKE SAs/);
  await page.click('#row-client-12');
  assert.equal(await page.locator('#state-client-12').count(), 1);
  // The group box is inside the drawing.
  const box = await page.locator('#group-box-client rect.box').boundingBox();
  const topo = await page.locator('#topology').boundingBox();
  assert.ok(box.x >= topo.x && box.x + box.width <= topo.x + topo.width && box.y >= topo.y && box.y + box.height <= topo.y + topo.height);
  assert.deepEqual(errors, []);
  await page.close();
});
