// The lab: every intervention the simulator has, done from the menu of an
// element of the drawing while the run plays. Each test checks the effect in
// the page (the drawing, a state panel, a NAT table), the chart's "(by you)"
// row, the mark on the time slider, and that a share link replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, clock, playUntil, stateRow, settled, settling } from './helpers.mjs';

const env = useBrowser();

const upTo = (s) => () => Number(document.querySelector('#clock').dataset.us) >= s * 1e6;
/** Plays on (at speed 16) until `s` seconds of virtual time. */
const playTo = (page, s, speed = 16) => playUntil(page, speed, (t) => Number(document.querySelector('#clock').dataset.us) >= t, s * 1e6);
/** Plays on for `ds` seconds of virtual time from the moment shown: the
 * pause before may have landed anywhere up to a second or more past its
 * target, so a fixed moment could already be behind. */
const playOn = async (page, ds, speed = 16) => playTo(page, (await clock(page)) + ds, speed);
const byYou = (page) => page.locator('#chart g.note', { hasText: '(by you)' });
const marks = (page) => page.locator('.marks .mark');

/** Opens the page (an example, by its name) and plays to `s` seconds. */
async function start(s, example) {
  const url = example ? `${env.server.url}#v=1&ex=${example}` : env.server.url;
  const opened = await open(env.browser, url);
  // The examples have their own events later on: a slower pace stops in time.
  if (s > 0) await playTo(opened.page, s, example ? 4 : 16);
  return opened;
}

/** Clicks an element of the drawing and waits for its menu. */
async function menuOf(page, selector, target) {
  // A host's box is pressed at its top left corner, clear of its
  // interfaces' labels (elements of their own).
  const at = selector.endsWith(' .box') ? { position: { x: 12, y: 12 } } : {};
  await page.click(selector, at);
  await page.waitForSelector(`#menu[data-target="${target}"]`);
}

/** The intervention's row in the chart and its mark on the slider. */
async function logged(page, words, count = 1) {
  await page.waitForSelector('#menu', { state: 'detached' });
  // Without the time the row begins with.
  const rows = (await byYou(page).allTextContents()).map((r) => r.replace(/^\d+\.\d+s/, ''));
  assert.equal(rows.length, count, `rows by you: ${rows.join(' | ')}`);
  assert.match(rows.at(-1), words);
  assert.equal(await marks(page).count(), count);
  const title = await marks(page).last().getAttribute('title');
  assert.match(title, /\(by you\)$/);
  assert.equal(await page.locator('#fork-notice').count(), 0, 'done at the newest moment: no fork');
}

/** Opens the run's share link in a new page, checks `check` there too. */
async function replays(page, words, check) {
  await page.click('#share');
  const link = await page.locator('#share-link').inputValue();
  const { page: other, errors } = await open(env.browser, link);
  assert.equal(await clock(other), await clock(page));
  const rows = (await byYou(other).allTextContents()).map((r) => r.replace(/^\d+\.\d+s/, ''));
  assert.ok(rows.some((r) => words.test(r)), rows.join(' | '));
  assert.equal(await marks(other).count(), await marks(page).count());
  if (check) await check(other);
  assert.equal(await other.locator('#error-panel').count(), 0);
  assert.deepEqual(errors, []);
  await other.close();
}

async function done(page, errors) {
  assert.deepEqual(errors, []);
  await page.close();
}

test('link: break both ways', async () => {
  const { page, errors } = await start(3);
  await menuOf(page, '#link-wifi .hit', 'link:wifi');
  assert.match(await page.locator('#menu .menu-status').textContent(), /works both ways/);
  await page.click('#menu-break');
  const words = /^break link Wi-Fi \(by you\)$/;
  await logged(page, words);
  assert.equal(await page.locator('#link-wifi').getAttribute('data-up'), 'false');
  // From now on the tunnel's pings over Wi-Fi go unanswered.
  const row = (key) => page.locator(`#traffic tr[data-key="${key}"] td`).textContent();
  const [sent, answered] = [Number(await row('sent')), Number(await row('answered'))];
  await playTo(page, (await clock(page)) + 1.5, 4);
  assert.ok(Number(await row('sent')) > sent, 'pings are sent');
  assert.equal(Number(await row('answered')), answered, 'and none is answered');
  await replays(page, words, async (o) => {
    assert.equal(await o.locator('#link-wifi').getAttribute('data-up'), 'false');
    assert.equal(await o.locator('#traffic tr[data-key="answered"] td').textContent(), await row('answered'));
  });
  await done(page, errors);
});

test('link: break one direction only, then restore it', async () => {
  const { page, errors } = await start(3);
  await menuOf(page, '#link-wifi .hit', 'link:wifi');
  await page.click('#menu-break-down');
  const words = /^break link Wi-Fi, downlink only \(by you\)$/;
  await logged(page, words);
  assert.match(await page.locator('#link-wifi .link-label').textContent(), /downlink down$/);
  assert.equal(await page.locator('#link-wifi').getAttribute('data-up'), 'false');
  await menuOf(page, '#link-wifi .hit', 'link:wifi');
  assert.match(await page.locator('#menu .menu-status').textContent(), /downlink \(internet → host\) broken, uplink works/);
  await page.click('#menu-restore-down');
  await logged(page, /^restore link Wi-Fi, downlink only \(by you\)$/, 2);
  assert.equal(await page.locator('#link-wifi').getAttribute('data-up'), 'true');
  assert.doesNotMatch(await page.locator('#link-wifi .link-label').textContent(), /down/);
  await replays(page, words, async (o) => {
    assert.equal(await o.locator('#link-wifi').getAttribute('data-up'), 'true');
  });
  await done(page, errors);
});

test('link: restore both ways after a break', async () => {
  const { page, errors } = await start(3);
  await menuOf(page, '#link-wifi .hit', 'link:wifi');
  await page.click('#menu-break');
  await logged(page, /^break link Wi-Fi/);
  await menuOf(page, '#link-wifi .hit', 'link:wifi');
  await page.click('#menu-restore');
  const words = /^restore link Wi-Fi \(by you\)$/;
  await logged(page, words, 2);
  assert.equal(await page.locator('#link-wifi').getAttribute('data-up'), 'true');
  await replays(page, words, async (o) => {
    assert.equal(await o.locator('#link-wifi').getAttribute('data-up'), 'true');
  });
  await done(page, errors);
});

test('link: delay, jitter, loss and duplication changed live; a bad value is shown in place', async () => {
  const { page, errors } = await start(3);
  await menuOf(page, '#link-lte .hit', 'link:lte');
  assert.equal(await page.inputValue('#menu-delay'), '35ms');
  await page.fill('#menu-loss', 'lots');
  await page.click('#menu-apply-link');
  assert.match(await page.locator('#menu-error-link').textContent(), /^loss: "lots" is not a number/);
  await page.fill('#menu-loss', '1.5');
  await page.click('#menu-apply-link');
  assert.match(await page.locator('#menu-error-link').textContent(), /probability/);
  assert.equal(await marks(page).count(), 0, 'nothing applied');
  await page.fill('#menu-delay', '50ms');
  await page.fill('#menu-jitter', '5ms');
  await page.fill('#menu-loss', '0.2');
  await page.fill('#menu-duplicate', '0.1');
  await page.click('#menu-apply-link');
  const words = /^link LTE: delay 50ms, jitter 5ms, loss 20 ?%, duplication 10 ?% \(by you\)$/;
  await logged(page, words);
  const caption = /^LTE · 50 ms ± 5 ms · loss 20 % · dup 10 %$/;
  assert.match(await page.locator('#link-lte .link-label').textContent(), caption);
  await replays(page, words, async (o) => {
    assert.match(await o.locator('#link-lte .link-label').textContent(), caption);
  });
  await done(page, errors);
});

test('interface: unplug (the OS tells the daemon) and plug in again', async () => {
  const { page, errors } = await start(3);
  await menuOf(page, '#iface-laptop-wlan0 .hit', 'interface:laptop.wlan0');
  await page.click('#menu-unplug');
  const words = /wlan0 down \(by you\)$/;
  await logged(page, words);
  assert.equal(await page.locator('#iface-laptop-wlan0').getAttribute('data-up'), 'false');
  // Told at once, the laptop moves to LTE well before any liveness check.
  await playOn(page, 1);
  assert.match(await stateRow(page, 'laptop', 'path'), /^10\.64\.0\.2:4500 ⇄/, 'on LTE, behind the carrier NAT');
  await menuOf(page, '#iface-laptop-wlan0 .hit', 'interface:laptop.wlan0');
  await page.click('#menu-plug');
  await logged(page, /wlan0 up \(by you\)$/, 2);
  assert.equal(await page.locator('#iface-laptop-wlan0').getAttribute('data-up'), 'true');
  await replays(page, words, async (o) => {
    assert.equal(await o.locator('#iface-laptop-wlan0').getAttribute('data-up'), 'true');
    assert.equal(await stateRow(o, 'laptop', 'path'), await stateRow(page, 'laptop', 'path'));
  });
  await done(page, errors);
});

test('interface: an address added announced reaches the daemon; one added silently does not', async () => {
  const { page, errors } = await start(3);
  await menuOf(page, '#iface-laptop-wlan0 .hit', 'interface:laptop.wlan0');
  await page.fill('#menu-address', 'not-an-address');
  await page.click('#menu-add-address');
  assert.match(await page.locator('#menu-error-address').textContent(), /is not an IP address/);
  await page.fill('#menu-address', '192.0.2.77');
  await page.click('#menu-add-address');
  await logged(page, /gains 192\.0\.2\.77 \(by you\)$/);
  await menuOf(page, '#iface-laptop-wwan0 .hit', 'interface:laptop.wwan0');
  await page.fill('#menu-address', '198.51.100.77');
  await page.uncheck('#menu-announce');
  await page.click('#menu-add-address');
  const words = /gains 198\.51\.100\.77 \(the IKE daemon is not told\) \(by you\)$/;
  await logged(page, words, 2);
  await playOn(page, 1.5);
  const own = await stateRow(page, 'laptop', 'own');
  assert.match(own, /192\.0\.2\.77/, 'announced: the daemon lists it');
  assert.doesNotMatch(own, /198\.51\.100\.77/, 'silent: the daemon does not know it');
  await menuOf(page, '#iface-laptop-wwan0 .hit', 'interface:laptop.wwan0');
  assert.match(await page.locator('#menu .addresses').textContent(), /198\.51\.100\.77/, 'but the interface has it');
  await page.keyboard.press('Escape');
  await replays(page, words, async (o) => {
    assert.equal(await stateRow(o, 'laptop', 'own'), own);
  });
  await done(page, errors);
});

test('interface: remove an address, silently', async () => {
  const { page, errors } = await start(3);
  await menuOf(page, '#iface-laptop-wlan0 .hit', 'interface:laptop.wlan0');
  await page.uncheck('#menu-announce');
  await page.click('#menu .remove-address[data-address="192.0.2.10"]');
  const words = /loses 192\.0\.2\.10 \(the IKE daemon is not told\) \(by you\)$/;
  await logged(page, words);
  await menuOf(page, '#iface-laptop-wlan0 .hit', 'interface:laptop.wlan0');
  assert.match(await page.locator('#menu .menu-status').textContent(), /addresses: no address/);
  await page.keyboard.press('Escape');
  // The daemon still thinks it has it; the path is not moved at once.
  assert.match(await stateRow(page, 'laptop', 'own'), /192\.0\.2\.10/);
  await replays(page, words, async (o) => {
    assert.equal(await o.locator('#iface-laptop-wlan0 text').textContent(), await page.locator('#iface-laptop-wlan0 text').textContent());
  });
  await done(page, errors);
});

test('NAT box: reboot loses its mappings', async () => {
  const { page, errors } = await start(21);
  assert.equal(await page.locator('#nat-table-cgn td.muted').count(), 0, 'it has mappings after the move to LTE');
  await menuOf(page, '#nat-cgn rect', 'nat:cgn');
  await page.click('#menu-reboot');
  const words = /^NAT Carrier NAT reboots: \d+ mappings? lost \(by you\)$/;
  await logged(page, words);
  assert.equal(await page.locator('#nat-table-cgn td.muted').textContent(), 'no mappings');
  await replays(page, words);
  await done(page, errors);
});

test('NAT box: a new public address', async () => {
  const { page, errors } = await start(21);
  await menuOf(page, '#nat-cgn rect', 'nat:cgn');
  await page.fill('#menu-nat-address', '192.0.2.10');
  await page.click('#menu-change-address');
  assert.match(await page.locator('#menu-error-nat-address').textContent(), /192\.0\.2\.10/, 'taken: refused in place');
  await page.fill('#menu-nat-address', '198.51.100.77');
  await page.click('#menu-change-address');
  const words = /^NAT Carrier NAT's public address becomes 198\.51\.100\.77 \(by you\)$/;
  await logged(page, words);
  assert.equal(await page.locator('#nat-cgn .nat-addr').textContent(), '198.51.100.77');
  assert.match(await page.locator('#nat-table-cgn').textContent(), /198\.51\.100\.77:\d+/);
  await replays(page, words, async (o) => {
    assert.equal(await o.locator('#nat-cgn .nat-addr').textContent(), '198.51.100.77');
  });
  await done(page, errors);
});

test('NAT box: its RFC 4787 behaviour, by preset and by single properties', async () => {
  const { page, errors } = await start(21);
  await menuOf(page, '#nat-cgn rect', 'nat:cgn');
  const before = await page.locator('#menu .menu-status').textContent();
  await page.selectOption('#menu-preset', 'symmetric');
  assert.equal(await page.inputValue('#menu-mapping'), 'address_and_port_dependent', 'a preset fills the form in');
  await page.fill('#menu-timeout', '45s');
  await page.click('#menu-configure');
  const words = /^NAT Carrier NAT is configured anew \(preset symmetric, mappings live 45s\): its mappings are flushed \(by you\)$/;
  await logged(page, words);
  assert.equal(await page.locator('#nat-table-cgn td.muted').textContent(), 'no mappings');
  await menuOf(page, '#nat-cgn rect', 'nat:cgn');
  const after = await page.locator('#menu .menu-status').textContent();
  assert.notEqual(after, before);
  assert.equal(await page.inputValue('#menu-mapping'), 'address_and_port_dependent');
  assert.equal(await page.inputValue('#menu-timeout'), '45s');
  await page.selectOption('#menu-filtering', 'endpoint_independent');
  await page.click('#menu-configure');
  await logged(page, /configured anew \(EIF\)|configured anew \(.*endpoint.independent.*\)/i, 2);
  await replays(page, words, async (o) => {
    await menuOf(o, '#nat-cgn rect', 'nat:cgn');
    assert.equal(await o.inputValue('#menu-filtering'), 'endpoint_independent');
    assert.equal(await o.inputValue('#menu-timeout'), '45s');
  });
  await done(page, errors);
});

test('NAT box: a plain click opens its menu and leaves it in the path; the menu moves it', async () => {
  const { page, errors } = await start(3);
  assert.equal(await page.locator('#nat-cgn').getAttribute('data-link'), 'lte');
  await menuOf(page, '#nat-cgn rect', 'nat:cgn');
  assert.equal(await page.locator('#nat-cgn').getAttribute('data-link'), 'lte', 'a click keeps it where it is');
  assert.equal(await marks(page).count(), 0);
  await page.click('#menu-take-out');
  const words = /^take NAT Carrier NAT out of the path \(by you\)$/;
  await logged(page, words);
  assert.equal(await page.locator('#nat-cgn').getAttribute('data-link'), '');
  await menuOf(page, '#nat-cgn rect', 'nat:cgn');
  assert.equal(await page.locator('#nat-cgn').getAttribute('data-link'), '', 'a click does not put it back either');
  await page.selectOption('#menu-place-link', 'wifi');
  await page.click('#menu-place');
  await logged(page, /^put NAT Carrier NAT on link Wi-Fi \(by you\)$/, 2);
  assert.equal(await page.locator('#nat-cgn').getAttribute('data-link'), 'wifi');
  await replays(page, words, async (o) => {
    assert.equal(await o.locator('#nat-cgn').getAttribute('data-link'), 'wifi');
  });
  await done(page, errors);
});

test('cluster: the balancer moves N clients by Redirect', async () => {
  const { page, errors } = await start(4, 'cluster-20-mobike');
  await menuOf(page, '#host-cluster .box', 'host:cluster');
  assert.match(await page.locator('#menu .menu-note').textContent(), /^20 IKE SAs: 20 on 198\.51\.100\.1$/);
  await page.fill('#menu-move-count', 'x');
  await page.click('#menu-move');
  assert.match(await page.locator('#menu-error-move').textContent(), /^how many/);
  await page.fill('#menu-move-count', '5');
  await page.check('#menu-by-redirect');
  await page.selectOption('#menu-move-to', '198.51.100.2');
  await page.click('#menu-move');
  const words = /^Cluster: the balancer moves 5 clients to 198\.51\.100\.2 by Redirect \(by you\)$/;
  await logged(page, words);
  await playOn(page, 3, 4);
  await menuOf(page, '#host-cluster .box', 'host:cluster');
  const summary = await page.locator('#menu .menu-note').textContent();
  assert.match(summary, /15 on 198\.51\.100\.1, 5 on 198\.51\.100\.2$/);
  await page.keyboard.press('Escape');
  await replays(page, words, async (o) => {
    await menuOf(o, '#host-cluster .box', 'host:cluster');
    assert.equal(await o.locator('#menu .menu-note').textContent(), summary);
  });
  await done(page, errors);
});

test('cluster: the balancer moves all clients by responder MOBIKE', async () => {
  const { page, errors } = await start(4, 'cluster-20-mobike');
  await menuOf(page, '#host-cluster .box', 'host:cluster');
  await page.click('#menu-move');
  const words = /^Cluster: the balancer moves 20 clients to 198\.51\.100\.2 by responder MOBIKE \(by you\)$/;
  await logged(page, words);
  await playOn(page, 3, 4);
  assert.ok(await page.locator('.chip.moved').count() >= 15, 'the chips show the move');
  await replays(page, words, async (o) => {
    assert.equal(await o.locator('.chip.moved').count(), await page.locator('.chip.moved').count());
  });
  await done(page, errors);
});

test('attacker: labelled an attacker; a forged and a replayed UPDATE_SA_ADDRESSES', async () => {
  const { page, errors } = await start(12, 'attacker-spoofed-update');
  assert.equal(await page.locator('#host-mallory .host-role').textContent(), 'attacker');
  const updates = () => page.locator('#chart g.msg').count();
  await menuOf(page, '#host-mallory .box', 'host:mallory');
  assert.equal(await page.locator('#menu .menu-role').textContent(), 'attacker');
  assert.equal(await page.locator('#menu-hint-icmp').count(), 0, 'no hints for her');
  const path = await stateRow(page, 'gateway', 'path');
  const n = await updates();
  await page.selectOption('#menu-spoof-target', 'gateway');
  await page.click('#menu-forge');
  const words = /^Mallory sends a forged UPDATE_SA_ADDRESSES from .+ \(by you\)$/;
  await logged(page, words);
  await playTo(page, (await clock(page)) + 0.5, 4);
  assert.ok(await updates() > n, 'her message is in the chart');
  assert.equal(await stateRow(page, 'gateway', 'path'), path, 'and moves nothing (RFC 4555 §5)');
  await menuOf(page, '#host-mallory .box', 'host:mallory');
  await page.click('#menu-replay');
  assert.equal(await page.locator('#menu-error-attack').count(), 0, await page.locator('#menu').textContent().catch(() => ''));
  // The replay is on the slider and in the chart, sent or, when she has
  // captured nothing to that host, with the reason none went out.
  await page.waitForSelector('#menu', { state: 'detached' });
  assert.equal(await marks(page).count(), 2);
  assert.equal(await byYou(page).count(), 2, (await byYou(page).allTextContents()).join(' | '));
  assert.match(await marks(page).last().getAttribute('title'), /mallory sends a replayed UPDATE_SA_ADDRESSES to \w+ \(by you\)$/);
  await playTo(page, (await clock(page)) + 0.5, 4);
  assert.equal(await stateRow(page, 'gateway', 'path'), path, 'a replay moves nothing either');
  await replays(page, words, async (o) => {
    assert.equal(await stateRow(o, 'gateway', 'path'), path);
  });
  await done(page, errors);
});

test('host: a lower-layer hint (ICMP) starts a liveness check', async () => {
  const { page, errors } = await start(3);
  await menuOf(page, '#host-laptop .box', 'host:laptop');
  assert.equal(await page.locator('#menu .menu-role').textContent(), 'initiator');
  const ike = () => page.locator('#chart g.msg', { hasText: 'INFORMATIONAL' }).count();
  const n = await ike();
  await page.click('#menu-hint-icmp');
  const words = /^Laptop gets an ICMP error \(by you\)$/;
  await logged(page, words);
  await playOn(page, 0.5);
  assert.ok(await ike() >= n + 2, 'an INFORMATIONAL request and its response (RFC 4555 §3.5)');
  await replays(page, words);
  await done(page, errors);
});

test('host: Check liveness now sends a liveness check at once, logged and replayed', async () => {
  const { page, errors } = await start(3);
  await menuOf(page, '#host-laptop .box', 'host:laptop');
  assert.equal(await page.locator('#menu-check-liveness').isDisabled(), false);
  const ike = () => page.locator('#chart g.msg', { hasText: 'INFORMATIONAL' }).count();
  const n = await ike();
  await page.click('#menu-check-liveness');
  const words = /^Laptop checks its IKE SA's liveness now \(by you\)$/;
  await logged(page, words);
  await playOn(page, 0.5);
  assert.ok(await ike() >= n + 2, 'an INFORMATIONAL request and its response');
  await replays(page, words);
  await done(page, errors);
});

test('host: Rekey the Child SA now and Rekey the IKE SA now replace them, logged and replayed', async () => {
  const { page, errors } = await start(3);
  const children = async () => (await stateRow(page, 'laptop', 'children')).trim();
  const before = await children();
  assert.match(before, /^in [0-9a-f]{8} · out [0-9a-f]{8}$/);
  await menuOf(page, '#host-laptop .box', 'host:laptop');
  assert.equal(await page.locator('#menu-rekey-child').isDisabled(), false);
  await page.click('#menu-rekey-child');
  await logged(page, /^Laptop rekeys its Child SA now \(by you\)$/);
  await playOn(page, 0.5);
  assert.ok(await page.locator('#chart g.msg', { hasText: 'CREATE_CHILD_SA' }).count() >= 2, 'request and response');
  const after = await children();
  assert.match(after, /^in [0-9a-f]{8} · out [0-9a-f]{8}$/, 'the old Child SA is deleted');
  assert.notEqual(after, before);
  // The IKE SA: a new one, established, with the Child SA carried over.
  const path = await stateRow(page, 'laptop', 'path');
  await menuOf(page, '#host-laptop .box', 'host:laptop');
  await page.click('#menu-rekey-ike');
  await logged(page, /^Laptop rekeys its IKE SA now \(by you\)$/, 2);
  await playOn(page, 0.7);
  assert.match(await stateRow(page, 'laptop', 'state'), /^Established/);
  assert.equal(await stateRow(page, 'laptop', 'path'), path, 'the new IKE SA keeps the path');
  assert.equal(await children(), after, 'the Child SA goes over to the new IKE SA');
  assert.ok(await page.locator('#chart g.note', { hasText: 'IKE SA rekeyed' }).count() >= 1);
  await replays(page, /rekeys its IKE SA now \(by you\)/);
  await done(page, errors);
});

test('host: the other hints, INVALID_SPI and NAT changed, are logged and replayed', async () => {
  const { page, errors } = await start(3);
  for (const [id, words, k] of [
    ['#menu-hint-invalid-spi', /^Laptop gets an INVALID_SPI report \(by you\)$/, 1],
    ['#menu-hint-nat-changed', /^Laptop gets a hint that its NAT mapping may have changed \(by you\)$/, 2],
  ]) {
    await menuOf(page, '#host-laptop .box', 'host:laptop');
    await page.click(id);
    await logged(page, words, k);
  }
  await replays(page, /NAT mapping may have changed \(by you\)/);
  await done(page, errors);
});

test('acting in the past from a menu forks the timeline there', async () => {
  const { page, errors } = await start(8);
  await page.locator('#scrubber').fill('4000');
  assert.equal(await clock(page), 4);
  await menuOf(page, '#link-wifi .hit', 'link:wifi');
  assert.match(await page.locator('#menu .menu-past').textContent(), /new timeline/);
  await page.click('#menu-break');
  assert.match(await page.locator('#fork-notice').textContent(), /new timeline starts at 4\.000s/);
  assert.equal(await marks(page).count(), 1);
  assert.match(await page.locator('#chart').textContent(), /break link Wi-Fi \(by you\)/);
  await done(page, errors);
});

test('keyboard only: Tab to a link, Enter opens its menu, Space breaks it, the focus comes back', async () => {
  const { page, errors } = await start(3);
  let tabs = 0;
  while ((await page.evaluate(() => document.activeElement?.id)) !== 'link-wifi') {
    await page.keyboard.press('Tab');
    assert.ok(++tabs < 80, 'the link is reachable by Tab');
  }
  // A visible focus ring: the wire is drawn thicker while focused.
  const width = await page.evaluate(() => getComputedStyle(document.querySelector('#link-wifi .wire')).strokeWidth);
  assert.equal(width, '6px');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#menu[data-target="link:wifi"]');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'menu-break', 'the focus is in the menu');
  const playing = await page.locator('#play').textContent();
  await page.keyboard.press('Space');
  await logged(page, /^break link Wi-Fi \(by you\)$/);
  assert.equal(await page.locator('#link-wifi').getAttribute('data-up'), 'false');
  assert.equal(await page.locator('#play').textContent(), playing, 'Space pressed the button, it did not play');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'link-wifi', 'the focus is back on the link');
  // Escape closes a menu; the focus goes back too.
  await page.keyboard.press('Enter');
  await page.waitForSelector('#menu');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#menu', { state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'link-wifi');
  // Interfaces, NAT boxes, hosts and chips take the focus too.
  for (const id of ['iface-laptop-wlan0', 'nat-cgn']) {
    assert.equal(await page.locator(`#${id}`).getAttribute('tabindex'), '0', id);
  }
  assert.equal(await page.locator('#host-laptop .box').getAttribute('tabindex'), '0');
  await done(page, errors);
});

test('touch: a long press opens the menu without lifting the finger; a tap opens it too', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1000, height: 900 }, hasTouch: true });
  const page = await context.newPage();
  settling(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(env.server.url);
  await page.waitForSelector('#topology .host');
  await settled(page);
  const box = await page.locator('#nat-cgn rect').boundingBox();
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  const cdp = await context.newCDPSession(page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
  await page.waitForSelector('#menu[data-target="nat:cgn"]', { timeout: 3000 });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  assert.equal(await page.locator('#nat-cgn').getAttribute('data-link'), 'lte', 'a long press does not move it');
  await page.click('#menu-close');
  await page.waitForSelector('#menu', { state: 'detached' });
  await page.tap('#link-lte .hit');
  await page.waitForSelector('#menu[data-target="link:lte"]');
  assert.deepEqual(errors, []);
  await context.close();
});
