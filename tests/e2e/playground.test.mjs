// End-to-end tests of the playground in headless Chromium: what a user does
// (click, drag, keyboard) and what the page then shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, stateRow, clock, centre, playUntil } from './helpers.mjs';

const env = useBrowser();

const established = () => document.querySelector('#state-laptop tr[data-key="state"] td')?.textContent.startsWith('Established');

test('clicking the Wi-Fi link breaks it; UPDATE_SA_ADDRESSES appears and the laptop moves to LTE', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await playUntil(page, 1, established);
  assert.match(await stateRow(page, 'laptop', 'path'), /^192\.0\.2\.10:4500/);
  const clickedAt = await clock(page);
  assert.ok(clickedAt < 5, `paused at ${clickedAt}s, before the first liveness check`);

  await page.click('#link-wifi .hit');
  await page.click('#menu-break');
  assert.equal(await page.locator('#link-wifi').getAttribute('data-up'), 'false');
  assert.match(await page.locator('#chart').textContent(), /break link Wi-Fi \(by you\)/);

  // Space is the play/pause shortcut.
  await page.selectOption('#speed', '16');
  await page.locator('#speed').evaluate((e) => e.blur());
  await page.keyboard.press('Space');
  await page.waitForFunction(() => [...document.querySelectorAll('#chart g.msg')]
    .some((g) => g.textContent.includes('UPDATE_SA_ADDRESSES')), null, { timeout: 20000 });
  await page.waitForFunction(() => document.querySelector('#state-laptop tr[data-key="path"] td')
    .textContent.startsWith('10.64.0.2:4500'), null, { timeout: 20000 });
  await page.keyboard.press('Space');

  const update = page.locator('#chart g.msg', { hasText: 'UPDATE_SA_ADDRESSES' }).first();
  const sentAt = parseFloat(await update.locator('text.t').textContent());
  assert.ok(sentAt < 12, `the update (at ${sentAt}s) follows the click, not the timeline's own break at 12 s`);
  assert.match(await stateRow(page, 'laptop', 'ipsec'), /^10\.64\.0\.2:4500/);
  assert.match(await stateRow(page, 'laptop', 'nat'), /I am behind a NAT/);
  assert.equal(await page.locator('#link-lte').getAttribute('class'), 'link up active');
  assert.deepEqual(errors, []);
  await page.close();
});

test('dragging the NAT box onto the Wi-Fi link puts it in the path, and off again takes it out', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await playUntil(page, 1, established);
  assert.equal(await stateRow(page, 'laptop', 'nat'), 'none');

  // Drag the NAT box from the LTE link to the middle of the Wi-Fi link.
  const from = await centre(page.locator('#nat-cgn rect'));
  const to = await centre(page.locator('#link-wifi .hit'));
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 8 });
  await page.mouse.up();
  assert.equal(await page.locator('#nat-cgn').getAttribute('data-link'), 'wifi');
  assert.match(await page.locator('#nat-table-cgn h2').textContent(), /on link wifi/);

  // The next liveness check shows the NAT (NAT_DETECTION_DESTINATION_IP
  // changed) and the laptop sends UPDATE_SA_ADDRESSES: UDP encapsulation.
  await playUntil(page, 16, () => document.querySelector('#state-laptop tr[data-key="ipsec"] td')
    .textContent.includes('UDP-encap'));
  assert.match(await stateRow(page, 'laptop', 'nat'), /I am behind a NAT/);
  assert.match(await stateRow(page, 'gateway', 'path'), /198\.51\.100\.1:4500$/);
  const update = page.locator('#chart g.msg', { hasText: 'UPDATE_SA_ADDRESSES' }).first();
  assert.match(await update.textContent(), /NAT: arrives from 198\.51\.100\.1:4500/);
  assert.match(await page.locator('#chart').textContent(), /NAT mapping changed/);
  assert.ok(await page.locator('#nat-table-cgn td', { hasText: '192.0.2.10:4500' }).count() > 0);

  // Drag it away from every link: the path is NAT-free again.
  const now = await centre(page.locator('#nat-cgn rect'));
  const topo = await page.locator('#topology').boundingBox();
  await page.mouse.move(now.x, now.y);
  await page.mouse.down();
  await page.mouse.move(topo.x + topo.width * 0.55, topo.y + topo.height * 0.9, { steps: 8 });
  await page.mouse.up();
  assert.equal(await page.locator('#nat-cgn').getAttribute('data-link'), '');
  await playUntil(page, 16, () => document.querySelector('#state-laptop tr[data-key="nat"] td').textContent === 'none');
  assert.doesNotMatch(await stateRow(page, 'laptop', 'ipsec'), /UDP-encap/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('clicking a message shows its decrypted payloads and bytes; Reset starts over', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await playUntil(page, 1, established);
  await page.locator('#chart g.msg', { hasText: 'IKE_AUTH request' }).locator('.hit').click();
  const inspector = page.locator('#inspector');
  assert.match(await inspector.locator('h2').textContent(), /IKE_AUTH request #1/);
  const payloads = await inspector.locator('.payloads').textContent();
  assert.match(payloads, /IDi: laptop\.example/);
  assert.match(payloads, /N\(MOBIKE_SUPPORTED\)/);
  assert.match(payloads, /N\(ADDITIONAL_IP4_ADDRESS\) \[16397\] = 10\.64\.0\.2/);
  // Port 4500: the datagram starts with the non-ESP marker.
  assert.match(await page.locator('#bytes-wire .hex').textContent(), /^0000 {2}00 00 00 00 /);

  await page.click('#reset');
  assert.equal(await clock(page), 0);
  assert.equal(await page.locator('#chart g.msg').count(), 0);
  await page.click('#step');
  assert.ok(await clock(page) > 0);
  assert.equal(await page.locator('#chart g.msg').count(), 1, 'one step, one message');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the scenario picker opens another example from the library', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  const options = await page.locator('#scenario option').allTextContents();
  assert.ok(options.length >= 6, `${options.length} examples`);
  await page.selectOption('#scenario', { label: 'Responder moves the client (follow policy)' });
  await page.waitForSelector('#host-gateway text.host-label');
  assert.equal(await page.locator('#host-gateway .host-label').textContent(), 'Cluster');
  assert.equal(await clock(page), 0);
  await playUntil(page, 64, () => document.querySelector('#state-laptop tr[data-key="path"] td')
    ?.textContent.endsWith('203.0.113.20:4500'));
  assert.match(await page.locator('#chart').textContent(), /policy follow/);
  assert.deepEqual(errors, []);
  await page.close();
});
