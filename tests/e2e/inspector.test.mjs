// The message inspector and its byte view: a readable layout, octets and
// fields lit together, offsets in the hex dump's coordinates (with the
// non-ESP marker on port 4500, RFC 3948 §2.2, U-2.2-1), the datagram and
// its decrypted inside side by side, and why the message was sent, rule
// by rule with the conformance checklist's text.
//
// The chart has no keyboard focus of its own yet, so a message is selected
// by clicking it; the byte view's own rows are tested with the keyboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, playUntil } from './helpers.mjs';

const env = useBrowser();

const hasUpdate = () => [...document.querySelectorAll('#chart g.msg')]
  .some((g) => g.textContent.includes('UPDATE_SA_ADDRESSES'));

/// Opens the default scenario, plays until the laptop's UPDATE_SA_ADDRESSES
/// is in the chart and selects it.
async function selectUpdate() {
  const { page, errors } = await open(env.browser, env.server.url);
  await playUntil(page, 16, hasUpdate);
  await page.locator('#chart g.msg', { hasText: 'UPDATE_SA_ADDRESSES' }).first().locator('.hit').click();
  await page.waitForSelector('#bytes-plain .hex');
  return { page, errors };
}

/// Every field row of a pane, with the octets of the dump that carry its
/// row index: [{ path, offset, group, first, last, count, rowHex, dumpHex }].
function rowsAndOctets(pane) {
  return [...document.querySelectorAll(`${pane} tbody tr[data-row]`)].map((tr) => {
    const octets = [...document.querySelectorAll(`${pane} .hex .o`)];
    const mine = octets.map((o, at) => ({ o, at })).filter(({ o }) => o.dataset.row === tr.dataset.row);
    return {
      path: tr.title,
      offset: parseInt(tr.querySelector('td.off').textContent, 16),
      group: tr.classList.contains('group'),
      first: mine.length ? mine[0].at : -1,
      last: mine.length ? mine[mine.length - 1].at : -1,
      count: mine.length,
      rowHex: tr.querySelector('.oct').textContent,
      dumpHex: mine.map(({ o }) => o.textContent).join(' '),
    };
  });
}

test('the byte view is laid out to be read: a wide meaning column, short rows, two panes side by side', async () => {
  const { page, errors } = await selectUpdate();
  for (const pane of ['#bytes-wire', '#bytes-plain']) {
    const meaning = await page.locator(`${pane} td.meaning`).first().boundingBox();
    assert.ok(meaning.width >= 120, `${pane}: meaning column ${meaning.width}px wide`);
    // One character a line made rows ~200 px tall; a row is now one or two lines.
    const heights = await page.locator(`${pane} tbody tr`).evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect().height));
    assert.ok(heights.length > 10, `${heights.length} rows`);
    assert.ok(Math.max(...heights) <= 50, `${pane}: tallest row ${Math.max(...heights)}px`);
  }
  // The panels stay a screen high (the old inspector was ~14,000 px tall):
  // the inspector beside the chart at most 600 px, the byte view below at
  // most 900 px, each scrolling inside.
  const inspector = await page.locator('#inspector').boundingBox();
  const bytes = await page.locator('#bytes').boundingBox();
  assert.ok(inspector.height <= 600, `inspector ${inspector.height}px`);
  assert.ok(bytes.height <= 900, `byte view ${bytes.height}px`);
  // Encrypted and decrypted side by side: both visible, the same row band,
  // not overlapping.
  const wire = page.locator('#bytes-wire');
  const plain = page.locator('#bytes-plain');
  assert.ok(await wire.isVisible() && await plain.isVisible());
  const [w, p] = [await wire.boundingBox(), await plain.boundingBox()];
  assert.ok(Math.abs(w.y - p.y) < 4, `tops ${w.y} and ${p.y}`);
  assert.ok(w.x + w.width <= p.x, 'the decrypted pane is right of the wire pane');
  assert.match(await wire.locator('h3').textContent(), /On the wire/);
  assert.match(await plain.locator('h3').textContent(), /Inside SK, decrypted/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('offsets are hex dump positions, starting with the non-ESP marker on port 4500', async () => {
  const { page, errors } = await selectUpdate();
  for (const pane of ['#bytes-wire', '#bytes-plain']) {
    const rows = await page.evaluate(rowsAndOctets, pane);
    const leaves = rows.filter((r) => !r.group);
    assert.ok(leaves.length > 10);
    let next = 0;
    for (const r of leaves) {
      // The offset shown is where the field's octets are in the dump, and
      // the fields follow each other without gaps.
      assert.equal(r.offset, r.first, `${pane} ${r.path}: offset ${r.offset}, octets from ${r.first}`);
      assert.equal(r.first, next, `${pane} ${r.path}`);
      assert.equal(r.last - r.first + 1, r.count, `${pane} ${r.path}: contiguous`);
      next = r.last + 1;
      // A field shown in full has the dump's octets.
      if (!r.rowHex.includes('…')) assert.equal(r.rowHex, r.dumpHex, `${pane} ${r.path}`);
      else assert.ok(r.dumpHex.startsWith(r.rowHex.replace(' …', '')), `${pane} ${r.path}`);
    }
    assert.equal(next, await page.locator(`${pane} .hex .o`).count(), `${pane}: every octet has its field`);
  }
  // Port 4500: row 0000 is the marker, the IKE header starts at 0004, as
  // in the dump's first line.
  const wire = await page.evaluate(rowsAndOctets, '#bytes-wire');
  assert.deepEqual([wire[0].path, wire[0].offset, wire[0].rowHex], ['Non-ESP Marker', 0, '00 00 00 00']);
  const spi = wire.find((r) => r.path === "HDR.IKE SA Initiator's SPI");
  assert.equal(spi.offset, 4);
  assert.match(await page.locator('#bytes-wire .hex').textContent(), /^0000 {2}00 00 00 00 /);
  assert.match(await page.locator('#bytes-wire .origin').textContent(), /non-ESP marker/);
  // The decrypted pane counts from the plaintext's first octet.
  const plain = await page.evaluate(rowsAndOctets, '#bytes-plain');
  assert.equal(plain[0].offset, 0);
  assert.match(plain[0].path, /^N\(UPDATE_SA_ADDRESSES\)/);

  // Port 500 has no marker: the header is row 0000, and nothing is encrypted.
  await page.locator('#chart g.msg', { hasText: 'IKE_SA_INIT request' }).first().locator('.hit').click();
  await page.waitForFunction(() => document.querySelector('#inspector h2').textContent.startsWith('IKE_SA_INIT'));
  const init = await page.evaluate(rowsAndOctets, '#bytes-wire');
  assert.deepEqual([init[0].path, init[0].offset], ['HDR', 0]);
  assert.equal(await page.locator('#bytes-plain').count(), 0);
  assert.match(await page.locator('#bytes .plain-note').textContent(), /No SK payload/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('pointing at a field lights its octets, pointing at an octet lights its field', async () => {
  const { page, errors } = await selectUpdate();
  // Field → octets: COOKIE2's data, inside SK.
  const cookie = page.locator('#bytes-plain tbody tr[title="N(COOKIE2).Notification Data"]');
  await cookie.hover();
  const row = (await page.evaluate(rowsAndOctets, '#bytes-plain')).find((r) => r.path === 'N(COOKIE2).Notification Data');
  const lit = await page.locator('#bytes-plain .hex .o.on').evaluateAll((os) => {
    const all = [...document.querySelectorAll('#bytes-plain .hex .o')];
    return os.map((o) => all.indexOf(o));
  });
  assert.ok(row.count >= 8, `COOKIE2 has ${row.count} octets`);
  assert.deepEqual(lit, Array.from({ length: row.count }, (_, k) => row.offset + k));
  assert.equal(await page.locator('#bytes-wire .hex .o.on').count(), 0, 'the other pane stays dark');
  // A group lights all of its fields' octets.
  await page.locator('#bytes-wire tbody tr[title="HDR"]').hover();
  assert.equal(await page.locator('#bytes-wire .hex .o.on').count(), 28, 'the IKE header is 28 octets');
  // Octet → field: octet 0005 is in the initiator's SPI.
  await page.locator('#bytes-wire .hex .o').nth(5).hover();
  assert.deepEqual(await page.locator('#bytes-wire tbody tr.on').evaluateAll((rs) => rs.map((r) => r.title)),
    ["HDR.IKE SA Initiator's SPI"]);
  assert.equal(await page.locator('#bytes-wire .hex .o.on').count(), 8);
  // Octet 0 is the non-ESP marker.
  await page.locator('#bytes-wire .hex .o').nth(0).hover();
  assert.deepEqual(await page.locator('#bytes-wire tbody tr.on').evaluateAll((rs) => rs.map((r) => r.title)), ['Non-ESP Marker']);
  // Leaving clears the highlight.
  await page.locator('#bytes h2').hover();
  assert.equal(await page.locator('#bytes .hex .o.on').count(), 0);
  assert.equal(await page.locator('#bytes tbody tr.on').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the byte view\'s rows take the keyboard: arrows move the highlight, Enter pins it', async () => {
  const { page, errors } = await selectUpdate();
  // The pointer leaves the page: left where the chart's row was clicked,
  // it may rest on the byte view and light the field under it.
  await page.mouse.move(0, 0);
  // Tab reaches one row of the table (roving tabindex).
  assert.equal(await page.locator('#bytes-wire tbody tr[tabindex="0"]').count(), 1);
  await page.locator('#bytes-wire tbody tr[data-row="0"]').focus();
  assert.equal(await page.locator('#bytes-wire .hex .o.on').count(), 4, 'the marker is lit');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.title), 'HDR');
  assert.equal(await page.locator('#bytes-wire .hex .o.on').count(), 28);
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.title), "HDR.IKE SA Initiator's SPI");
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#bytes-wire tbody tr.pin').getAttribute('title'), "HDR.IKE SA Initiator's SPI");
  // The pin stays when focus leaves; Space did not start playback.
  const clock = await page.locator('#clock').getAttribute('data-us');
  await page.locator('#bytes h2').click();
  assert.equal(await page.locator('#bytes-wire .hex .o.on').count(), 8, 'the pinned field stays lit');
  assert.equal(await page.locator('#clock').getAttribute('data-us'), clock);
  // Another message starts without the pin, with the tab stop on its
  // first row and its table scrolled to the top.
  const tableBox = page.locator('#bytes-wire .fields');
  await tableBox.evaluate((el) => { el.scrollTop = el.scrollHeight; });
  const title = await page.locator('#inspector h2').textContent();
  await page.locator('#chart g.msg .hit').first().click();
  await page.waitForFunction((t) => document.querySelector('#inspector h2').textContent !== t, title);
  assert.equal(await page.locator('#bytes .hex .o.on, #bytes .hex .o.pin, #bytes tr.pin').count(), 0);
  assert.equal(await page.locator('#bytes-wire tbody tr[tabindex="0"]').getAttribute('data-row'), '0');
  assert.equal(await tableBox.evaluate((el) => el.scrollTop), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('why an UPDATE_SA_ADDRESSES request was sent: the laptop\'s decisions and the rules, with the reference\'s text', async () => {
  const { page, errors } = await selectUpdate();
  const why = page.locator('#inspector .why');
  assert.match(await why.locator('h3').textContent(), /Why it was sent/);
  // The rules behind it, each with its requirement from the checklist
  // (protocol reference §2.14).
  const rule = (id) => why.locator(`li.rule[data-rule="${id}"]`).first();
  assert.match(await rule('B-3.5-1').textContent(), /Initiator updates IKE_SA and sets pending_update before sending the update/);
  assert.match(await rule('B-3.5-5').textContent(), /UPDATE_SA_ADDRESSES sent only when window allows; clears pending_update/);
  assert.match(await rule('B-3.5-7').textContent(), /UPDATE_SA_ADDRESSES notify carries no data; PID\/SPI size 0/);
  assert.match(await rule('M-3.7-4').textContent(), /MAY.*COOKIE2/);
  assert.match(await rule('B-3.5-7').locator('.src').textContent(), /RFC 4555 §3\.5, §4\.2\.4/);
  // What the laptop itself noted at that moment.
  assert.match(await why.locator('li.reason.noted').allTextContents().then((t) => t.join('\n')),
    /Laptop noted.*path test answered on another address pair/);
  // Every id shown is one the checklist has.
  assert.equal(await why.locator('li.rule.unknown').count(), 0);
  assert.ok(await why.locator('li.rule').count() >= 8);
  assert.deepEqual(errors, []);
  await page.close();
});
