// A route withdrawn in the middle of the network, from a link's menu: the
// link is marked with the route it lost, the laptop's packets are lost in
// the internet while the link works, MOBIKE moves the IKE SA to the
// gateway's other address over the same link, and the route comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, playUntil, stateRow } from './helpers.mjs';

const env = useBrowser();
const playTo = (page, s, speed = 16) => playUntil(page, speed, (t) => Number(document.querySelector('#clock').dataset.us) >= t, s * 1e6);

async function linkMenu(page, link) {
  await page.click(`#link-${link} .hit`);
  await page.waitForSelector(`#menu[data-target="link:${link}"]`);
}

test('withdrawing a route from a link moves the IKE SA to the peer\'s other address over the same link', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=rfc4555-e2-multihoming`);
  // The example breaks ISP 1 at 3 s; before that, cut the route instead
  // (slowly: the pause lands short of 3 s even after a slow frame).
  await playTo(page, 1.5, 4);
  await linkMenu(page, 'access');
  const offer = page.locator('#menu-route-1');
  assert.equal((await offer.textContent()).trim(), 'Withdraw the route to 203.0.113.10 (VPN gateway)');
  await offer.click();
  await page.waitForSelector('#menu', { state: 'detached' });
  assert.equal(await page.locator('#routes-down .route-down').textContent(), '✕ Access ↛ 203.0.113.10/32');
  assert.equal(await page.locator('#link-access').getAttribute('data-up'), 'true', 'the link itself works');
  assert.ok(await page.locator('#chart g.note', { hasText: 'withdrawn (by you)' }).count() >= 1);

  // (The example's own break of ISP 1 at 3 s comes too; the laptop's
  // packets to 203.0.113.10 are lost at the route first, in the internet.)
  await playTo(page, 12);
  assert.match(await stateRow(page, 'laptop', 'path'), /⇄ 198\.51\.100\.20:4500$/);
  assert.equal(await page.locator('#link-access').getAttribute('data-up'), 'true');
  await page.locator('#scrubber').fill('7000');
  const lost = await page.locator('#chart g.msg.lost').allTextContents();
  assert.ok(lost.some((t) => /the route between link Access and 203\.0\.113\.10\/32 is withdrawn/.test(t)), JSON.stringify(lost));
  await page.locator('#scrubber').fill('12000');

  // The menu now offers it back; restored, the mark goes.
  await linkMenu(page, 'access');
  assert.equal((await page.locator('#menu-route-1').textContent()).trim(), 'Restore the route to 203.0.113.10 (VPN gateway)');
  assert.match(await page.locator('#menu').textContent(), /the route to 203\.0\.113\.10\/32 is withdrawn/);
  await page.click('#menu-route-1');
  await page.waitForSelector('#menu', { state: 'detached' });
  assert.equal(await page.locator('#routes-down .route-down').count(), 0);
  assert.deepEqual(errors, []);
});

test('the route example: the lost check says where it was lost', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=route-withdrawn-mid-network`);
  await page.locator('#scrubber').fill('7000');
  const lost = await page.locator('#chart g.msg.lost').allTextContents();
  assert.ok(lost.some((t) => /the route between link Access and 203\.0\.113\.10\/32 is withdrawn/.test(t)), JSON.stringify(lost));
  assert.equal(await page.locator('#routes-down .route-down').textContent(), '✕ Access ↛ 203.0.113.10/32');
  assert.deepEqual(errors, []);
});
