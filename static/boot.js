// Loads the page's wasm. A file of its own rather than the inline script
// Trunk would write, so the Content-Security-Policy in index.html allows
// scripts from the page's own files only. Paths are relative to this
// file, so the page also works from a sub-path of a static host.
import init from './mobike-playground.js';

await init({ module_or_path: new URL('./mobike-playground_bg.wasm', import.meta.url) });
