//! How the page reaches its engine: a Web Worker (the browser), or an
//! [`Engine`] in the page's own thread (no worker could be started, a
//! recorded capture, the native tests). Either way a command and its reply
//! go as [`super::codec`] messages, so the mirror reads the same bytes.

use super::{Command, Engine, codec};

/// The page's end of the engine.
#[derive(Default)]
pub struct Link {
    /// The engine in this thread, when the run is here.
    local: Option<Engine>,
    #[cfg(target_arch = "wasm32")]
    worker: Option<web_sys::Worker>,
    /// Tests: an engine that stands in for a worker (its replies wait in
    /// an outbox until the test hands them to the page).
    #[cfg(test)]
    pub(crate) fake: Option<FakeWorker>,
}

/// An engine answering later, as a worker does, on a clock that moves
/// `step_ms` each time it is read (so a tick's budget can run out).
#[cfg(test)]
pub(crate) struct FakeWorker {
    engine: Engine,
    step_ms: f64,
    clock: std::cell::Cell<f64>,
    pub(crate) outbox: Vec<Vec<u8>>,
    /// Holds a jump's slices until the test asks for them
    /// ([`FakeWorker::next`]), so commands can come between two.
    pub(crate) held: bool,
    /// Whether the page asks it to run ahead while paused (as it asks a
    /// worker): off unless a test turns it on, so the others see only the
    /// replies they ask for.
    pub(crate) runs_ahead: bool,
}

#[cfg(test)]
impl FakeWorker {
    pub(crate) fn new(step_ms: f64) -> FakeWorker {
        FakeWorker {
            engine: Engine::default().in_slices(),
            step_ms,
            clock: std::cell::Cell::new(0.0),
            outbox: Vec::new(),
            held: false,
            runs_ahead: false,
        }
    }

    /// Its clock: `step_ms` on each time it is read.
    fn read_clock(clock: &std::cell::Cell<f64>, step_ms: f64) -> Option<f64> {
        clock.set(clock.get() + step_ms);
        Some(clock.get())
    }

    /// As `engine.js` does between two commands: the next reply (a slice
    /// of a jump, or what waited), if there is one.
    pub(crate) fn next(&mut self) -> bool {
        if !self.engine.more() {
            return false;
        }
        let (clock, step) = (&self.clock, self.step_ms);
        let next = self
            .engine
            .next_message(&|| FakeWorker::read_clock(clock, step));
        self.outbox.push(next);
        true
    }

    /// As `engine.js` does in its idle time: runs ahead (see
    /// [`Engine::run_ahead`]) until there is no more to run, its clock
    /// moved on over each wait.
    pub(crate) fn idle(&mut self) {
        loop {
            let (clock, step) = (&self.clock, self.step_ms);
            match self
                .engine
                .run_ahead(&|| FakeWorker::read_clock(clock, step))
            {
                Some(wait) => self.clock.set(self.clock.get() + wait),
                None => break,
            }
        }
        // As `engine.js` does when running ahead is done: a preview asked
        // for goes.
        while !self.held && self.next() {}
    }

    /// The engine (tests).
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// What sending a command gave: the reply at once (in this thread), or
/// later, as a message from the worker.
pub enum Sent {
    Now(Vec<u8>),
    Later,
}

impl Link {
    /// A link to a new Web Worker where the browser has one and the page
    /// was not opened with `?engine=page`; else to an engine in this thread.
    pub fn start() -> Link {
        Link {
            local: None,
            #[cfg(target_arch = "wasm32")]
            worker: start_worker(),
            #[cfg(test)]
            fake: None,
        }
    }

    /// The worker, for the page to listen to its replies.
    #[cfg(target_arch = "wasm32")]
    pub fn worker(&self) -> Option<web_sys::Worker> {
        self.worker.clone()
    }

    /// Whether runs go to a worker.
    pub fn has_worker(&self) -> bool {
        #[cfg(test)]
        if self.fake.is_some() {
            return true;
        }
        #[cfg(target_arch = "wasm32")]
        {
            self.worker.is_some()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            false
        }
    }

    /// The worker stopped (it failed): runs go to this thread from now on.
    pub fn lose_worker(&mut self) {
        #[cfg(target_arch = "wasm32")]
        if let Some(w) = self.worker.take() {
            w.terminate();
        }
    }

    /// Runs go to an engine in this thread, starting with `engine`.
    pub fn run_here(&mut self, engine: Engine) {
        self.local = Some(engine);
    }

    /// A new run is loaded: into the worker if there is one, else into a
    /// new engine in this thread.
    pub fn run_anew(&mut self) {
        self.local = None;
    }

    /// Whether the engine has idle time to run ahead in while the page is
    /// paused ([`super::Command::RunAhead`]): a worker's.
    pub fn runs_ahead(&self) -> bool {
        #[cfg(test)]
        if let Some(f) = &self.fake {
            return f.runs_ahead && self.local.is_none();
        }
        !self.is_local()
    }

    /// Whether the run is in this thread.
    pub fn is_local(&self) -> bool {
        self.local.is_some() || !self.has_worker()
    }

    /// Sends `cmd` to wherever the run is.
    pub fn send(&mut self, cmd: &Command) -> Sent {
        #[cfg(test)]
        if let Some(f) = &mut self.fake
            && self.local.is_none()
        {
            let (clock, step) = (&f.clock, f.step_ms);
            let clock = || FakeWorker::read_clock(clock, step);
            if let Some(reply) = f.engine.take_message(&codec::to_bytes(cmd), &clock) {
                f.outbox.push(reply);
            }
            // As `engine.js` does: a jump's slices follow (unless held).
            while !f.held && f.next() {}
            return Sent::Later;
        }
        if self.local.is_none() {
            #[cfg(target_arch = "wasm32")]
            if let Some(w) = &self.worker {
                let bytes = codec::to_bytes(cmd);
                let array = web_sys::js_sys::Uint8Array::from(bytes.as_slice());
                if w.post_message(&array).is_ok() {
                    return Sent::Later;
                }
            }
            self.local = Some(Engine::default());
        }
        let engine = self.local.as_mut().expect("an engine in this thread");
        // Through the message form, as the worker's commands go.
        Sent::Now(engine.handle_message(&codec::to_bytes(cmd), &crate::browser::clock_ms))
    }
}

/// A worker running `engine.js` beside the page, unless the page says
/// `?engine=page` or the browser refuses.
#[cfg(target_arch = "wasm32")]
fn start_worker() -> Option<web_sys::Worker> {
    let w = web_sys::window()?;
    if w.location()
        .search()
        .is_ok_and(|s| s.contains("engine=page"))
    {
        return None;
    }
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    web_sys::Worker::new_with_options("engine.js", &opts).ok()
}
