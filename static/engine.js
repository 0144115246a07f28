// The simulation's Web Worker: the page's own wasm, loaded a second time
// here, runs the scenario (src/engine). The page posts a command as bytes;
// each is answered, in order, with the run's changes as bytes. Commands
// that come while the wasm is still loading wait for it.
import init, { engine_message } from './mobike-playground.js';

const waiting = [];
let ready = false;

function answer(data) {
  const reply = engine_message(new Uint8Array(data));
  self.postMessage(reply, [reply.buffer]);
}

self.onmessage = (e) => {
  if (ready) answer(e.data);
  else waiting.push(e.data);
};

await init({ module_or_path: new URL('./mobike-playground_bg.wasm', import.meta.url) });
ready = true;
for (const data of waiting.splice(0)) answer(data);
