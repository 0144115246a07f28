// Several Child SAs on one IKE SA in the page: the state panel lists each
// with its traffic selectors, the traffic panel counts each one's ESP, and
// after the move to LTE all three carry pings again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, playUntil, settled, stateRow } from './helpers.mjs';

const env = useBrowser();

/// The traffic panel's per-Child SA rows: [label, value].
function childRows(page) {
  return page.locator('#traffic tr[data-key^="child-"]').evaluateAll((trs) =>
    trs.map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent]));
}

/// "out N · in M, K lost" as numbers.
function counts(value) {
  const m = value.match(/^out (\d+) · in (\d+), (\d+) lost$/);
  assert.ok(m, value);
  return m.slice(1).map(Number);
}

test('three Child SAs, one per subnet, each with its own traffic, all moved to LTE', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=three-child-sas`);
  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 10.5e6);
  // The pause may land past 12 s, where Wi-Fi breaks and an ESP packet is
  // lost (a slow frame takes in several ticks): read at 10.5 s exactly.
  await page.locator('#scrubber').fill('10500');
  await settled(page);
  assert.equal(await page.locator('#clock').getAttribute('data-us'), '10500000');
  const children = await stateRow(page, 'laptop', 'children');
  for (const n of [1, 2, 3]) assert.match(children, new RegExp(`any ⇄ 10\\.${n}\\.0\\.0/24: in [0-9a-f]{8} · out [0-9a-f]{8}`));
  assert.match(await stateRow(page, 'gateway', 'children'), /10\.2\.0\.0\/24 ⇄ any/);
  const before = await childRows(page);
  assert.deepEqual(before.map((r) => r[0]), ['ESP to 10.1.0.0/24', 'ESP to 10.2.0.0/24', 'ESP to 10.3.0.0/24']);
  for (const [, v] of before) {
    const [out, inn, lost] = counts(v);
    assert.ok(out >= 3 && inn >= 3 && lost === 0, v);
  }

  // Past the move (18.4 s) and the rekey of the oldest, 10.1.0.0/24, at 20 s.
  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 21.5e6);
  assert.match(await stateRow(page, 'gateway', 'ipsec'), /198\.51\.100\.1:4500/);
  const after = await childRows(page);
  assert.deepEqual(after.map((r) => r[0]), before.map((r) => r[0]));
  // The second and third Child SAs moved with the IKE SA and carry on.
  for (const k of [1, 2]) {
    const [out, inn] = counts(after[k][1]);
    const [out0, in0] = counts(before[k][1]);
    assert.ok(out > out0 && inn > in0, `${after[k][0]}: ${before[k][1]} then ${after[k][1]}`);
  }
  // The first is a new SA since the rekey: its own count, nothing lost.
  const [out, inn, lost] = counts(after[0][1]);
  assert.ok(out >= 1 && inn >= 1 && lost === 0, after[0][1]);
  const spi = (text) => text.match(/10\.1\.0\.0\/24: in ([0-9a-f]{8})/)[1];
  assert.notEqual(spi(await stateRow(page, 'laptop', 'children')), spi(children));
  assert.deepEqual(errors, []);
});
