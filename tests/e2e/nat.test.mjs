// NATs in the page: a home router's port forwards are listed in its table
// (open to anyone, never expiring, kept through its new configuration), a
// laptop at home reaches the gateway behind the same router by hairpinning,
// and the chart shows why its packets are lost once the router stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, playUntil, stateRow } from './helpers.mjs';

const env = useBrowser();

/// The NAT table's rows: [inside, outside, allowed from, expires].
function rows(page) {
  return page.locator('#nat-table-router tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())).filter((r) => r.length === 4));
}

test('a home router forwards to the gateway behind it and hairpins the laptop at home, until it stops', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=hairpin-home-gateway`);
  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 12e6);
  const before = await rows(page);
  assert.deepEqual(before.slice(0, 2), [
    ['192.168.1.10:500', '198.51.100.1:500', 'anyone (port forward)', 'never'],
    ['192.168.1.10:4500', '198.51.100.1:4500', 'anyone (port forward)', 'never'],
  ]);
  // The laptop's own mappings got the next ports; the gateway sees it there.
  assert.ok(before.some((r) => r[0] === '192.168.1.20:4500' && r[1] === '198.51.100.1:4501'), JSON.stringify(before));
  assert.match(await stateRow(page, 'gateway', 'path'), /^192\.168\.1\.10:4500 ⇄ 198\.51\.100\.1:4501/);

  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 30e6);
  // Configured anew: the mappings went, the forwards stayed.
  const after = await rows(page);
  assert.deepEqual(after.slice(0, 2), before.slice(0, 2));
  assert.match(await stateRow(page, 'laptop', 'path'), /^192\.0\.2\.50:4500 ⇄ 198\.51\.100\.1:4500/);
  assert.match(await stateRow(page, 'gateway', 'ipsec'), /192\.0\.2\.50:4500/);
  // Back to just after the change: the lost check says where and why.
  await page.locator('#scrubber').fill('16500');
  const lost = await page.locator('#chart g.msg.lost').allTextContents();
  assert.ok(lost.some((t) => /does not hairpin/.test(t)), JSON.stringify(lost));
  assert.deepEqual(errors, []);
});
