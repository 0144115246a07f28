// The page's address with a share link that carries
// examples/cluster-20-mobike.toml with `clients` clients (the benchmarks'
// larger cluster); the address as it is when `clients` is 0.
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';

export function clusterUrl(url, clients) {
  if (!(clients > 0)) return url;
  const text = readFileSync(new URL('../examples/cluster-20-mobike.toml', import.meta.url), 'utf8')
    .replace(/^count = 20$/m, `count = ${clients}`);
  const scn = deflateRawSync(Buffer.from(text), { level: 9 }).toString('base64url');
  return `${url.replace(/#.*$/, '')}#v=1&scn=${scn}`;
}

// The tools' common start: the command line's URL, `--clients N`,
// `--ms WALL` (default `ms`) and `--wait MS` (default 0: how long after
// the page is ready the tool presses Play, as a user who reads the page
// first; the worker runs the first tick ahead meanwhile) read off `args`
// (the rest stay in it), and a headless Chromium page on that address,
// drawn, at 64x.
export async function openAt64(args, ms) {
  const { chromium } = await import('playwright-core');
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? Number(args.splice(i, 2)[1]) : dflt; };
  const clients = opt('--clients', 0);
  const wallMs = opt('--ms', ms);
  const waitMs = opt('--wait', 0);
  const url = clusterUrl(args[0] ?? 'http://127.0.0.1:8099/', clients);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(url);
  await page.waitForSelector('#topology .host');
  await page.selectOption('#speed', '64');
  return { browser, page, wallMs, waitMs };
}
