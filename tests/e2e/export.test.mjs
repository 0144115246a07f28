// Take it away: every download of the Export menu is the run as shown (up
// to the clock, with the chart's filters), and the command the menu shows,
// run by the command-line tool on the downloaded scenario, writes the very
// same bytes. The capture's keys decrypt it in tshark; the PNGs are the
// drawings at twice their size; "Copy" puts the ASCII chart on the
// clipboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, readdir } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBrowser, open, settled, settling } from './helpers.mjs';

const env = useBrowser();
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(cmd, args, opts = {}) {
  return new Promise((ok) => {
    execFile(cmd, args, { timeout: 30 * 60 * 1000, maxBuffer: 64 << 20, ...opts },
      (err, stdout, stderr) => ok([err ? (err.code ?? 1) : 0, stdout, stderr]));
  });
}

/// The command-line tool, run in `cwd`.
const mobike = (cwd, args) =>
  run('cargo', ['run', '-q', '--manifest-path', join(ROOT, 'Cargo.toml'), '-p', 'mobike-cli', '--', ...args], { cwd });

async function seek(page, ms) {
  await page.locator('#scrubber').fill(String(ms));
  await page.waitForFunction((us) => Number(document.querySelector('#clock').dataset.us) === us, ms * 1000);
}

/// Clicks an item of the Export menu and saves what it downloads in `dir`.
async function download(page, id, dir) {
  if (await page.locator('#export-panel').count() === 0) await page.click('#export');
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(`#export-${id}`)]);
  const path = join(dir, d.suggestedFilename());
  await d.saveAs(path);
  return { name: d.suggestedFilename(), path, bytes: await readFile(path) };
}

/// A PNG's width and height, from its IHDR chunk.
function pngSize(b) {
  assert.deepEqual([...b.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

test('every download is the run as shown, byte-equal to the CLI export the menu names', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'export-'));
  const cliDir = join(dir, 'cli');
  const context = await env.browser.newContext({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await context.newPage();
  settling(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(env.server.url);
  await page.waitForSelector('#topology .host');
  await settled(page);
  try {
    // A moment after the move (UPDATE_SA_ADDRESSES at 18.3 s), and a filter: no IKE_SA_INIT.
    await seek(page, 21250);
    await page.click('#chart-ex-ike_sa_init');
    await page.click('#export');
    const panel = page.locator('#export-panel');
    assert.match(await panel.textContent(), /up to t = 21\.250s, as the chart's filters show it/);
    const args = JSON.parse(await page.locator('#export-command').getAttribute('data-args'));
    const base = 'Laptop roams from Wi-Fi to LTE behind a carrier NAT';
    assert.deepEqual(args.slice(0, 6), ['export', `${base}.toml`, '--until', '21250ms', '--hide', 'ike_sa_init']);
    assert.match(await page.locator('#export-command').textContent(), /^mobike export 'Laptop roams/);

    const files = {};
    for (const id of ['toml', 'ascii', 'svg', 'mermaid', 'json', 'zip', 'png', 'topology-svg', 'topology-png']) {
      files[id] = await download(page, id, dir);
    }
    assert.equal(files.ascii.name, `${base}.txt`);
    assert.equal(files.zip.name, `${base}.zip`);
    const ascii = files.ascii.bytes.toString('utf8');
    assert.match(ascii, /IKE_AUTH/);
    assert.doesNotMatch(ascii, /IKE_SA_INIT/, 'the chart filter carries over');
    const times = [...ascii.matchAll(/^ *(\d+\.\d{3})s /gm)].map((m) => Number(m[1]));
    assert.ok(times.length > 20 && Math.max(...times) <= 21.25, `nothing after the clock: ${Math.max(...times)}`);
    for (const line of ascii.split('\n')) assert.ok([...line].length <= 72, `72 columns: ${line}`);

    // The command, run on the downloaded scenario, writes the same bytes.
    await run('mkdir', ['-p', cliDir]);
    await run('cp', [files.toml.path, cliDir]);
    const [code, , stderr] = await mobike(cliDir, args);
    assert.equal(code, 0, stderr);
    for (const id of ['ascii', 'svg', 'mermaid', 'json', 'zip']) {
      const theirs = await readFile(join(cliDir, files[id].name));
      assert.ok(theirs.equals(files[id].bytes), `${files[id].name}: the page's download equals the CLI's export`);
    }

    // The capture with its keys: tshark decrypts the MOBIKE exchange.
    const unz = join(dir, 'unzipped');
    const [uz, , uzErr] = await run('python3', ['-m', 'zipfile', '-e', files.zip.path, unz]);
    assert.equal(uz, 0, uzErr);
    assert.deepEqual((await readdir(unz)).sort(), ['capture.pcap', 'esp_sa', 'ikev2_decryption_table', 'preferences']);
    const [ts, out, tsErr] = await run('tshark', ['-r', join(unz, 'capture.pcap'), '-V'], { env: { ...process.env, WIRESHARK_CONFIG_DIR: unz } });
    assert.equal(ts, 0, tsErr);
    assert.match(out, /UPDATE_SA_ADDRESSES/, 'the encrypted UPDATE_SA_ADDRESSES notify is decrypted');
    assert.match(out, /Internet Control Message Protocol/, 'and the ESP pings');

    // The PNGs: the drawings at twice their size.
    const svg = files.svg.bytes.toString('utf8');
    const [w, h] = [Number(svg.match(/ width="([\d.]+)"/)[1]), Number(svg.match(/ height="([\d.]+)"/)[1])];
    assert.deepEqual(pngSize(files.png.bytes), [Math.round(w * 2), Math.round(h * 2)]);
    const topo = files['topology-svg'].bytes.toString('utf8');
    assert.match(topo, /^<\?xml[^]*<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(topo, /style="[^"]*fill:/, 'the page\'s styles are written into the drawing');
    for (const label of ['Laptop', 'VPN gateway', 'Internet']) assert.ok(topo.includes(label), label);
    const [tw, th] = pngSize(files['topology-png'].bytes);
    const box = topo.match(/viewBox="0 0 ([\d.]+) ([\d.]+)"/);
    assert.deepEqual([tw, th], [Math.round(box[1] * 2), Math.round(box[2] * 2)]);

    // Copy: the same ASCII chart on the clipboard.
    await page.click('#export-copy-ascii');
    await page.waitForFunction(() => document.querySelector('#export-copy-ascii').textContent.startsWith('Copied'));
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), ascii);

    // Another host to capture at: the command says so, and the bytes follow.
    await page.selectOption('#export-capture-at', 'laptop');
    const args2 = JSON.parse(await page.locator('#export-command').getAttribute('data-args'));
    assert.deepEqual(args2.slice(-2), ['--capture-at', 'laptop']);
    const zip2 = await download(page, 'zip', join(dir, 'laptop'));
    assert.ok(!zip2.bytes.equals(files.zip.bytes), 'a capture at the laptop is another capture');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    // EXPORT_KEEP=DIR keeps the downloads there, to look at.
    if (process.env.EXPORT_KEEP) await run('cp', ['-r', dir, process.env.EXPORT_KEEP]);
    await rm(dir, { recursive: true, force: true });
  }
});

test('Escape closes the Export menu and the page goes on', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await page.click('#export');
  assert.equal(await page.locator('#export-panel').count(), 1);
  await page.locator('#export-ascii').focus();
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#export-panel').count(), 0);
  await page.click('#step');
  assert.deepEqual(errors, []);
  await page.close();
});
