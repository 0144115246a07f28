//! The page's run: a mirror of the [`Session`] that its engine runs (in a
//! Web Worker, see [`crate::engine`]). It holds what the panels read, kept
//! up to date from the engine's replies: the trace (cut back on a jump,
//! added to as the run goes), the hosts', links' and NATs' views, the log
//! and the moment, and builds the chart from the trace itself, keeping the
//! chart of each checkpoint's moment so a jump back rebuilds little.
//!
//! Every change to the run is a [`Command`]; its reply comes back at once
//! when the engine is in this thread, or later as a message from the
//! worker ([`Live::receive`]). Commands are answered in the order sent;
//! each waits in `pending` with what the page is to do with its outcome.

use crate::engine::codec::{self, Names};
use crate::engine::link::{Link, Sent};
use crate::engine::{Command, Engine, Outcome, Reply};
use crate::session::{Session, Shown, Stage, TraceStamp, new_world_id};
use crate::timeline::MAX_CHART_ROWS;
use mobike_protocol::Time;
use mobike_render::metrics::MetricsBuilder;
use mobike_render::{Chart, ChartBuilder, msc};
use mobike_sim::{HostView, Intervention, LinkView, NatView, Scenario, Trace, WorldRead};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

/// A checkpoint's chart and traffic figures, by the trace length they were
/// built to.
type Snap = (usize, ChartBuilder, Option<MetricsBuilder>);

/// The chart of a run not begun, and its traffic figures when the
/// scenario pings.
fn built_anew(scenario: &Scenario) -> (ChartBuilder, Option<MetricsBuilder>) {
    (
        ChartBuilder::new(scenario),
        scenario.ping.is_some().then(MetricsBuilder::default),
    )
}

/// The world as its engine last reported it.
#[derive(Default)]
pub struct Mirror {
    trace: Trace,
    now: Time,
    hosts: Vec<HostView>,
    nats: Vec<NatView>,
    links: Vec<LinkView>,
}

impl Mirror {
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
    pub fn hosts(&self) -> &[HostView] {
        &self.hosts
    }
    /// The views of the hosts whose id passes `keep`.
    pub fn hosts_where<'a>(
        &'a self,
        keep: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = HostView> + 'a {
        self.hosts.iter().filter(move |h| keep(&h.id)).cloned()
    }
    pub fn nats(&self) -> &[NatView] {
        &self.nats
    }
    pub fn links(&self) -> &[LinkView] {
        &self.links
    }
}

/// The mirror lends its views: a panel that reads them copies nothing.
impl WorldRead for Mirror {
    fn hosts(&self) -> Cow<'_, [HostView]> {
        Cow::Borrowed(&self.hosts)
    }
    fn links(&self) -> Cow<'_, [LinkView]> {
        Cow::Borrowed(&self.links)
    }
    fn nats(&self) -> Cow<'_, [NatView]> {
        Cow::Borrowed(&self.nats)
    }
}

/// What the page does with a command's outcome once its reply is in.
#[derive(Clone, Debug, PartialEq)]
pub enum Pending {
    /// Nothing more than showing the run's new state.
    Quiet,
    /// A tick of playing from `before` to `target`: the page stops at the
    /// scenario's end `until`, or at a new narration step (lesson mode);
    /// what a spent budget left of it goes into the next tick.
    Tick {
        before: Time,
        target: Time,
        until: Time,
    },
    /// An intervention that may fork the timeline (a notice says so).
    Fork,
    /// An intervention from an element menu (`form` names the menu's
    /// form for an error); a NAT put on a link is drawn on it.
    Intervene {
        form: String,
        nat_on: Option<(String, String)>,
    },
    /// A jump to `t` (the slider, the keys): while one is on its way,
    /// the page holds the next the user asks for (see `Model`).
    Seek { t: Time },
    /// Sent before another run was loaded: its reply is dropped.
    Stale,
    /// [`Command::Preview`]: its events go aside (see [`Live::stage`]).
    /// The page waits for nothing of it: it counts neither as in flight
    /// nor as busy.
    Preview,
}

/// A command's reply, applied to the mirror: what the page is to do now.
#[derive(Clone, Debug, PartialEq)]
pub struct Settled {
    pub pending: Pending,
    pub outcome: Outcome,
    /// Whether the run's state changed (a refused intervention, say,
    /// changes nothing).
    pub changed: bool,
}

/// The page's run (see the module's text).
pub struct Live {
    stage: Stage,
    pub world: Mirror,
    world_id: u64,
    chart: ChartBuilder,
    /// The traffic panel's figures, built from the trace as the chart is
    /// (when the scenario pings).
    metrics: Option<MetricsBuilder>,
    /// Charts (and figures) of the checkpoints' moments, by trace length.
    snaps: Vec<Snap>,
    /// The chart's drawings of its rows, kept from one layout to the next
    /// (the chart panel lays out with it; see [`Live::chart_layout`]).
    chart_layout: Rc<RefCell<msc::LayoutCache>>,
    /// After a jump back, the charts of the checkpoints past the cut, kept
    /// while the timeline stays (no intervention changes the log): a jump
    /// forward again replays the same run, and takes them back instead of
    /// building their rows again.
    ahead: Vec<Snap>,
    /// After a jump back, the trace as far as it had come, kept on the
    /// same terms: a jump forward again takes it up ([`Reply::resume`])
    /// instead of the engine sending its events over again. It shares its
    /// full chunks with the trace.
    ahead_trace: Option<Trace>,
    /// After a cut: the trace length of the chart left (kept in `ahead`)
    /// and the length the two traces share, so the rows built again take
    /// what that chart has of them, their drawings' stamps and decoded
    /// messages (see [`ChartBuilder::update_to_like`]).
    donor: Option<(usize, usize)>,
    /// While a long jump forward comes in slices: the moment the last
    /// slice reached (the page shows it as the jump's progress).
    computed_to: Option<Time>,
    /// Charts taken back from `ahead` (tests).
    #[cfg(test)]
    taken_back: usize,
    log: Vec<(Time, Intervention)>,
    horizon: Time,
    step_at: usize,
    steps_seen: usize,
    checkpoints: Vec<(Time, usize)>,
    names: Names,
    link: Link,
    pending: VecDeque<Pending>,
    /// The last [`Command::RunAhead`] sent: the mirror's world, trace
    /// length and moment then, and where the copy was to run.
    run_ahead_asked: Option<(u64, usize, Time, Time)>,
}

impl Deref for Live {
    type Target = Stage;
    fn deref(&self) -> &Stage {
        &self.stage
    }
}

impl DerefMut for Live {
    fn deref_mut(&mut self) -> &mut Stage {
        &mut self.stage
    }
}

impl Shown for Live {
    fn now(&self) -> Time {
        self.world.now
    }
    fn log(&self) -> &[(Time, Intervention)] {
        &self.log
    }
    fn chart(&self) -> &Chart {
        &self.chart.chart
    }
    fn trace(&self) -> &Trace {
        &self.world.trace
    }
    fn world_read(&self) -> &dyn WorldRead {
        &self.world
    }
}

impl Live {
    /// The page's run of `session` (not yet run: `at` is the moment to
    /// show), on an engine in a Web Worker where the browser has one.
    pub fn start(session: Session, at: Time) -> Live {
        let mut live = Live::empty(session.deref().clone(), Link::start());
        live.open(session, at);
        live
    }

    /// `session` shown at `at`, on an engine in this thread (tests).
    pub fn here(session: Session, at: Time) -> Live {
        let mut live = Live::empty(session.deref().clone(), Link::default());
        live.open(session, at);
        live
    }

    /// `session` shown at `at`, on an engine that answers later as a
    /// worker does (tests: [`Live::outbox`] holds its replies), on a clock
    /// that moves `step_ms` each time the engine reads it.
    #[cfg(test)]
    pub fn with_fake_worker(session: Session, at: Time, step_ms: f64) -> Live {
        let mut link = Link::default();
        link.fake = Some(crate::engine::link::FakeWorker::new(step_ms));
        let mut live = Live::empty(session.deref().clone(), link);
        live.open(session, at);
        live
    }

    /// Charts taken back from those kept ahead so far (tests).
    #[cfg(test)]
    pub(crate) fn taken_back(&self) -> usize {
        self.taken_back
    }

    /// The length of the trace kept ahead, and those of the charts kept
    /// ahead (tests).
    #[cfg(test)]
    pub(crate) fn kept_ahead(&self) -> (usize, Vec<usize>) {
        let charts = self.ahead.iter().map(|(n, ..)| *n).collect();
        (self.ahead_trace.as_ref().map_or(0, Trace::len), charts)
    }

    /// The fake worker, to hold a jump's slices or send the next (tests).
    #[cfg(test)]
    pub(crate) fn fake_worker(&mut self) -> &mut crate::engine::link::FakeWorker {
        self.link.fake.as_mut().expect("a fake worker")
    }

    /// The fake worker's replies not handed to the page yet (tests).
    #[cfg(test)]
    pub fn outbox(&mut self) -> Vec<Vec<u8>> {
        self.link
            .fake
            .as_mut()
            .map(|f| std::mem::take(&mut f.outbox))
            .unwrap_or_default()
    }

    fn empty(stage: Stage, link: Link) -> Live {
        let (chart, metrics) = built_anew(&stage.scenario);
        Live {
            stage,
            world: Mirror::default(),
            world_id: new_world_id(),
            chart,
            metrics,
            snaps: Vec::new(),
            chart_layout: Rc::default(),
            ahead: Vec::new(),
            ahead_trace: None,
            computed_to: None,
            donor: None,
            #[cfg(test)]
            taken_back: 0,
            log: Vec::new(),
            horizon: 0,
            step_at: 0,
            steps_seen: 0,
            checkpoints: Vec::new(),
            names: Names::default(),
            link,
            pending: VecDeque::new(),
            run_ahead_asked: None,
        }
    }

    /// Shows another run: `session` (not yet run, or a capture's record)
    /// at the moment `at`. Replies to commands of the run before are
    /// dropped when they come.
    pub fn open(&mut self, session: Session, at: Time) {
        let pending = self.pending.iter().map(|_| Pending::Stale).collect();
        let link = std::mem::take(&mut self.link);
        *self = Live::empty(session.deref().clone(), link);
        self.pending = pending;
        // Known before the first reply (a share link made meanwhile).
        self.log = session.log().to_vec();
        if session.is_recorded() {
            // A capture is only shown: its record stays in this thread.
            self.link.run_here(Engine::with(session));
            self.exec(Command::Sync, Pending::Quiet);
            return;
        }
        let Ok(scenario) = session.scenario.to_toml() else {
            // Not writable as a file (it came from one, so this does not
            // happen): run it here as it is.
            self.link.run_here(Engine::with(session));
            self.exec(Command::Seek { t: at }, Pending::Quiet);
            return;
        };
        self.link.run_anew();
        self.exec(
            Command::Load {
                scenario,
                source: session.source.clone(),
                log: session.log().to_vec(),
            },
            Pending::Quiet,
        );
        if at > 0 {
            self.exec(Command::Seek { t: at }, Pending::Quiet);
        }
    }

    /// The same scenario over, with `scenario` (another seed, say) and
    /// without the user's interventions; the layout stays.
    pub fn restart(&mut self, scenario: Scenario) {
        let layout = std::mem::take(&mut self.layout);
        let source = self.source.clone();
        self.open(Session::new(scenario, source), 0);
        self.layout = layout;
    }

    /// Paused, with nothing on its way to the worker: asks it to run the
    /// first tick of playing, to `to`, ahead on a copy of the world in its
    /// idle time (once for each moment and `to`). That tick then finds its
    /// work done: the start of a scenario (every SA's key exchange) is its
    /// dearest stretch, and the worker's code is warm when Play is pressed.
    /// An engine in this thread has no idle time to use.
    pub fn offer_run_ahead(&mut self, to: Time) {
        if !self.link.runs_ahead() || self.is_recorded() || !self.pending.is_empty() {
            return;
        }
        let now = self.now();
        let asked = (self.world_id, self.world.trace.len(), now, to);
        if to <= now || self.run_ahead_asked == Some(asked) {
            return;
        }
        self.run_ahead_asked = Some(asked);
        self.exec(Command::RunAhead { to }, Pending::Quiet);
        self.exec(Command::Preview, Pending::Preview);
    }

    /// Sends `cmd`; `pending` says what to do with its outcome. The
    /// settled command when the engine is in this thread.
    pub fn exec(&mut self, cmd: Command, pending: Pending) -> Option<Settled> {
        match self.link.send(&cmd) {
            // Answered here and now: nothing waits for it.
            Sent::Now(bytes) => self.settle(&bytes, pending).ok().flatten(),
            Sent::Later => {
                self.pending.push_back(pending);
                None
            }
        }
    }

    /// A reply from the worker, to the oldest command waiting: applied to
    /// the mirror, unless it answers a command of a run replaced since.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Option<Settled>, String> {
        let stale = self.pending.front().is_none_or(|p| *p == Pending::Stale);
        let reply = self.read(bytes)?;
        if reply.partial {
            // A slice of a jump forward under way: its events are taken in
            // now (while the worker computes the next), and the command
            // is answered by the last reply.
            if !stale {
                self.apply(reply)?;
            }
            return Ok(None);
        }
        let pending = self.pending.pop_front().unwrap_or(Pending::Stale);
        self.settle_reply(reply, pending)
    }

    /// The worker failed: nothing it was asked will be answered, and runs
    /// go to this thread from now on.
    pub fn lose_worker(&mut self) {
        self.pending.clear();
        self.link.lose_worker();
    }

    fn read(&mut self, bytes: &[u8]) -> Result<Reply, String> {
        codec::from_bytes(bytes, &mut self.names)
            .map_err(|e| format!("the simulation's reply could not be read: {e}"))
    }

    fn settle(&mut self, bytes: &[u8], pending: Pending) -> Result<Option<Settled>, String> {
        if pending == Pending::Stale {
            return Ok(None);
        }
        let reply = self.read(bytes)?;
        self.settle_reply(reply, pending)
    }

    fn settle_reply(&mut self, reply: Reply, pending: Pending) -> Result<Option<Settled>, String> {
        if pending == Pending::Stale {
            return Ok(None);
        }
        if pending == Pending::Preview {
            self.stage(reply);
            return Ok(None);
        }
        let outcome = reply.outcome.clone();
        let changed = self.apply(reply)?;
        Ok(Some(Settled {
            pending,
            outcome,
            changed,
        }))
    }

    /// Marks one more command as waiting for its reply, as if it had gone
    /// to a worker (the fuzz target of the replies).
    pub fn push_waiting(&mut self) {
        self.pending.push_back(Pending::Quiet);
    }

    /// Commands sent and not answered yet (but a preview, which the page
    /// does not wait for).
    pub fn in_flight(&self) -> usize {
        self.pending
            .iter()
            .filter(|p| **p != Pending::Preview)
            .count()
    }

    /// Whether a command other than a tick of playing is on its way (a
    /// click's outcome is not shown yet): the page says so on its root
    /// element (`data-busy`), which the browser tests wait on.
    pub fn busy(&self) -> bool {
        self.pending
            .iter()
            .any(|p| !matches!(p, Pending::Tick { .. } | Pending::Preview))
    }

    /// The events of the first tick's run, made ahead while the page is
    /// paused ([`Command::Preview`]): kept aside as the trace ahead, with
    /// the chart and the figures built on to their end and laid out, in the
    /// page's idle time. The tick that takes that run resumes this trace
    /// ([`Reply::resume`]) and takes the chart back (see `build_chart`):
    /// it shows the run without building its rows then.
    fn stage(&mut self, r: Reply) {
        if r.events.is_empty() {
            return;
        }
        let mut trace = self.world.trace.clone();
        for e in r.events {
            trace.push(e.time, e.kind);
        }
        let n = trace.len();
        // A longer trace kept ahead is of this timeline too, and holds
        // these events already.
        if self.ahead_trace.as_ref().is_none_or(|a| a.len() < n) {
            self.ahead_trace = Some(trace);
        }
        let Some(trace) = &self.ahead_trace else {
            return;
        };
        if self.chart.consumed() != self.world.trace.len()
            || self.ahead.iter().any(|(k, ..)| *k == n)
        {
            return;
        }
        let mut chart = self.chart.clone();
        chart.update_to(trace, n);
        let metrics = self.metrics.clone().map(|mut m| {
            m.update_to(trace, n);
            m
        });
        self.chart_layout.borrow_mut().warm(&chart.chart);
        self.ahead.push((n, chart, metrics));
        self.ahead.sort_by_key(|(k, ..)| *k);
    }

    /// The moment the ticks on their way run to (now, when none is).
    pub fn ahead(&self) -> Time {
        self.pending
            .iter()
            .filter_map(|p| match p {
                Pending::Tick { target, .. } => Some(*target),
                _ => None,
            })
            .fold(self.now(), Time::max)
    }

    /// While a long jump forward comes in slices, the moment they reached
    /// and the one the jump goes to.
    pub fn jump_progress(&self) -> Option<(Time, Time)> {
        match self.pending.front() {
            Some(Pending::Seek { t }) => Some((self.computed_to?, *t)),
            _ => None,
        }
    }

    /// Whether a jump the user asks for goes now: none is on its way, or
    /// the only command on its way is a jump coming in slices, which the
    /// new one ends where it has come (see `Engine::take_message`).
    pub fn jump_goes_now(&self) -> bool {
        self.seek_on_way().is_none() || self.jump_progress().is_some() && self.in_flight() == 1
    }

    /// The moment of the last jump on its way, if one is.
    pub fn seek_on_way(&self) -> Option<Time> {
        self.pending.iter().rev().find_map(|p| match p {
            Pending::Seek { t } => Some(*t),
            _ => None,
        })
    }

    /// Whether the `k`-th reply still to come (from 0) answers a tick of
    /// playing.
    pub fn waits_for_tick(&self, k: usize) -> bool {
        matches!(self.pending.get(k), Some(Pending::Tick { .. }))
    }

    /// How many ticks of playing are on their way.
    pub fn ticking(&self) -> usize {
        self.pending
            .iter()
            .filter(|p| matches!(p, Pending::Tick { .. }))
            .count()
    }

    pub fn link(&self) -> &Link {
        &self.link
    }

    /// Applies a reply; whether anything changed.
    fn apply(&mut self, r: Reply) -> Result<bool, String> {
        let changed = r.cut.is_some()
            || r.resume.is_some()
            || !r.events.is_empty()
            || !r.hosts.is_empty()
            || r.nats.is_some()
            || r.links.is_some()
            || r.log.is_some()
            || r.host_count != self.world.hosts.len()
            || (r.now, r.horizon) != (self.world.now, self.horizon)
            || (r.step_at, r.steps_seen) != (self.step_at, self.steps_seen)
            || r.checkpoints != self.checkpoints;
        if let Some(n) = r.resume {
            let Some(ahead) = self.ahead_trace.as_ref().filter(|a| a.len() >= n) else {
                return Err(format!(
                    "the simulation's reply takes up {n} events kept from before a jump back, and the page kept {}",
                    self.ahead_trace.as_ref().map_or(0, Trace::len)
                ));
            };
            let mut trace = ahead.clone();
            trace.truncate(n);
            // The same world's trace, grown: it begins with the trace the
            // mirror had (whatever reads the trace as it grows, as the
            // traffic figures do, reads on from where it was).
            self.world.trace = trace;
        }
        if let Some(cut) = r.cut {
            let trace = &self.world.trace;
            if cut < trace.len()
                && self
                    .ahead_trace
                    .as_ref()
                    .is_none_or(|a| a.len() < trace.len())
            {
                self.ahead_trace = Some(trace.clone());
            }
            let old_len = trace.len();
            self.world.trace.truncate(cut);
            self.world_id = new_world_id();
            let past: Vec<_> = self.snaps.extract_if(.., |(n, ..)| *n > cut).collect();
            self.ahead.splice(0..0, past);
            let (chart, metrics) = match self.snaps.last() {
                Some((_, c, m)) => (c.clone(), m.clone()),
                None => built_anew(&self.stage.scenario),
            };
            // The chart of the moment left is kept ahead too: a jump
            // forward again to it (back to where the user was) builds no
            // row (a chart past the checkpoints' budget of rows has no
            // checkpoint charts near its end).
            let left = std::mem::replace(&mut self.chart, chart);
            self.donor = Some((left.consumed(), cut.min(left.consumed())));
            let left_metrics = std::mem::replace(&mut self.metrics, metrics);
            if cut < old_len
                && left.consumed() == old_len
                && !self.ahead.iter().any(|(n, ..)| *n == old_len)
            {
                self.ahead.push((old_len, left, left_metrics));
                self.ahead.sort_by_key(|(n, ..)| *n);
            }
        }
        for e in r.events {
            self.world.trace.push(e.time, e.kind);
        }
        if r.partial {
            // The moment and the views stay those shown until the jump's
            // last reply; the chart is built on as far as the events go,
            // and its new rows are laid out as the chart panel last asked
            // (so showing the jump lays out none of them).
            self.checkpoints = r.checkpoints;
            self.computed_to = Some(r.now);
            self.build_chart();
            self.chart_layout.borrow_mut().warm(&self.chart.chart);
            return Ok(false);
        }
        self.computed_to = None;
        self.world.now = r.now;
        self.horizon = r.horizon;
        self.step_at = r.step_at;
        self.steps_seen = r.steps_seen;
        if let Some(log) = r.log {
            if log != self.log {
                // Another timeline: what lay ahead is not its run.
                self.ahead.clear();
                self.ahead_trace = None;
            }
            self.log = log;
        }
        self.world.hosts.truncate(r.host_count);
        for (i, h) in r.hosts {
            let hosts = &mut self.world.hosts;
            if i < hosts.len() {
                hosts[i] = h;
            } else if i == hosts.len() {
                hosts.push(h);
            } else {
                return Err(format!("a view of host {i} of {}", r.host_count));
            }
        }
        if let Some(nats) = r.nats {
            self.world.nats = nats;
        }
        if let Some(links) = r.links {
            self.world.links = links;
        }
        self.checkpoints = r.checkpoints;
        self.build_chart();
        Ok(changed)
    }

    /// Builds the chart (and the traffic figures) on to the trace's end.
    fn build_chart(&mut self) {
        // The charts of the checkpoints' moments: kept for those the
        // engine holds, made for new ones on the way to the end.
        let marks = &self.checkpoints;
        self.snaps.retain(|(n, ..)| marks.iter().any(|m| m.1 == *n));
        let trace = &self.world.trace;
        // A jump forward again in the same timeline: the charts kept
        // ahead that the trace now reaches come back, the last one shown
        // (a chart of the same timeline is the one of its trace's length,
        // wherever the checkpoints fall now).
        let (from, to) = (self.chart.consumed(), trace.len());
        let back: Vec<_> = self
            .ahead
            .extract_if(.., |(n, ..)| *n > from && *n <= to)
            .collect();
        if let Some((_, c, m)) = back.last() {
            self.chart = c.clone();
            self.metrics = m.clone();
            #[cfg(test)]
            {
                self.taken_back += back.len();
            }
        }
        self.snaps.extend(back);
        // The chart left at the last cut, if it is kept.
        let donor = self.donor.and_then(|(len, shared)| {
            let (_, c, _) = self.ahead.iter().find(|(n, ..)| *n == len)?;
            Some((&c.chart, shared))
        });
        let update_to = |chart: &mut ChartBuilder, n: usize| match donor {
            Some((d, shared)) => chart.update_to_like(trace, n, d, shared),
            None => chart.update_to(trace, n),
        };
        for &(_, n) in marks {
            if n > self.chart.consumed() && n <= trace.len() {
                update_to(&mut self.chart, n);
                if let Some(m) = &mut self.metrics {
                    m.update_to(trace, n);
                }
                if self.chart.chart.rows.len() <= MAX_CHART_ROWS {
                    self.snaps
                        .push((n, self.chart.clone(), self.metrics.clone()));
                }
            }
        }
        update_to(&mut self.chart, trace.len());
        if let Some(m) = &mut self.metrics {
            m.update(trace);
        }
        if self
            .ahead_trace
            .as_ref()
            .is_some_and(|a| a.len() <= trace.len())
        {
            // Caught up with it: nothing of it is needed (the engine sends
            // no resume past the mirror's trace).
            self.ahead_trace = None;
        }
    }

    // --- What the panels read (as a Session's) ---------------------------

    /// The cache the chart panel lays the chart out with.
    pub fn chart_layout(&self) -> Rc<RefCell<msc::LayoutCache>> {
        self.chart_layout.clone()
    }

    pub fn now(&self) -> Time {
        self.world.now
    }

    /// How far this timeline has run (the scrubber's computed part).
    pub fn horizon(&self) -> Time {
        self.horizon.max(self.now())
    }

    /// The scrubber's end: how far this timeline has run, and at least the
    /// scenario's own length.
    pub fn end(&self) -> Time {
        self.horizon().max(self.until())
    }

    pub fn log(&self) -> &[(Time, Intervention)] {
        &self.log
    }

    pub fn checkpoint_times(&self) -> Vec<Time> {
        self.checkpoints.iter().map(|c| c.0).collect()
    }

    pub fn chart(&self) -> &Chart {
        &self.chart.chart
    }

    /// The traffic figures up to now (`None` when the scenario does not
    /// ping).
    pub fn metrics(&self) -> Option<mobike_render::metrics::Metrics> {
        self.metrics.as_ref().map(MetricsBuilder::current)
    }

    pub fn narration(&self) -> Option<(usize, usize, &str)> {
        self.stage.narration_at(self.step_at)
    }

    pub fn steps_reached(&self) -> usize {
        self.chart.steps_shown().min(self.scenario.steps.len())
    }

    pub fn steps_seen(&self) -> usize {
        self.steps_seen
    }

    pub fn step_waiting(&self) -> bool {
        self.steps_seen < self.steps_reached()
    }

    pub fn step_times(&self) -> Vec<Time> {
        self.chart.step_times().to_vec()
    }

    pub fn stamp(&self) -> TraceStamp {
        TraceStamp::new(self.world_id, self.world.trace.len())
    }

    pub fn saved_scenario(&self) -> Scenario {
        Shown::saved_scenario(self)
    }

    pub fn save_toml(&self) -> Result<String, String> {
        Shown::save_toml(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::codec::{Codec, from_bytes, to_bytes};
    use crate::session::EXAMPLES;
    use mobike_protocol::{MS, SEC};

    /// The reply of an engine running scenario `text` for `dt`.
    fn advanced(text: &str, dt: Time) -> Reply {
        let mut engine = Engine::with(Session::from_toml(text).unwrap());
        let cmd = Command::Advance { dt, budget_ms: 0.0 };
        engine.handle(cmd, &|| None)
    }

    /// The mirror of a run holds what the run itself holds: the trace
    /// event for event, the chart row for row, the hosts', links' and
    /// NATs' views (every built-in example, played 40 s in ticks with a
    /// jump back and forth on the way).
    #[test]
    fn the_mirror_holds_what_the_run_holds() {
        // The examples whose charts past a jump back came back on the jump
        // forward (a quiet run may have made none past it).
        let mut taken_back = Vec::new();
        for (name, text) in EXAMPLES {
            let mut run = Session::from_toml(text).unwrap();
            let mut live = Live::here(Session::from_toml(text).unwrap(), 0);
            let same = |run: &Session, live: &Live, when: &str| {
                assert_eq!(live.now(), run.now(), "{name} {when}");
                assert!(
                    live.world.trace() == run.world.trace(),
                    "{name} {when}: trace"
                );
                assert_eq!(live.chart().rows, run.chart().rows, "{name} {when}: chart");
                assert_eq!(
                    live.world.hosts(),
                    run.world.hosts(),
                    "{name} {when}: hosts"
                );
                assert_eq!(live.world.nats(), run.world.nats(), "{name} {when}: NATs");
                assert_eq!(
                    live.world.links(),
                    run.world.links(),
                    "{name} {when}: links"
                );
                assert_eq!(live.log(), run.log(), "{name} {when}: log");
                // The traffic figures, built as the trace grew and taken
                // from checkpoints on jumps, are those of the whole trace.
                assert_eq!(
                    live.metrics(),
                    run.scenario
                        .ping
                        .as_ref()
                        .map(|_| mobike_render::metrics::compute(run.world.trace())),
                    "{name} {when}: traffic figures"
                );
                assert_eq!(live.horizon(), run.horizon(), "{name} {when}: horizon");
                assert_eq!(
                    live.checkpoint_times(),
                    run.checkpoint_times(),
                    "{name} {when}"
                );
            };
            same(&run, &live, "at the start");
            for _ in 0..16 {
                run.advance(2560 * MS);
                live.exec(
                    Command::Advance {
                        dt: 2560 * MS,
                        budget_ms: 0.0,
                    },
                    Pending::Quiet,
                );
            }
            same(&run, &live, "after 40 s");
            // Back to 12.3 s (a checkpoint at 10 s is restored), then on:
            // the same run, whose charts past the cut come back.
            for t in [12_300 * MS, 31 * SEC] {
                run.seek(t);
                live.exec(Command::Seek { t }, Pending::Quiet);
                same(&run, &live, &format!("at {t} µs"));
            }
            if live.taken_back > 0 {
                taken_back.push(*name);
            }
            // Back again, a link broken there (another timeline), and on:
            // nothing of the old timeline comes back.
            let link = run.world.links()[0].id.clone();
            run.seek(12_300 * MS);
            live.exec(Command::Seek { t: 12_300 * MS }, Pending::Quiet);
            run.toggle_link(&link);
            live.exec(Command::ToggleLink { link }, Pending::Quiet);
            same(&run, &live, "a new timeline at 12.3 s");
            let taken = live.taken_back;
            run.seek(31 * SEC);
            live.exec(Command::Seek { t: 31 * SEC }, Pending::Quiet);
            same(&run, &live, "on in the new timeline");
            assert_eq!(
                live.taken_back, taken,
                "{name}: a chart of the old timeline came back"
            );
        }
        for busy in ["wifi-to-lte", "cluster-20-mobike"] {
            assert!(taken_back.contains(&busy), "{busy}: {taken_back:?}");
        }
    }

    /// A jump back replays from a checkpoint the run the mirror has: the
    /// reply cuts the mirror at the moment shown and sends nothing. A jump
    /// forward again starts from the latest checkpoint on the way, and the
    /// mirror takes up the trace it kept from before the cut: only what
    /// lies past that comes over. Once an intervention changes the log,
    /// nothing kept comes back.
    #[test]
    fn a_jump_back_sends_nothing_the_mirror_has() {
        let session = || Session::from_toml(EXAMPLES[0].1).unwrap();
        let mut live = Live::here(session(), 0);
        let clock = || None;
        let mut engine = Engine::with(session());
        let send = |cmd: Command, live: &mut Live, engine: &mut Engine| {
            let reply = engine.handle(cmd.clone(), &clock);
            live.exec(cmd.clone(), Pending::Quiet);
            let run = engine.session().unwrap();
            assert!(live.world.trace() == run.world.trace(), "{cmd:?}");
            (reply, run.world.trace().len())
        };
        send(Command::Sync, &mut live, &mut engine);
        let (ahead, len30) = send(
            Command::Advance {
                dt: 30 * SEC,
                budget_ms: 0.0,
            },
            &mut live,
            &mut engine,
        );
        assert_eq!((ahead.cut, ahead.resume), (None, None));
        // The replay from the checkpoint at 10 s is the run already sent:
        // the mirror is cut to 12 s and nothing comes again.
        let (back, len12) = send(Command::Seek { t: 12 * SEC }, &mut live, &mut engine);
        assert_eq!((back.cut, back.resume), (Some(len12), None));
        assert!(back.events.is_empty());
        // Forward within the run sent before: from the checkpoint at 20 s,
        // and all of it is the mirror's already.
        let (on, len22) = send(Command::Seek { t: 22 * SEC }, &mut live, &mut engine);
        assert_eq!((on.cut, on.resume), (None, Some(len22)));
        assert!(on.events.is_empty() && len12 < len22 && len22 < len30);
        // Past it: from the checkpoint at 30 s; what follows comes over.
        let (on, len40) = send(Command::Seek { t: 40 * SEC }, &mut live, &mut engine);
        assert_eq!((on.cut, on.resume), (None, Some(len30)));
        assert_eq!(on.events.len(), len40 - len30);
        assert!(on.events.iter().all(|e| e.time >= 30 * SEC));
        // Back, an intervention (another timeline), forward: sent again.
        send(Command::Seek { t: 12 * SEC }, &mut live, &mut engine);
        let link = engine.session().unwrap().world.links()[0].id.clone();
        let (_, toggled) = send(Command::ToggleLink { link }, &mut live, &mut engine);
        let (on, len) = send(Command::Seek { t: 22 * SEC }, &mut live, &mut engine);
        assert_eq!((on.cut, on.resume), (None, None));
        assert_eq!(on.events.len(), len - toggled);
    }

    /// Back and forward again to the moment left: the chart of that
    /// moment comes back whole (with the checkpoints' charts between), no
    /// row is built again, and it is the chart of a straight run.
    #[test]
    fn the_chart_of_the_moment_left_comes_back() {
        let session = || Session::from_toml(EXAMPLES[0].1).unwrap();
        let mut live = Live::here(session(), 0);
        let left = 27 * SEC;
        live.exec(Command::Seek { t: left }, Pending::Quiet);
        let len_left = live.world.trace().len();
        live.exec(Command::Seek { t: 12 * SEC }, Pending::Quiet);
        let len12 = live.world.trace().len();
        let between = live
            .checkpoints
            .iter()
            .filter(|&&(_, n)| n > len12 && n <= len_left)
            .count();
        let (before, rows_before) = (live.taken_back, live.chart().rows.len());
        live.exec(Command::Seek { t: left }, Pending::Quiet);
        assert_eq!(live.world.trace().len(), len_left);
        assert_eq!(
            live.taken_back - before,
            between + 1,
            "the checkpoints' charts and the one left"
        );
        assert_eq!(live.chart.consumed(), len_left);
        let mut run = session();
        run.seek(left);
        assert_eq!(live.chart().rows, run.chart().rows);
        assert!(live.chart().rows.len() > rows_before);
    }

    /// What the engine sends reads back as it was: every reply of a run
    /// through its message form; a scenario through its JSON, for each
    /// example (the worker starts its run from that value).
    #[test]
    fn replies_and_scenarios_read_back_as_they_were() {
        for (name, text) in EXAMPLES {
            let mut scenario = Scenario::from_toml(text).unwrap();
            let back = Scenario::from_toml(&scenario.to_toml().unwrap()).unwrap();
            assert_eq!(back, scenario, "{name}");
            // A changed one too (a share link's seed, a moved host).
            scenario.seed ^= 0x5a5a;
            scenario.hosts[0].pos[0] += 12.5;
            let back = Scenario::from_toml(&scenario.to_toml().unwrap()).unwrap();
            assert_eq!(back, scenario, "{name}, changed");
            let reply = advanced(text, 60 * SEC);
            let bytes = to_bytes(&reply);
            let again: Reply = from_bytes(&bytes, &mut Names::default()).unwrap();
            assert_eq!(again, reply, "{name}");
        }
    }

    /// A message cut short or with an octet changed is an error naming
    /// the place, never a panic.
    #[test]
    fn a_damaged_message_is_an_error_not_a_panic() {
        let bytes = to_bytes(&advanced(EXAMPLES[0].1, 20 * SEC));
        for n in (0..bytes.len()).step_by(7) {
            let e = from_bytes::<Reply>(&bytes[..n], &mut Names::default()).unwrap_err();
            assert!(e.0.contains("at octet"), "{e}");
        }
        // Changed octets: an error, or a reply taken as it comes (the
        // mirror may then differ from the run), never a panic.
        let mut live = Live::here(Session::from_toml(EXAMPLES[0].1).unwrap(), 0);
        let mut bad = bytes.clone();
        for k in (0..bad.len()).step_by(13) {
            bad[k] ^= 0xa5;
            let _ = from_bytes::<Reply>(&bad, &mut Names::default());
            live.push_waiting();
            let _ = live.receive(&bad);
            bad[k] ^= 0xa5;
        }
        let mut longer = bytes;
        longer.push(0);
        assert!(from_bytes::<Reply>(&longer, &mut Names::default()).is_err());
        let cmd = to_bytes(&Command::Seek { t: 5 });
        assert_eq!(
            Command::dec(&mut codec::Dec::new(&cmd, &mut Names::default())).unwrap(),
            Command::Seek { t: 5 }
        );
        // A browser test counts the jumps the worker gets by this octet.
        assert_eq!(
            cmd[0], 5,
            "Command::Seek's number (tests/e2e/scale.test.mjs)"
        );
        let ahead = to_bytes(&Command::RunAhead { to: 5 });
        assert_eq!(
            Command::dec(&mut codec::Dec::new(&ahead, &mut Names::default())).unwrap(),
            Command::RunAhead { to: 5 }
        );
    }

    /// Replies to the commands of a run replaced since are dropped.
    #[test]
    fn replies_of_a_replaced_run_are_dropped() {
        let mut live = Live::here(Session::from_toml(EXAMPLES[0].1).unwrap(), 0);
        let old = to_bytes(&advanced(EXAMPLES[0].1, 20 * SEC));
        // As if sent to a worker: waiting, then another run is opened.
        live.pending.push_back(Pending::Quiet);
        live.open(Session::from_toml(EXAMPLES[1].1).unwrap(), 0);
        assert_eq!(live.in_flight(), 1);
        let title = live.scenario.title.clone();
        let len = live.world.trace().len();
        assert_eq!(live.receive(&old), Ok(None));
        assert_eq!(live.scenario.title, title);
        assert_eq!(live.now(), 0);
        assert_eq!(live.world.trace().len(), len);
        assert_eq!(live.in_flight(), 0);
    }
}
