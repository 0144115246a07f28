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
