// The simulation's Web Worker: the page's own wasm, loaded a second time
// here, runs the scenario (src/engine). The page posts a command as bytes;
// each is answered, in order, with the run's changes as bytes. Commands
// that come while the wasm is still loading wait for it.
import init, { engine_message, engine_more, engine_next } from './mobike-playground.js';

const waiting = [];
let ready = false;

// A jump forward into a stretch never run goes in slices: each slice's
// events go to the page as they are computed, the reply to the command last.
function answer(data) {
  const reply = engine_message(new Uint8Array(data));
  self.postMessage(reply, [reply.buffer]);
  while (engine_more()) {
    const next = engine_next();
    self.postMessage(next, [next.buffer]);
  }
}

self.onmessage = (e) => {
  if (ready) answer(e.data);
  else waiting.push(e.data);
};

await init({ module_or_path: new URL('./mobike-playground_bg.wasm', import.meta.url) });
ready = true;
for (const data of waiting.splice(0)) answer(data);
