//! The simulation as a service: an [`Engine`] owns a [`Session`] (the world,
//! its checkpoints, the user's log) and answers [`Command`]s with a
//! [`Reply`] that carries what changed: the trace's new events (or the cut
//! of a jump back), the moment, the hosts', links' and NATs' views, the
//! log. The page keeps a mirror of it ([`crate::live::Live`]) that the
//! panels read.
//!
//! In the browser the engine runs in a Web Worker (`static/engine.js`
//! loads this same wasm there and calls [`engine_message`]), so playing a
//! large scenario never holds up the page's input and drawing. A jump
//! forward into a stretch never run goes in slices of `SLICE_MS`, each
//! sent on as a partial reply ([`Reply::partial`]): the page takes one
//! slice's events in while the worker computes the next. Where no
//! worker can be started, and in the native tests, it runs in the page's
//! own thread through the very same messages ([`link`]).

pub mod codec;
pub mod link;

use crate::session::{Fork, Session, Source, TraceStamp};
use codec::{Codec, codec_enum, codec_json, codec_struct};
use mobike_protocol::Time;
use mobike_sim::{HostView, Intervention, LinkView, NatView, Scenario, TraceEvent, World};

codec_json!(Intervention);

/// What the page asks of the engine; each is one of [`Session`]'s buttons.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Starts this run (replacing any other): the scenario as a file
    /// ([`Scenario::to_toml`], which reads back as the same value), where
    /// it came from, the user's interventions to replay.
    Load {
        scenario: String,
        source: Source,
        log: Vec<(Time, Intervention)>,
    },
    /// Runs `dt` of virtual time, stopping once `budget_ms` of wall time is
    /// spent (0: no budget), see [`Session::advance_within`].
    Advance {
        dt: Time,
        budget_ms: f64,
    },
    /// Runs to the moment `to` (not back), as [`Command::Advance`]: a tick
    /// of playing, which names where playing has got to, so one whose
    /// budget ran out leaves the rest to the next.
    RunTo {
        to: Time,
        budget_ms: f64,
    },
    /// [`Session::advance_to_step`] (lesson mode).
    AdvanceToStep {
        dt: Time,
    },
    Step,
    Seek {
        t: Time,
    },
    ToggleLink {
        link: String,
    },
    /// A NAT box dropped on `link` (`None`: off every path).
    PlaceNat {
        nat: String,
        link: Option<String>,
    },
    /// An intervention from an element menu, checked first
    /// ([`Session::intervene`]).
    Intervene {
        action: Intervention,
    },
    ShowStep {
        k: usize,
    },
    /// Nothing: the reply tells the run's state.
    Sync,
    /// The page is paused at the moment shown, and its first tick of
    /// playing will run to `to` at least: the worker runs a copy of the
    /// world there in its idle time ([`Engine::run_ahead`]), and that tick
    /// takes the copy's run instead of computing it then. Nothing shows of
    /// it before: the copy is not the run until the tick adopts it.
    RunAhead {
        to: Time,
    },
    /// The events of the run made ahead ([`Command::RunAhead`]), once it
    /// reaches where the first tick goes (or as far as it got when another
    /// command comes first), as a reply whose outcome is
    /// [`Outcome::Ahead`]: the page builds their chart rows and figures in
    /// its idle time, aside, and the tick that takes that run sends none
    /// of them again ([`Reply::resume`]).
    Preview,
    /// [`Session::rewind`]: back to the moment a pause was clicked at,
    /// once the ticks then on their way are in.
    Rewind {
        t: Time,
    },
}

codec_enum!(Command {
    Load { scenario, source, log },
    Advance { dt, budget_ms },
    RunTo { to, budget_ms },
    AdvanceToStep { dt },
    Step,
    Seek { t },
    ToggleLink { link },
    PlaceNat { nat, link },
    Intervene { action },
    ShowStep { k },
    Sync,
    Rewind { t },
    RunAhead { to },
    Preview,
});

codec_enum!(Source {
    Example(name),
    File(text),
    Capture(file),
});

codec_struct!(Fork {
    at,
    dropped_until,
    dropped
});

/// What came of a command besides the run's new state.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Done,
    /// An intervention was applied; viewing the past, it forked the
    /// timeline so.
    Fork(Option<Fork>),
    /// [`Command::AdvanceToStep`] stopped at a new narration step.
    Stopped(bool),
    /// An intervention the simulator's check refused, and why.
    Refused(String),
    /// The reply to [`Command::Preview`]: its events are the run made
    /// ahead, not the run (yet); the rest of it says nothing.
    Ahead,
}

codec_enum!(Outcome {
    Done,
    Fork(fork),
    Stopped(yes),
    Refused(why),
    Ahead,
});

/// The run's state after a command, as far as the page's mirror lacks it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The world was replaced (another run, a jump back): cut the mirror's
    /// trace to this length before adding `events`.
    pub cut: Option<usize>,
    /// A jump forward again: the mirror's trace is the one it had before
    /// its last cut, up to this length, before adding `events` (the engine
    /// sends it only where the mirror holds that much of this timeline).
    pub resume: Option<usize>,
    pub events: Vec<TraceEvent>,
    pub now: Time,
    pub horizon: Time,
    pub step_at: usize,
    pub steps_seen: usize,
    /// Each checkpoint's moment and trace length.
    pub checkpoints: Vec<(Time, usize)>,
    /// The user's interventions, when they changed.
    pub log: Option<Vec<(Time, Intervention)>>,
    pub host_count: usize,
    /// The hosts whose view changed, by index.
    pub hosts: Vec<(usize, HostView)>,
    /// The NATs' and the links' views, when they changed.
    pub nats: Option<Vec<NatView>>,
    pub links: Option<Vec<LinkView>>,
    pub outcome: Outcome,
    /// One of the replies a jump forward into a stretch never run sends
    /// as it goes: the trace's new events (and the checkpoints so far);
    /// the reply to the command itself comes last. The rest of its
    /// fields are as they were.
    pub partial: bool,
}

impl Reply {
    /// A reply that tells nothing of a run (there is none, or it is not
    /// the run's: a preview's events), with `outcome`.
    fn nothing(outcome: Outcome) -> Reply {
        Reply {
            cut: None,
            resume: None,
            events: Vec::new(),
            now: 0,
            horizon: 0,
            step_at: 0,
            steps_seen: 0,
            checkpoints: Vec::new(),
            log: None,
            host_count: 0,
            hosts: Vec::new(),
            nats: None,
            links: None,
            outcome,
            partial: false,
        }
    }
}

codec_struct!(Reply {
    cut,
    resume,
    events,
    now,
    horizon,
    step_at,
    steps_seen,
    checkpoints,
    log,
    host_count,
    hosts,
    nats,
    links,
    outcome,
    partial,
});

/// The simulation's side: a [`Session`] and what its mirror has been sent.
#[derive(Default)]
pub struct Engine {
    session: Option<Session>,
    /// The world and trace length the mirror holds (`None`: nothing yet).
    shipped: Option<(u64, usize)>,
    /// How long the trace is that the mirror keeps from before its last
    /// cut (of this timeline: it forgets it when the log changes), which a
    /// [`Reply::resume`] may take up.
    mirror_ahead: usize,
    log: Vec<(Time, Intervention)>,
    /// The views sent, in their message form.
    hosts: Vec<Vec<u8>>,
    nats: Vec<u8>,
    links: Vec<u8>,
    /// Whether a long jump forward goes in slices, each sent on as a
    /// partial reply (the worker's engine: the page takes each in while
    /// the next is computed).
    slices: bool,
    /// The moment a jump forward under way goes to.
    seeking: Option<Time>,
    /// Replies to send before anything else (see [`Engine::take_message`]).
    replies: std::collections::VecDeque<Vec<u8>>,
    /// Commands that came while a jump was under way, waiting for it.
    waiting: std::collections::VecDeque<Vec<u8>>,
    /// The copy of the world run ahead while the page is paused (see
    /// [`Command::RunAhead`]).
    run_ahead: Option<RunAhead>,
    /// When the last command came that the user's input sends in bursts
    /// (a jump, a step, an intervention: not a load, nor the word to run
    /// ahead), by the engine's clock: running ahead waits
    /// [`RUN_AHEAD_QUIET_MS`] after it.
    last_input: Option<f64>,
    /// A [`Command::Preview`] waits for the run made ahead to reach where
    /// the tick goes.
    preview_asked: bool,
    /// The world and trace length of the run made ahead that the page was
    /// sent a preview of: the tick that takes that run resumes the trace
    /// the page holds aside instead of receiving its events again. Any
    /// other command forgets it.
    previewed: Option<(u64, usize)>,
    /// The most events a preview carries (`None`: [`PREVIEW_MAX_EVENTS`]).
    preview_max: Option<usize>,
}

/// The most events a preview carries: the page builds their chart in one
/// task (about 5 µs an event), so a larger run made ahead (the first tick
/// of a thousand clients' key exchanges and more) is not previewed, and
/// the tick brings it as before.
const PREVIEW_MAX_EVENTS: usize = 20_000;

/// A copy of the session's world, run ahead of the moment shown in the
/// worker's idle time, for the first tick of playing to take.
struct RunAhead {
    /// The session's trace and moment the copy was made of: the copy
    /// stands for the session's run only while these are the same.
    base: (TraceStamp, Time),
    /// How far the page's first tick will run.
    to: Time,
    /// The copy (made at the first slice of idle time).
    world: Option<World>,
}

/// How long one slice of running ahead takes at most, in wall-clock
/// milliseconds: a command that comes meanwhile waits no longer.
const RUN_AHEAD_SLICE_MS: f64 = 5.0;

/// How long running ahead waits after a command of the user's input, so
/// that dragging the time slider or clicking on finds the worker free for
/// the next command (with 200 clients, jumps one right after another took
/// 54–82 ms against 44–53 ms when it ran at once).
const RUN_AHEAD_QUIET_MS: f64 = 50.0;

/// How long a slice of a jump forward runs before its events go to the
/// page, in wall-clock milliseconds.
const SLICE_MS: f64 = 25.0;

impl Engine {
    /// An engine running `session` as it stands (a capture's recorded run,
    /// or a run the page started here).
    pub fn with(mut session: Session) -> Engine {
        // The page builds the chart it shows from the trace.
        session.chart_for_steps_only();
        Engine {
            session: Some(session),
            ..Engine::default()
        }
    }

    /// The session it runs (tests).
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Previews of at most `n` events (tests).
    #[cfg(test)]
    pub fn with_preview_max(mut self, n: usize) -> Engine {
        self.preview_max = Some(n);
        self
    }

    /// Sends a long jump forward on in slices (see [`Engine::more`]).
    pub fn in_slices(mut self) -> Engine {
        self.slices = true;
        self
    }

    /// Whether there is more to send: a reply waiting, the next slice of
    /// a jump forward under way, or a command that waited for it
    /// ([`Engine::next_message`] gives it).
    pub fn more(&self) -> bool {
        self.seeking.is_some() || !self.replies.is_empty() || !self.waiting.is_empty()
    }

    /// A command in its message form, which may come while a jump forward
    /// is under way (the worker reads the page's commands between two of
    /// its slices): another jump, or another run, ends the one under way
    /// where it has come (the page, which sends one only then, has moved
    /// on); any other command waits until the jump is in. The reply to
    /// send now, if any; [`Engine::next_message`] gives the rest.
    pub fn take_message(
        &mut self,
        bytes: &[u8],
        clock: &dyn Fn() -> Option<f64>,
    ) -> Option<Vec<u8>> {
        // A preview still waiting goes first, as far as the run made ahead
        // got (the page reads the replies in the order it asked).
        if self.preview_asked {
            let preview = self.preview_reply();
            self.replies.push_back(preview);
        }
        let preview = matches!(
            codec::from_bytes::<Command>(bytes, &mut codec::Names::default()),
            Ok(Command::Preview)
        );
        if preview && !self.more() {
            if self.ahead_done() {
                return Some(self.preview_reply());
            }
            // Answered when the run made ahead is done (see
            // `Engine::run_ahead`).
            self.preview_asked = true;
            return None;
        }
        if self.seeking.is_none() && self.replies.is_empty() && self.waiting.is_empty() {
            return Some(self.handle_message(bytes, clock));
        }
        let moves_on = self.waiting.is_empty()
            && matches!(
                codec::from_bytes::<Command>(bytes, &mut codec::Names::default()),
                Ok(Command::Seek { .. } | Command::Load { .. })
            );
        if !moves_on {
            self.waiting.push_back(bytes.to_vec());
            return self.replies.pop_front();
        }
        if self.seeking.take().is_some() {
            let ended = codec::to_bytes(&self.reply(Outcome::Done));
            self.replies.push_back(ended);
        }
        let next = self.handle_message(bytes, clock);
        self.replies.push_back(next);
        self.replies.pop_front()
    }

    /// What there is more to send (see [`Engine::more`]): a reply that
    /// waited, the next slice of the jump forward under way (partial until
    /// the moment is reached), or the reply to a command that waited for
    /// the jump.
    pub fn next_message(&mut self, clock: &dyn Fn() -> Option<f64>) -> Vec<u8> {
        if let Some(reply) = self.replies.pop_front() {
            return reply;
        }
        if self.seeking.is_none()
            && let Some(cmd) = self.waiting.pop_front()
        {
            return self.handle_message(&cmd, clock);
        }
        let outcome = match (&mut self.session, self.seeking) {
            (Some(s), Some(t)) => {
                if seek_slice(s, t, clock) {
                    self.seeking = None;
                }
                Outcome::Done
            }
            _ => {
                self.seeking = None;
                Outcome::Done
            }
        };
        codec::to_bytes(&self.reply(outcome))
    }

    /// Runs the copy of [`Command::RunAhead`] on for one slice of idle
    /// time (the worker calls it while it has nothing else to do, and
    /// nothing is sent of it). It stops where the page's tick goes, and
    /// before the session's next checkpoint or logged intervention
    /// ([`Session::run_ahead_limit`]). Whether to call it again, and after
    /// how many milliseconds: `None` when there is nothing to run, a wait
    /// while the user's last command is recent ([`RUN_AHEAD_QUIET_MS`]).
    pub fn run_ahead(&mut self, clock: &dyn Fn() -> Option<f64>) -> Option<f64> {
        let next = self.run_ahead_slice(clock);
        // Done (or nothing to run): a preview asked for goes now.
        if next.is_none() && self.preview_asked {
            let preview = self.preview_reply();
            self.replies.push_back(preview);
        }
        next
    }

    /// Whether the run made ahead is as far as it goes: a preview of it
    /// is sent at once.
    fn ahead_done(&self) -> bool {
        let (Some(s), Some(r)) = (&self.session, &self.run_ahead) else {
            return true;
        };
        let Some(limit) = s.run_ahead_limit().map(|l| l.min(r.to)) else {
            return true;
        };
        let world = r.world.as_ref().unwrap_or(&s.world);
        r.base != (s.stamp(), s.now()) || world.next_event_time().is_none_or(|e| e > limit)
    }

    /// The reply to [`Command::Preview`]: the events the run made ahead
    /// has past the page's trace (none when there is no such run, or the
    /// page does not hold the session's whole trace).
    fn preview_reply(&mut self) -> Vec<u8> {
        self.preview_asked = false;
        let mut events = Vec::new();
        if let (Some(s), Some(r)) = (&self.session, &self.run_ahead)
            && let Some(w) = &r.world
            && r.base == (s.stamp(), s.now())
            && self.shipped == Some((s.stamp().world(), s.world.trace().len()))
        {
            let more = w.trace().len() - s.world.trace().len();
            if more > 0 && more <= self.preview_max.unwrap_or(PREVIEW_MAX_EVENTS) {
                events = w.trace().iter_from(s.world.trace().len()).collect();
                self.previewed = Some((s.stamp().world(), w.trace().len()));
            }
        }
        codec::to_bytes(&Reply {
            events,
            ..Reply::nothing(Outcome::Ahead)
        })
    }

    /// One slice of [`Engine::run_ahead`].
    fn run_ahead_slice(&mut self, clock: &dyn Fn() -> Option<f64>) -> Option<f64> {
        if self.more() {
            return None;
        }
        let (Some(s), Some(r)) = (&self.session, &mut self.run_ahead) else {
            return None;
        };
        let limit = s.run_ahead_limit().map(|l| l.min(r.to))?;
        if r.base != (s.stamp(), s.now()) {
            return None;
        }
        let start = clock();
        if let (Some(last), Some(now)) = (self.last_input, start)
            && now - last < RUN_AHEAD_QUIET_MS
        {
            return Some(last + RUN_AHEAD_QUIET_MS - now);
        }
        let world = match &mut r.world {
            Some(w) => w,
            None if s.world.next_event_time().is_some_and(|e| e <= limit) => {
                r.world.insert(s.world.clone())
            }
            None => return None,
        };
        let mut n = 0u32;
        while world.next_event_time().is_some_and(|e| e <= limit) {
            world.step();
            n += 1;
            if n.is_multiple_of(16)
                && matches!((start, clock()), (Some(t0), Some(t)) if t - t0 > RUN_AHEAD_SLICE_MS)
            {
                return Some(0.0);
            }
        }
        None
    }

    /// Carries out `cmd`; `clock` is the wall clock in milliseconds that
    /// budgets [`Command::Advance`] (`None`: no clock, nothing is paced).
    pub fn handle(&mut self, cmd: Command, clock: &dyn Fn() -> Option<f64>) -> Reply {
        if !matches!(
            cmd,
            Command::Load { .. } | Command::RunAhead { .. } | Command::Sync | Command::Preview
        ) {
            self.last_input = clock();
        }
        // Only the tick that takes the run made ahead resumes its preview.
        let previewed = self.previewed.take();
        let outcome = match cmd {
            Command::Load {
                scenario,
                source,
                log,
            } => {
                let (slices, preview_max) = (self.slices, self.preview_max);
                let outcome = match Scenario::from_toml(&scenario) {
                    Ok(scenario) => {
                        *self = Engine::with(Session::replay(scenario, source, log));
                        Outcome::Done
                    }
                    Err(e) => {
                        // No run: the page's mirror of the one before is gone.
                        *self = Engine::default();
                        Outcome::Refused(format!("the scenario could not be read: {e}"))
                    }
                };
                (self.slices, self.preview_max) = (slices, preview_max);
                outcome
            }
            cmd => match &mut self.session {
                Some(s) => {
                    // A jump still under way ends first. (This does not
                    // happen: a command that comes during one goes through
                    // `take_message`, which ends the jump or waits for it.
                    // Were it to, the run still ends where the jump went.)
                    if let Some(t) = self.seeking.take() {
                        s.seek(t);
                    }
                    match cmd {
                        Command::Sync | Command::Preview => Outcome::Done,
                        Command::RunAhead { to } => {
                            let base = (s.stamp(), s.now());
                            match &mut self.run_ahead {
                                // Another speed: the same copy runs on,
                                // or, past where the tick now goes, is
                                // made again.
                                Some(r) if r.base == base => {
                                    r.to = to;
                                    if r.world.as_ref().is_some_and(|w| w.now() > to) {
                                        r.world = None;
                                    }
                                }
                                r => {
                                    *r = Some(RunAhead {
                                        base,
                                        to,
                                        world: None,
                                    })
                                }
                            }
                            Outcome::Done
                        }
                        cmd => {
                            // Any command but the tick it was for leaves
                            // the copy behind; that tick takes it when the
                            // copy has not run past where the tick goes.
                            let ahead = self.run_ahead.take();
                            if let Command::RunTo { to, .. } = cmd
                                && let Some(RunAhead {
                                    base,
                                    world: Some(w),
                                    ..
                                }) = ahead
                                && base == (s.stamp(), s.now())
                                && w.now() <= to
                            {
                                s.adopt_run_ahead(w);
                                // The page holds its events aside.
                                self.previewed = previewed;
                            }
                            match cmd {
                                Command::Seek { t } if self.slices && clock().is_some() => {
                                    if !s.seek_start(t) && !seek_slice(s, t, clock) {
                                        self.seeking = Some(t);
                                    }
                                    Outcome::Done
                                }
                                cmd => run(s, cmd, clock),
                            }
                        }
                    }
                }
                None => Outcome::Done,
            },
        };
        self.reply(outcome)
    }

    /// A command in its message form, answered in the reply's (what the
    /// worker does with each message; the page's own thread and the tests'
    /// stand-in go the same way). A command that does not read is refused,
    /// and nothing changes.
    pub fn handle_message(&mut self, bytes: &[u8], clock: &dyn Fn() -> Option<f64>) -> Vec<u8> {
        let mut names = codec::Names::default();
        let reply = match codec::from_bytes::<Command>(bytes, &mut names) {
            // Behind other commands: as far as the run made ahead got.
            Ok(Command::Preview) => return self.preview_reply(),
            Ok(cmd) => self.handle(cmd, clock),
            Err(err) => self.reply(Outcome::Refused(format!(
                "the page's command could not be read: {err}"
            ))),
        };
        codec::to_bytes(&reply)
    }

    /// What the mirror lacks, and the outcome.
    fn reply(&mut self, outcome: Outcome) -> Reply {
        let Some(s) = &self.session else {
            return Reply::nothing(outcome);
        };
        let partial = self.seeking.is_some();
        let stamp = s.stamp();
        let trace = s.world.trace();
        let shipped = self.shipped.map_or(0, |(_, n)| n);
        // Of a new world's trace, the mirror has what this timeline ran
        // before: its own trace, and what it kept from before its cut.
        let known = s.kept().min(trace.len());
        let (cut, resume) = match self.shipped {
            None => (Some(0), None),
            Some((world, _)) if world != stamp.world() => {
                let resume = known.min(self.mirror_ahead);
                if resume > shipped {
                    (None, Some(resume))
                } else {
                    (Some(known.min(shipped)), None)
                }
            }
            Some((_, n)) if n > trace.len() => (Some(trace.len()), None),
            // The run made ahead, whose events the page holds aside.
            Some((world, n)) => match self.previewed.take() {
                Some((w, p)) if w == world && p.min(trace.len()) > n => {
                    (None, Some(p.min(trace.len())))
                }
                _ => (None, None),
            },
        };
        if let Some(c) = cut
            && c < shipped
        {
            self.mirror_ahead = self.mirror_ahead.max(shipped);
        }
        let from = resume.or(cut).unwrap_or(shipped);
        let events = trace.iter_from(from).collect();
        self.shipped = Some((stamp.world(), trace.len()));
        let log = (self.log.as_slice() != s.log()).then(|| {
            // Another timeline: the mirror forgets what it kept ahead.
            self.mirror_ahead = 0;
            self.log = s.log().to_vec();
            self.log.clone()
        });
        let mut hosts = Vec::new();
        let mut host_count = self.hosts.len();
        // A partial reply carries the events: the views come with the last.
        for (i, h) in s.world.hosts_where(|_| !partial).enumerate() {
            let bytes = codec::to_bytes(&h);
            host_count = i + 1;
            match self.hosts.get_mut(i) {
                Some(old) if *old == bytes => {}
                Some(old) => {
                    *old = bytes;
                    hosts.push((i, h));
                }
                None => {
                    self.hosts.push(bytes);
                    hosts.push((i, h));
                }
            }
        }
        self.hosts.truncate(host_count);
        let (nats, links) = if partial {
            (None, None)
        } else {
            (
                changed(&mut self.nats, s.world.nats()),
                changed(&mut self.links, s.world.links()),
            )
        };
        Reply {
            cut,
            resume,
            events,
            now: s.now(),
            horizon: s.horizon(),
            step_at: s.step_at(),
            steps_seen: s.steps_seen(),
            checkpoints: s.checkpoint_marks(),
            log,
            host_count,
            hosts,
            nats,
            links,
            outcome,
            partial,
        }
    }
}

/// One slice of a jump forward to `t`: whether `t` is reached.
fn seek_slice(s: &mut Session, t: Time, clock: &dyn Fn() -> Option<f64>) -> bool {
    let start = clock();
    let spent = || matches!((start, clock()), (Some(t0), Some(now)) if now - t0 > SLICE_MS);
    s.seek_on(t, &spent)
}

/// `now` when its message form differs from `sent` (which becomes it).
fn changed<T: Codec>(sent: &mut Vec<u8>, now: T) -> Option<T> {
    let bytes = codec::to_bytes(&now);
    (*sent != bytes).then(|| {
        *sent = bytes;
        now
    })
}

/// One command on a running session.
fn run(s: &mut Session, cmd: Command, clock: &dyn Fn() -> Option<f64>) -> Outcome {
    match cmd {
        Command::Load { .. } => Outcome::Done,
        Command::Advance { dt, budget_ms } => {
            let start = clock();
            let spent = || matches!((start, clock()), (Some(t0), Some(t)) if budget_ms > 0.0 && t - t0 > budget_ms);
            s.advance_within(dt, &spent);
            Outcome::Done
        }
        Command::RunTo { to, budget_ms } => {
            let dt = to.saturating_sub(s.now());
            run(s, Command::Advance { dt, budget_ms }, clock)
        }
        Command::AdvanceToStep { dt } => Outcome::Stopped(s.advance_to_step(dt)),
        Command::Step => {
            s.step();
            Outcome::Done
        }
        Command::Seek { t } => {
            s.seek(t);
            Outcome::Done
        }
        Command::ToggleLink { link } => Outcome::Fork(s.toggle_link(&link)),
        Command::PlaceNat { nat, link } => Outcome::Fork(s.place_nat(&nat, link)),
        Command::Intervene { action } => match s.intervene(action) {
            Ok(fork) => Outcome::Fork(fork),
            Err(e) => Outcome::Refused(e.to_string()),
        },
        Command::ShowStep { k } => {
            s.show_step(k);
            Outcome::Done
        }
        Command::Sync | Command::RunAhead { .. } | Command::Preview => Outcome::Done,
        Command::Rewind { t } => {
            s.rewind(t);
            Outcome::Done
        }
    }
}

#[cfg(target_arch = "wasm32")]
thread_local! {
    static WORKER_ENGINE: std::cell::RefCell<Engine> =
        std::cell::RefCell::new(Engine::default().in_slices());
}

/// The worker's entry (`static/engine.js`): one command in, its reply out
/// (if one goes now), both as [`codec`] messages (see
/// [`Engine::take_message`]). A message that does not read is answered
/// with nothing changed and the reason as a refusal. While
/// [`engine_more`] says so, [`engine_next`] gives the next reply.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn engine_message(bytes: &[u8]) -> Option<Vec<u8>> {
    WORKER_ENGINE.with(|e| {
        e.borrow_mut()
            .take_message(bytes, &crate::browser::clock_ms)
    })
}

/// One slice of running ahead in the worker's idle time (see
/// [`Engine::run_ahead`]): in how many milliseconds to call it again (0:
/// at once), or -1 when there is nothing more to run.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn engine_run_ahead() -> f64 {
    WORKER_ENGINE.with(|e| {
        e.borrow_mut()
            .run_ahead(&crate::browser::clock_ms)
            .unwrap_or(-1.0)
    })
}

/// Whether there is more to send (see [`Engine::more`]).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn engine_more() -> bool {
    WORKER_ENGINE.with(|e| e.borrow().more())
}

/// The next reply: a slice of the jump forward under way, or what waited.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn engine_next() -> Vec<u8> {
    WORKER_ENGINE.with(|e| e.borrow_mut().next_message(&crate::browser::clock_ms))
}
