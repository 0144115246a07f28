// The page on a phone (390×844, touch): nothing wider than the screen,
// the drawing's and the chart's text at least 11 px as shown, the panels
// stacked, the slider usable, and an element's menu opened by a long press.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, playUntil, settled, settling } from './helpers.mjs';

const env = useBrowser();

/** The smallest text in an SVG as shown: its font size × the SVG's scale. */
function smallestText(selector) {
  const svg = document.querySelector(selector);
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  let least = Infinity;
  let which = '';
  for (const t of svg.querySelectorAll('text')) {
    if (!t.textContent.trim() || t.getClientRects().length === 0) continue;
    const px = parseFloat(getComputedStyle(t).fontSize) * scale;
    if (px < least) [least, which] = [px, t.textContent];
  }
  return { least, which, scale };
}

test('at 390×844 with touch: no overflow, legible drawing and chart, stacked panels, a usable slider', async () => {
  const context = await env.browser.newContext({
    viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2,
  });
  const page = await context.newPage();
  settling(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${env.server.url}#v=1&ex=cluster-20-mobike`);
  await page.waitForSelector('#topology .host');
  await settled(page);
  await playUntil(page, 16, () => Number(document.querySelector('#clock').dataset.us) >= 4e6);

  const width = () => page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
  assert.ok(await width() <= 390, `the page is ${await width()} px wide`);

  for (const svg of ['#topology', '#chart svg']) {
    const { least, which } = await page.evaluate(smallestText, svg);
    assert.ok(least >= 11, `${svg}: "${which}" is ${least.toFixed(2)} px`);
  }

  // The panels are stacked: each below the one before, none beside another.
  const stacked = async (selectors) => {
    const boxes = await page.evaluate((list) => list.map((s) => {
      const r = document.querySelector(s).getBoundingClientRect();
      return { s, left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    }), selectors);
    for (const b of boxes) assert.ok(b.left >= 0 && b.right <= 390, JSON.stringify(b));
    for (let i = 1; i < boxes.length; i++) {
      assert.ok(boxes[i].top >= boxes[i - 1].bottom - 1, `${boxes[i].s} is below ${boxes[i - 1].s}`);
    }
  };
  await stacked(['.left', '.right', '.chart-wrap', '.inspector']);
  await stacked(['#traffic', '.nat-panels']);

  // The slider takes the whole width and a finger can set it.
  const slider = await page.locator('#scrubber').boundingBox();
  assert.ok(slider.width >= 300 && slider.height >= 30, JSON.stringify(slider));
  await page.locator('#scrubber').fill('2000');
  assert.equal(Number(await page.locator('#clock').getAttribute('data-us')), 2e6);

  // A tap on a chip opens its menu, below the drawing and inside the screen.
  await page.locator('#chip-client-3').scrollIntoViewIfNeeded();
  // A long press (the finger stays down) opens it.
  const chip = await page.locator('#chip-client-3 rect').boundingBox();
  const finger = [{ x: chip.x + chip.width / 2, y: chip.y + chip.height / 2 }];
  const cdp = await context.newCDPSession(page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: finger });
  await page.waitForSelector('#menu[data-target="host:client-3"]', { timeout: 5000 });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  const menu = await page.locator('#menu').boundingBox();
  const drawing = await page.locator('.topo-scroll').boundingBox();
  assert.ok(menu.x >= 0 && menu.x + menu.width <= 390, JSON.stringify(menu));
  assert.ok(menu.y >= drawing.y + drawing.height - 1, 'the menu is stacked under the drawing');
  assert.ok(await width() <= 390, 'still no overflow with the menu open');
  const button = await page.locator('#menu-hint-icmp').boundingBox();
  assert.ok(button.height >= 32, 'buttons are big enough for a finger');
  await page.tap('#menu-hint-icmp');
  await page.waitForSelector('#menu', { state: 'detached' });
  assert.match(await page.locator('#chart').textContent(), /Client 3 gets an ICMP error \(by you\)/);
  assert.deepEqual(errors, []);
  await context.close();
});
