// The simulation's Web Worker: the page's own wasm, loaded a second time
// here, runs the scenario (src/engine). The page posts a command as bytes;
// each is answered, in order, with the run's changes as bytes. Commands
// that come while the wasm is still loading wait for it.
import init, { engine_message, engine_more, engine_next, engine_run_ahead } from './mobike-playground.js';

const waiting = [];
let ready = false;

function post(reply) {
  self.postMessage(reply, [reply.buffer]);
}

// A jump forward into a stretch never run goes in slices: each slice's
// events go to the page as they are computed, the reply to the command
// last. One slice a task, so a command the page sends meanwhile is read
// between two (another jump ends this one where it has come; anything
// else waits for it). The page says "took" for each reply it has taken
// in, and at most two slices are on their way: the page, which takes a
// slice in about as long as it takes to compute, never falls behind, and
// a jump it sends is read at once.
const slices = new MessageChannel();
const MAX_ON_WAY = 2;
let onWay = 0;
let scheduled = false;
function more() {
  if (!scheduled && onWay < MAX_ON_WAY && engine_more()) {
    scheduled = true;
    slices.port2.postMessage(null);
  }
}
slices.port1.onmessage = () => {
  scheduled = false;
  if (onWay < MAX_ON_WAY && engine_more()) {
    onWay += 1;
    post(engine_next());
  }
  more();
  idle();
};

// Idle time: while the page is paused, the first tick of playing is run
// ahead on a copy of the world (RunAhead in src/engine), one short slice a
// task, so a command that comes meanwhile waits for one slice at most.
// engine_run_ahead says when to go on: at once (0), after a wait (the
// user's last jump or click is recent: dragging the time slider or
// clicking on finds the worker free), or not (-1).
const ahead = new MessageChannel();
let aheadScheduled = false;
let wait = null;
function idle() {
  clearTimeout(wait);
  wait = null;
  if (!aheadScheduled) {
    aheadScheduled = true;
    ahead.port2.postMessage(null);
  }
}
ahead.port1.onmessage = () => {
  aheadScheduled = false;
  const next = engine_run_ahead();
  if (next === 0) idle();
  else if (next > 0) wait = setTimeout(idle, next);
  // Done: the page's preview of it, if asked for, goes now.
  else more();
};

function answer(data) {
  const reply = engine_message(new Uint8Array(data));
  if (reply) post(reply);
  more();
  idle();
}

self.onmessage = (e) => {
  if (e.data === 'took') {
    onWay = Math.max(0, onWay - 1);
    if (ready) more();
    return;
  }
  if (ready) answer(e.data);
  else waiting.push(e.data);
};

await init({ module_or_path: new URL('./mobike-playground_bg.wasm', import.meta.url) });
ready = true;
for (const data of waiting.splice(0)) answer(data);
