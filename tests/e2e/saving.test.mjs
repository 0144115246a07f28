// Work is never lost: "Save scenario" downloads a file that "Open file…"
// and the command-line tool read back as the same run, a file opened gives
// a share link that opens it again, and autosave offers the work back after
// a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBrowser, open, clock, playUntil } from './helpers.mjs';

const env = useBrowser();

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const established = () => document.querySelector('#state-laptop tr[data-key="state"] td')?.textContent.startsWith('Established');
const chartRows = (page) => page.locator('#chart g.msg').allTextContents();

async function seek(page, ms) {
  await page.locator('#scrubber').fill(String(ms));
  await page.waitForFunction((us) => Number(document.querySelector('#clock').dataset.us) === us, ms * 1000);
}

/// Runs the command-line tool on a file: [exit code, stdout, stderr].
function cli(...args) {
  return new Promise((ok) => {
    execFile('cargo', ['run', '-q', '-p', 'mobike-cli', '--', ...args], { cwd: ROOT, timeout: 30 * 60 * 1000 },
      (err, stdout, stderr) => ok([err ? err.code : 0, stdout, stderr]));
  });
}

test('Save scenario downloads the run with its interventions; Open file… and the CLI read it back as the same run', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await playUntil(page, 1, established);
  await page.click('#link-wifi .hit');
  await page.click('#menu-break');
  await seek(page, 25000);
  const rows = await chartRows(page);
  assert.ok(rows.length > 10);
  const byYou = /break link Wi-Fi \(by you\)/;
  assert.match(await page.locator('#chart').textContent(), byYou, 'the intervention is in the chart');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
  assert.equal(download.suggestedFilename(), 'Laptop roams from Wi-Fi to LTE behind a carrier NAT.toml');
  const text = await readFile(await download.path(), 'utf8');
  assert.match(text, /user = true/, 'the intervention is a timeline event marked as the user\'s');
  assert.match(text, /^break_link = "wifi"$/m);

  // Opened on a fresh page, the file runs as the run that saved it.
  const { page: other, errors: otherErrors } = await open(env.browser, env.server.url);
  await other.setInputFiles('#open-file', { name: 'saved.toml', mimeType: 'text/plain', buffer: Buffer.from(text) });
  await other.waitForFunction(() => document.querySelector('#scenario option:checked').textContent.startsWith('(from file)'));
  assert.equal(await other.locator('#error-panel').count(), 0);
  await seek(other, 25000);
  assert.deepEqual(await chartRows(other), rows);
  assert.match(await other.locator('#chart').textContent(), byYou, 'still the user\'s intervention');

  // Its share link carries the file and opens it again.
  await other.click('#share');
  const link = await other.locator('#share-link').inputValue();
  assert.match(link, /#v=1&scn=[A-Za-z0-9_-]+&/);
  const { page: shared, errors: sharedErrors } = await open(env.browser, link);
  assert.equal(await shared.locator('#scenario option:checked').textContent(), '(from file) Laptop roams from Wi-Fi to LTE behind a carrier NAT');
  await seek(shared, 25000);
  assert.deepEqual(await chartRows(shared), rows);

  // The command-line tool reads the very file.
  const dir = await mkdtemp(join(tmpdir(), 'saved-'));
  try {
    const file = join(dir, 'saved.toml');
    await writeFile(file, text);
    const [code, stdout, stderr] = await cli('check', file);
    assert.ok(code === 0 || code === 1, `the CLI read the file (exit ${code}): ${stderr}`);
    assert.match(stdout, /saved\.toml: \d+ of \d+ expectations hold/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual([...errors, ...otherErrors, ...sharedErrors], []);
  await Promise.all([page.close(), other.close(), shared.close()]);
});

test('autosave: after a reload the page offers the work back, and Restore brings the run with the intervention', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  assert.equal(await page.locator('#restore-banner').count(), 0, 'nothing saved yet');
  await playUntil(page, 1, established);
  await page.click('#link-wifi .hit');
  await page.click('#menu-break');
  const at = await clock(page);
  // Autosave writes within a second of a change.
  await page.waitForFunction(() => localStorage.getItem('mobike-playground/autosave')?.includes('user = true'));
  await page.reload();
  await page.waitForSelector('#restore-banner');
  assert.match(await page.locator('#restore-text').textContent(),
    /^Restore your unsaved work from \d\d:\d\d\? “Laptop roams from Wi-Fi to LTE behind a carrier NAT”, with 1 intervention of yours\.$/);
  assert.equal(await clock(page), 0, 'the page starts fresh until asked');
  await page.click('#restore');
  await page.waitForSelector('#restore-banner', { state: 'detached' });
  assert.equal(await clock(page), at, 'back at the moment shown');
  assert.equal(await page.locator('#link-wifi').getAttribute('data-up'), 'false');
  assert.match(await page.locator('#chart').textContent(), /break link Wi-Fi \(by you\)/);
  await seek(page, 11500);
  assert.match(await page.locator('#state-laptop tr[data-key="path"] td').textContent(), /^10\.64\.0\.2:4500/,
    'the restored run moved to LTE long before the timeline\'s own break at 12 s');

  // Discard forgets it for good.
  await page.reload();
  await page.waitForSelector('#restore-banner');
  await page.click('#discard');
  await page.reload();
  await page.waitForSelector('#topology .host');
  await page.waitForTimeout(500);
  assert.equal(await page.locator('#restore-banner').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('autosave keeps the editor\'s unapplied changes too', async () => {
  const { page, errors } = await open(env.browser, env.server.url);
  await page.click('#edit');
  await page.click('#ed-tab-scenario');
  await page.locator('#ed-scenario-title').fill('My draft');
  await page.waitForFunction(() => localStorage.getItem('mobike-playground/autosave')?.includes('My draft'));
  await page.reload();
  await page.waitForSelector('#restore-banner');
  assert.match(await page.locator('#restore-text').textContent(), /the editor's unapplied changes/);
  await page.click('#restore');
  await page.waitForSelector('#editor');
  await page.click('#ed-tab-scenario');
  assert.equal(await page.locator('#ed-scenario-title').inputValue(), 'My draft');
  assert.deepEqual(errors, []);
  await page.close();
});
