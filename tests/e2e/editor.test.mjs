// The scenario editor in the browser: a scenario built from an empty page
// with the forms alone runs as the example it copies, and a wrong value is
// the reader's error at its field while the run goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, clock, playUntil } from './helpers.mjs';

const env = useBrowser();

const WIFI_TO_LTE = 'Laptop roams from Wi-Fi to LTE behind a carrier NAT';

/// The text of every row of the message sequence chart.
const chartRows = (page) => page.locator('#chart g.msg').allTextContents();

/// Shows the moment `ms` (the scrubber computes up to the scenario's end).
async function seek(page, ms) {
  await page.locator('#scrubber').fill(String(ms));
  await page.waitForFunction((us) => Number(document.querySelector('#clock').dataset.us) === us, ms * 1000);
}

/// Types into an editor field (one `input` event, as a paste would).
const type = (page, id, text) => page.locator(`#${id}`).fill(text);

test('the wifi-to-lte example built from an empty page in the editor gives the example\'s chart', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await seek(page, 25000);
  const expected = await chartRows(page);
  assert.ok(expected.length > 10, `the example's chart has ${expected.length} rows`);

  await page.click('#new');
  await page.click('#new-empty');
  await page.waitForSelector('#editor');
  await type(page, 'ed-scenario-title', WIFI_TO_LTE);
  await type(page, 'ed-scenario-seed', '7');
  await type(page, 'ed-scenario-until', '25s');
  await type(page, 'ed-scenario-internet-0', '375');
  await type(page, 'ed-scenario-internet-1', '150');
  await page.click('#ed-add-ping');

  await page.click('#ed-tab-hosts');
  await page.click('#ed-add-initiator');
  await type(page, 'ed-host-0-label', 'Laptop');
  await type(page, 'ed-host-0-start_at', '100ms');
  await type(page, 'ed-host-0-pos-1', '160');
  await type(page, 'ed-host-0-if-0-name', 'wlan0');
  await type(page, 'ed-host-0-if-0-label', 'Wi-Fi');
  await page.click('#ed-host-0-add');
  await type(page, 'ed-host-0-if-1-name', 'wwan0');
  await type(page, 'ed-host-0-if-1-label', 'LTE');
  await type(page, 'ed-host-0-if-1-address', '10.64.0.2');
  await page.click('#ed-add-responder');
  await type(page, 'ed-host-1-id', 'gateway');
  await type(page, 'ed-host-1-label', 'VPN gateway');
  await type(page, 'ed-host-1-identity', 'gw.example');
  // The initiator's peer: the responder's address, offered as you type.
  await type(page, 'ed-host-0-peer', '203.0.113.10');

  await page.click('#ed-tab-links');
  for (const [k, id, label, delay] of [[0, 'wifi', 'Wi-Fi', '8ms'], [1, 'lte', 'LTE', '35ms'], [2, 'uplink', 'Uplink', '2ms']]) {
    await type(page, `ed-link-${k}-id`, id);
    await type(page, `ed-link-${k}-label`, label);
    await type(page, `ed-link-${k}-delay`, delay);
  }
  // Renaming a link renamed the interfaces on it.
  await page.click('#ed-tab-hosts');
  assert.equal(await page.locator('#ed-host-0-if-1-link').inputValue(), 'lte');

  await page.click('#ed-tab-nats');
  await page.click('#ed-add-nat');
  await type(page, 'ed-nat-0-id', 'cgn');
  await type(page, 'ed-nat-0-label', 'Carrier NAT');
  await page.selectOption('#ed-nat-0-link', 'lte');

  await page.click('#ed-tab-settings');
  await type(page, 'ed-set-all-liveness_interval', '5s');

  await page.click('#ed-tab-timeline');
  await page.click('#ed-add-event');
  await type(page, 'ed-event-0-at', '12s');
  await page.selectOption('#ed-event-0-action', 'break_link');
  await page.selectOption('#ed-event-0-subject', 'wifi');

  assert.equal(await page.locator('#ed-errors').count(), 0, 'no errors left');
  await page.click('#ed-apply');
  await page.waitForSelector('#editor', { state: 'detached' });
  assert.equal(await page.locator('#scenario option:checked').textContent(), `(edited) ${WIFI_TO_LTE}`);
  assert.equal(await clock(page), 0);
  await seek(page, 25000);
  assert.deepEqual(await chartRows(page), expected);
  assert.match(await page.locator('#state-laptop tr[data-key="path"] td').textContent(), /^10\.64\.0\.2:4500/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a wrong setting shows the reader\'s error at its field; Apply waits and the run goes on', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await page.click('#edit');
  await page.click('#ed-tab-settings');
  await page.selectOption('#speed', '4');
  await page.click('#play');
  await type(page, 'ed-set-all-retransmit_tries', 'many');
  const error = page.locator('#ed-set-all-retransmit_tries-error');
  await error.waitFor();
  assert.match(await error.textContent(), /retransmit_tries/);
  assert.match(await error.textContent(), /invalid type: string "many", expected /);
  assert.equal(await page.locator('#ed-set-all-retransmit_tries').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('#ed-set-all-retransmit_tries').inputValue(), 'many', 'the text stays as typed');
  assert.match(await page.locator('#ed-tab-settings .ed-count').textContent(), /^1$/);
  assert.match(await page.locator('#ed-errors').textContent(), /1 error keeps this from running/);
  assert.equal(await page.locator('#ed-apply').isDisabled(), true);
  // The run keeps going meanwhile.
  const before = await clock(page);
  await page.waitForFunction((t) => Number(document.querySelector('#clock').dataset.us) > (t + 1) * 1e6, before);
  // A duration the reader refuses, on a host of its own.
  await page.selectOption('#ed-layer', '0');
  await type(page, 'ed-set-0-liveness_interval', '5');
  assert.match(await page.locator('#ed-set-0-liveness_interval-error').textContent(), /unit/);
  // Fixed, Apply may go.
  await type(page, 'ed-set-0-liveness_interval', '5s');
  await page.selectOption('#ed-layer', 'all');
  await type(page, 'ed-set-all-retransmit_tries', '3');
  assert.equal(await page.locator('#ed-errors').count(), 0);
  assert.equal(await page.locator('#ed-apply').isDisabled(), false);
  await page.click('#play');
  // Cancel with changes asks first.
  await page.click('#ed-cancel');
  await page.click('#ed-discard');
  await page.waitForSelector('#editor', { state: 'detached' });
  assert.equal(await page.locator('.scenario-title').textContent(), WIFI_TO_LTE);
  assert.ok(await clock(page) > before);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a new scenario from a copy of an example: removing a link removes its events; clusters and groups', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await page.click('#new');
  const options = await page.locator('#new-example option').allTextContents();
  await page.selectOption('#new-example', { index: options.indexOf(WIFI_TO_LTE) });
  await page.waitForSelector('#editor');
  await page.click('#ed-tab-links');
  assert.equal(await page.locator('#ed-link-0-id').inputValue(), 'wifi');
  await page.click('#ed-link-0-remove');
  assert.match(await page.locator('.ed-note').textContent(), /Removed 1 event that named it, too/);
  // The interface on it names a link nobody defines: said at its field.
  await page.click('#ed-tab-hosts');
  assert.match(await page.locator('#ed-host-0-if-0-link-error').textContent(), /names link "wifi", which no \[\[link\]\] defines/);
  assert.equal(await page.locator('#ed-apply').isDisabled(), true);
  await page.click('#ed-host-0-if-0-remove');
  assert.equal(await page.locator('#ed-errors').count(), 0);
  await page.click('#ed-add-cluster');
  await page.click('#ed-add-group');
  const cards = page.locator('#editor .ed-card:not(.child)');
  const n = await cards.count();
  assert.equal(n, 4);
  assert.equal(await cards.nth(3).locator('.ed-badge').first().textContent(), 'group of 10');
  assert.match(await cards.nth(2).locator('.ed-badge').first().textContent(), /multihomed/);
  assert.equal(await page.locator('#ed-errors').count(), 0);
  await page.click('#ed-apply');
  await page.waitForSelector('#editor', { state: 'detached' });
  assert.equal(await page.locator('#link-wifi').count(), 0);
  assert.ok(await page.locator('#topology .host, #topology .group').count() >= 3);
  await seek(page, 20000);
  assert.doesNotMatch(await page.locator('#chart').textContent(), /break link/);
  assert.deepEqual(errors, []);
  await page.close();
});
