// IPv6 and dual stack in the page: a dual-stack interface is drawn as a row
// per address inside its host's box, the state panels and the inspector
// show IPv6 addresses, and the laptop's move from IPv4 to IPv6 and back is
// followed by the slider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, playUntil, stateRow } from './helpers.mjs';

const env = useBrowser();
const DUAL = 'dual-stack-wifi-to-ipv6-lte';

/// Every interface label's box, per host, with the host box.
function labelBoxes() {
  return [...document.querySelectorAll('#topology g.host')].map((g) => {
    const box = g.querySelector('rect.box').getBBox();
    const labels = [...g.querySelectorAll('g.iface text')].map((t) => {
      const b = t.getBBox();
      return { text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height };
    });
    return { id: g.id, box: { x: box.x, y: box.y, w: box.width, h: box.height }, labels };
  });
}

test('a dual-stack host draws one row per address, inside its box, none overlapping', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=${DUAL}`);
  const hosts = await page.evaluate(labelBoxes);
  const laptop = hosts.find((h) => h.id === 'host-laptop');
  assert.deepEqual(laptop.labels.map((l) => l.text),
    ['Wi-Fi IPv4 192.0.2.10', 'Wi-Fi IPv6 2001:db8:10::10', 'LTE IPv6 2001:db8:64::10']);
  for (const h of hosts) {
    for (const l of h.labels) {
      assert.ok(l.x >= h.box.x && l.x + l.w <= h.box.x + h.box.w && l.y >= h.box.y && l.y + l.h <= h.box.y + h.box.h,
        `${l.text} inside ${h.id}: ${JSON.stringify(l)} in ${JSON.stringify(h.box)}`);
    }
    for (const [i, a] of h.labels.entries()) {
      for (const b of h.labels.slice(i + 1)) {
        assert.ok(a.y + a.h <= b.y || b.y + b.h <= a.y, `${a.text} and ${b.text} overlap`);
      }
    }
  }
  // The second Wi-Fi row is joined to the first, where the link starts.
  assert.equal(await page.locator('#iface-laptop-wlan0-6 line.join').count(), 1);
  assert.equal(await page.locator('#iface-laptop-wlan0 line.join').count(), 0);
  assert.deepEqual(errors, []);
});

test('the laptop moves to IPv6 over LTE and back to IPv4, and the inspector shows IPv6 addresses', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=${DUAL}`);
  await playUntil(page, 64, () => Number(document.querySelector('#clock').dataset.us) >= 38e6);
  assert.match(await stateRow(page, 'laptop', 'path'), /^192\.0\.2\.10:4500 ⇄ 203\.0\.113\.10:4500/, 'back on IPv4 at the end');

  await page.locator('#scrubber').fill('20000');
  assert.match(await stateRow(page, 'laptop', 'path'), /^\[2001:db8:64::10\]:4500 ⇄ \[2001:db8:ff::10\]:4500/);
  assert.match(await stateRow(page, 'gateway', 'path'), /^\[2001:db8:ff::10\]:4500 ⇄ \[2001:db8:64::10\]:4500/);
  // The LTE link carries the SA now; the Wi-Fi is broken.
  assert.equal(await page.locator('#link-lte').evaluate((g) => g.classList.contains('active')), true);

  await page.locator('#chart g.msg', { hasText: 'UPDATE_SA_ADDRESSES' }).first().locator('.hit').click();
  await page.waitForSelector('#bytes-plain .hex');
  const inspector = await page.locator('#inspector').textContent();
  assert.match(inspector, /from \[2001:db8:64::10\]:4500 to\s*\[2001:db8:ff::10\]:4500/);
  assert.match(inspector, /N\(ADDITIONAL_IP4_ADDRESS\) \[16397\] = 192\.0\.2\.10/);
  assert.match(inspector, /N\(ADDITIONAL_IP6_ADDRESS\) \[16398\] = 2001:db8:10::10/);
  assert.deepEqual(errors, []);
});
