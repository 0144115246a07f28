// Compare mode: a second run beside the page's on one clock, against
// another scenario or the same one under other settings. The figures table
// between the charts is `mobike compare --until <clock>`'s, number for
// number; rows one run has and the other has not are marked; the charts
// scroll together; a share link opens the comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useBrowser, open, playUntil } from './helpers.mjs';

const env = useBrowser();
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function mobike(args) {
  return new Promise((ok) => {
    execFile('cargo', ['run', '-q', '-p', 'mobike-cli', '--', ...args], { cwd: ROOT, timeout: 30 * 60 * 1000 },
      (err, stdout, stderr) => ok([err ? (err.code ?? 1) : 0, stdout, stderr]));
  });
}

async function seek(page, ms) {
  await page.locator('#scrubber').fill(String(ms));
  await page.waitForFunction((us) => Number(document.querySelector('#clock').dataset.us) === us, ms * 1000);
}

/// The page's figures tables: label -> values.
async function pageFigures(page) {
  return page.evaluate(() => {
    const out = {};
    for (const tr of document.querySelectorAll('#compare-figures tbody tr, #compare-clients tbody tr')) {
      out[tr.dataset.label] = [...tr.querySelectorAll('td')].map((td) => td.textContent);
    }
    return out;
  });
}

/// The CLI's figures: label -> values (the label column is 28 wide, or
/// as wide as the longest label).
function cliFigures(text, labels) {
  const out = {};
  for (const line of text.split('\n')) {
    const label = labels.find((l) => line.startsWith(`${l} `));
    if (label) out[label] = line.slice(label.length).trim().split(/\s+/);
  }
  return out;
}

async function checkAgainstCli(page) {
  const args = JSON.parse(await page.locator('#compare-command').getAttribute('data-args'));
  const [code, stdout, stderr] = await mobike(args);
  assert.equal(code, 0, stderr);
  const ours = await pageFigures(page);
  const labels = Object.keys(ours);
  assert.ok(labels.length > 13, `whole-run and per-client rows: ${labels}`);
  assert.deepEqual(cliFigures(stdout, labels), ours, `the page's table is the CLI's: ${stdout}`);
  return { ours, stdout };
}

const marked = (page, side) => page.locator(`#compare-chart-${side}`).getAttribute('data-marked').then(Number);

test('two scenarios: cluster MOBIKE against Redirect, figures as the CLI prints them, differing rows marked, charts scrolled together', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=cluster-20-mobike`);
  await page.click('#compare-open');
  const redirect = await page.locator('#compare-example option', { hasText: 'Redirect' }).first().getAttribute('value');
  await page.selectOption('#compare-example', redirect);
  await page.click('#compare-example-go');
  await page.waitForSelector('#compare');
  assert.equal(await page.locator('#compare-panel').count(), 0, 'the menu closes');
  assert.match(await page.locator('#compare h2').textContent(), /A against another scenario, cluster-20-redirect/);

  // Before the balancer moves the clients (10 s) the runs are alike.
  await seek(page, 8000);
  assert.equal(await marked(page, 'a'), 0);
  assert.equal(await marked(page, 'b'), 0);
  await checkAgainstCli(page);

  await seek(page, 30000);
  const { ours } = await checkAgainstCli(page);
  assert.notDeepEqual(ours['IKE messages'][0], ours['IKE messages'][1], 'Redirect costs other messages');
  assert.equal(await page.locator('#compare-figures tr.differs[data-label="IKE messages"]').count(), 1);
  assert.ok(await marked(page, 'a') > 0 && await marked(page, 'b') > 0, 'differing rows are marked in both charts');
  assert.ok(await page.locator('#compare-chart-b .diff-band').count() > 0);

  // Scrolled to the top, the other chart comes along, and back down.
  const top = (side) => page.locator(`#compare-chart-${side}`).evaluate((e) => e.scrollTop);
  assert.ok(await top('b') > 0, 'both follow the newest rows');
  await page.locator('#compare-chart-a').evaluate((e) => { e.scrollTop = 0; });
  await page.waitForFunction(() => document.querySelector('#compare-chart-b').scrollTop === 0);
  await page.locator('#compare-chart-a').evaluate((e) => { e.scrollTop = e.scrollHeight; });
  await page.waitForFunction(() => document.querySelector('#compare-chart-b').scrollTop > 0);

  // A click on one of A's messages inspects it.
  await page.locator('#compare-chart-a g.msg .hit').first().click();
  await page.waitForFunction(() => !document.querySelector('#inspector')?.textContent.includes('Click a message'));

  // The chart's toolbar filters both charts; a group's header unfolds it in both.
  const rows = (side) => page.locator(`#compare-chart-${side}`).getAttribute('data-rows').then(Number);
  const [ra, rb] = [await rows('a'), await rows('b')];
  await page.click('#chart-ex-informational');
  await page.waitForFunction(([a, b]) => Number(document.querySelector('#compare-chart-a').dataset.rows) < a
    && Number(document.querySelector('#compare-chart-b').dataset.rows) < b, [ra, rb]);
  await page.click('#chart-ex-informational');
  const lanes = (side) => page.locator(`#compare-chart-${side} .lane-head`).count();
  assert.equal(await lanes('a'), 2);
  await page.click('#compare-chart-b .lane-head.group');
  await page.waitForFunction(() => document.querySelectorAll('#compare-chart-a .lane-head').length > 20);
  assert.equal(await lanes('b'), await lanes('a'), 'unfolded in both');

  await page.click('#compare-close');
  await page.waitForSelector('#chart');
  assert.equal(await page.locator('#compare').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('one scenario under two settings, interventions in both runs, and a share link that opens the comparison', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=responder-moves-client`);
  await page.click('#compare-open');
  // A setting that is not one is refused in the form, naming it.
  await page.fill('#compare-set', 'no_such_setting=1');
  await page.click('#compare-set-go');
  assert.match(await page.locator('#compare-error').textContent(), /no_such_setting/);
  await page.fill('#compare-set', 'list_policy=follow');
  await page.press('#compare-set', 'Enter');
  await page.waitForSelector('#compare');
  assert.match(await page.locator('#compare .run-name').nth(1).textContent(), /responder-moves-client \(list_policy=follow\)/);

  await seek(page, 14500);
  const { stdout } = await checkAgainstCli(page);
  assert.match(stdout, /responder-moves-client \(list_policy=follow\)/, 'the CLI names the variant as the page does');
  assert.ok(await marked(page, 'a') > 0 && await marked(page, 'b') > 0, 'strict runs an update of its own; follow does not');
  assert.match(await page.locator('#compare-chart-a').textContent(), /UPDATE_SA_ADDRESSES/);

  // The share link carries the comparison and its moment.
  await page.click('#share');
  const link = await page.locator('#share-link').inputValue();
  assert.match(link, /&cmp=set:list_policy=follow/);
  const before = await pageFigures(page);
  const { page: other, errors: otherErrors } = await open(env.browser, link);
  await other.waitForSelector('#compare');
  assert.deepEqual(await pageFigures(other), before, 'the link opens the same comparison at the same moment');
  await other.close();

  // A broken comparison in a link says so; the page opens the run alone.
  const { page: bad } = await open(env.browser, `${env.server.url}#v=1&ex=wifi-to-lte&cmp=ex:nope`);
  assert.match(await bad.locator('#error-panel').textContent(), /share link: compare \(cmp\): no built-in example "nope"/);
  await bad.close();
  assert.deepEqual([...errors, ...otherErrors], []);
  await page.close();
});

test('an intervention from the drawing happens in both runs', async () => {
  const { page, errors } = await open(env.browser, `${env.server.url}#v=1&ex=wifi-to-lte`);
  await page.click('#compare-open');
  await page.click('#compare-quick-1');
  await page.waitForSelector('#compare');
  await playUntil(page, 4, () => Number(document.querySelector('#clock').dataset.us) > 2e6);
  await page.click('#play');
  await page.click('#link-lte .hit');
  await page.click('#menu-break');
  await page.waitForFunction(() => ['a', 'b'].every((s) => document.querySelector(`#compare-chart-${s}`).textContent.includes('break link LTE (by you)')));
  assert.equal(await page.locator('.compare-skipped').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});
