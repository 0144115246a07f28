//! One playground session: a scenario, the running world, the chart built
//! from its trace and the layout the user arranged. No web types here, so
//! the logic behind every button is tested natively.
//!
//! Time travel (DESIGN.md §2): a run is the scenario + seed + the log of the
//! user's interventions. The session keeps that log and checkpoints (clones
//! of the world, see [`crate::timeline`]); showing an earlier moment rebuilds
//! from the nearest checkpoint at or before it, and an intervention made
//! there forks the timeline: the log after it is dropped.

use crate::timeline::Checkpoints;
use mobike_protocol::Time;
use mobike_render::topology::{HostGroup, Topo, clamp_to_drawing, find_groups, initial_layout};
use mobike_render::{Chart, ChartBuilder};
use mobike_sim::{
    Intervention, InterventionCheck, InterventionError, Scenario, Trace, World, WorldRead,
};
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

/// The drawing's size, which share links clamp moved nodes to.
pub use mobike_render::topology::{TOPO_H, TOPO_W};

/// The scenario the page opens with.
pub const DEFAULT_SCENARIO: &str = include_str!("../examples/wifi-to-lte.toml");

/// The built-in library: (file name, text), in the order the picker lists them.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("wifi-to-lte", DEFAULT_SCENARIO),
    (
        "rfc4555-e1-mobility",
        include_str!("../examples/rfc4555-e1-mobility.toml"),
    ),
    (
        "rfc4555-e2-multihoming",
        include_str!("../examples/rfc4555-e2-multihoming.toml"),
    ),
    (
        "dual-stack-wifi-to-ipv6-lte",
        include_str!("../examples/dual-stack-wifi-to-ipv6-lte.toml"),
    ),
    (
        "responder-adds-ipv6-address",
        include_str!("../examples/responder-adds-ipv6-address.toml"),
    ),
    (
        "rekey-after-move",
        include_str!("../examples/rekey-after-move.toml"),
    ),
    (
        "three-child-sas",
        include_str!("../examples/three-child-sas.toml"),
    ),
    (
        "crossed-ike-sa-rekeys",
        include_str!("../examples/crossed-ike-sa-rekeys.toml"),
    ),
    (
        "responder-moves-client",
        include_str!("../examples/responder-moves-client.toml"),
    ),
    (
        "responder-moves-client-follow",
        include_str!("../examples/responder-moves-client-follow.toml"),
    ),
    (
        "responder-move-fallback-old-address",
        include_str!("../examples/responder-move-fallback-old-address.toml"),
    ),
    (
        "responder-move-keep-retransmitting",
        include_str!("../examples/responder-move-keep-retransmitting.toml"),
    ),
    (
        "responder-move-nat-presets",
        include_str!("../examples/responder-move-nat-presets.toml"),
    ),
    (
        "cluster-20-mobike",
        include_str!("../examples/cluster-20-mobike.toml"),
    ),
    (
        "cluster-20-redirect",
        include_str!("../examples/cluster-20-redirect.toml"),
    ),
    (
        "attacker-spoofed-update",
        include_str!("../examples/attacker-spoofed-update.toml"),
    ),
    (
        "no-nats-allowed",
        include_str!("../examples/no-nats-allowed.toml"),
    ),
    (
        "nat-rebinding",
        include_str!("../examples/nat-rebinding.toml"),
    ),
    (
        "double-nat-home-behind-carrier",
        include_str!("../examples/double-nat-home-behind-carrier.toml"),
    ),
    (
        "hairpin-home-gateway",
        include_str!("../examples/hairpin-home-gateway.toml"),
    ),
    (
        "route-withdrawn-mid-network",
        include_str!("../examples/route-withdrawn-mid-network.toml"),
    ),
    (
        "nat-mapping-timeout",
        include_str!("../examples/nat-mapping-timeout.toml"),
    ),
    (
        "nat-keepalives",
        include_str!("../examples/nat-keepalives.toml"),
    ),
    (
        "link-one-way",
        include_str!("../examples/link-one-way.toml"),
    ),
    (
        "nat-change-before-first-check",
        include_str!("../examples/nat-change-before-first-check.toml"),
    ),
    (
        "additional-address-probing",
        include_str!("../examples/additional-address-probing.toml"),
    ),
    (
        "all-paths-dead",
        include_str!("../examples/all-paths-dead.toml"),
    ),
    (
        "init-multiple-sources",
        include_str!("../examples/init-multiple-sources.toml"),
    ),
    (
        "update-restarted",
        include_str!("../examples/update-restarted.toml"),
    ),
    (
        "strongswan-timers",
        include_str!("../examples/strongswan-timers.toml"),
    ),
    (
        "strongswan-mobike-basic",
        include_str!("../examples/strongswan-mobike-basic.toml"),
    ),
];

/// The titles of the built-in examples, read once.
pub fn example_titles() -> &'static [String] {
    static TITLES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TITLES.get_or_init(|| {
        EXAMPLES
            .iter()
            .map(|(name, text)| {
                Scenario::from_toml(text).map_or_else(|_| name.to_string(), |s| s.title)
            })
            .collect()
    })
}

/// Where the running scenario came from: a share link names a built-in
/// example, and carries the whole text of any other.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A built-in example, by its file name (see [`EXAMPLES`]).
    Example(String),
    /// A scenario opened from a file (or a share link that carried it).
    File(String),
    /// A real capture opened with its keys (by its file name): a recorded
    /// run, shown as it was; nothing in it can be replayed or changed.
    Capture(String),
}

impl Source {
    /// The built-in example whose text this is, else the text itself.
    pub fn of_text(text: &str) -> Source {
        match EXAMPLES.iter().find(|(_, t)| *t == text) {
            Some((name, _)) => Source::Example(name.to_string()),
            None => Source::File(text.to_string()),
        }
    }

    /// The scenario text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Source::Example(name) => EXAMPLES.iter().find(|(n, _)| n == name).map(|(_, t)| *t),
            Source::File(text) => Some(text),
            Source::Capture(_) => None,
        }
    }
}

/// A user intervention made while viewing the past: the timeline forks at
/// `at`, and what came after it in the old one is gone (RaftScope).
#[derive(Clone, Debug, PartialEq)]
pub struct Fork {
    pub at: Time,
    /// How far the old timeline had run.
    pub dropped_until: Time,
    /// The user's interventions after `at` that were dropped.
    pub dropped: usize,
}

/// Identifies what a session's trace holds: equal stamps mean the same
/// events, so what is derived from the trace alone (the chart, the run's
/// figures, the inspector) is recomputed only when the stamp changes. A
/// world's trace only grows, so its length tells two moments of one world
/// apart; `world` is new whenever the world is replaced (another scenario
/// or seed, a reset, a jump back to a checkpoint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceStamp {
    world: u64,
    events: usize,
}

impl TraceStamp {
    /// The stamp of `events` events of world `world`.
    pub fn new(world: u64, events: usize) -> TraceStamp {
        TraceStamp { world, events }
    }

    /// The world this stamp is of: a trace of one world only grows.
    pub fn world(&self) -> u64 {
        self.world
    }
}

/// A number no other world of this page (or of this worker) had.
pub fn new_world_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// What the page shows of a scenario besides its run: the scenario, where
/// it came from, and the drawing as the user arranged it. A [`Session`]
/// and the page's mirror of one ([`crate::live::Live`]) both hold one and
/// read as it (`Deref`).
#[derive(Clone, Debug)]
pub struct Stage {
    pub scenario: Scenario,
    pub source: Source,
    /// Where each node is drawn: host ids, NAT ids, "internet" and host
    /// groups ("group:<id>").
    pub layout: BTreeMap<String, [f64; 2]>,
    pub groups: Vec<HostGroup>,
}

impl Stage {
    pub fn new(scenario: Scenario, source: Source) -> Stage {
        let groups = find_groups(&scenario);
        let layout = initial_layout(&scenario, &groups);
        Stage {
            scenario,
            source,
            layout,
            groups,
        }
    }

    /// A recorded run (a capture): shown as it was, never run or changed.
    pub fn is_recorded(&self) -> bool {
        matches!(self.source, Source::Capture(_))
    }

    /// The built-in example running (its index in [`EXAMPLES`]); `None`
    /// for a scenario from a file.
    pub fn example_index(&self) -> Option<usize> {
        match &self.source {
            Source::Example(name) => EXAMPLES.iter().position(|(n, _)| n == name),
            Source::File(_) | Source::Capture(_) => None,
        }
    }

    /// The scenario's own end (`until`): playback stops there once, and
    /// goes on when asked.
    pub fn until(&self) -> Time {
        self.scenario.until.micros()
    }

    /// The drawing as the user arranged it, for the topology's geometry.
    pub fn topo(&self) -> Topo<'_> {
        Topo {
            scenario: &self.scenario,
            layout: &self.layout,
            groups: &self.groups,
        }
    }

    pub fn move_node(&mut self, id: &str, pos: [f64; 2]) {
        if let Some(p) = self.layout.get_mut(id) {
            *p = pos;
        }
    }

    /// The narration step the panel shows when it is step `step_at` (from
    /// 1): (its number, how many there are, its text). `None` when the
    /// scenario has none.
    pub fn narration_at(&self, step_at: usize) -> Option<(usize, usize, &str)> {
        let n = self.scenario.steps.len();
        if n == 0 {
            return None;
        }
        let k = step_at.min(n);
        let text = k
            .checked_sub(1)
            .and_then(|i| self.scenario.steps.get(i))
            .map_or("", |s| s.text.as_str());
        Some((k, n, text))
    }

    /// The scenario as it stands on the page with the user's
    /// interventions `log` (see [`Session::saved_scenario`]).
    pub fn saved_with(&self, log: &[(Time, Intervention)]) -> Scenario {
        let mut s = self.scenario.with_user_log(log);
        for (key, pos) in self.moved_nodes() {
            if key == "internet" {
                s.internet.pos = pos;
            } else if let Some(g) = self.groups.iter().find(|g| g.key == key) {
                // A group box is drawn at its members' centre: move them so
                // that their centre is where the box was put.
                let n = g.members.len().max(1) as f64;
                let mut from = [0.0, 0.0];
                for &m in &g.members {
                    if let Some(h) = self.scenario.hosts.get(m) {
                        from[0] += h.pos[0] / n;
                        from[1] += h.pos[1] / n;
                    }
                }
                let d = [pos[0] - from[0], pos[1] - from[1]];
                for &m in &g.members {
                    if let Some(h) = s.hosts.get_mut(m) {
                        h.pos = [h.pos[0] + d[0], h.pos[1] + d[1]];
                    }
                }
            } else if let Some(h) = s.hosts.iter_mut().find(|h| h.id == key) {
                h.pos = pos;
            } else if let Some(n) = s.nats.iter_mut().find(|n| n.id == key) {
                n.pos = pos;
            }
        }
        s
    }

    /// The nodes the user moved: (layout key, position) where it differs
    /// from the scenario's, for share links.
    pub fn moved_nodes(&self) -> BTreeMap<String, [f64; 2]> {
        let start = initial_layout(&self.scenario, &self.groups);
        self.layout
            .iter()
            .filter(|(k, p)| start.get(*k) != Some(*p))
            .map(|(k, p)| (k.clone(), *p))
            .collect()
    }

    /// Moves a NAT box's drawing onto a link's line, nearer the host than
    /// the internet (where a dragged box would be dropped).
    pub fn draw_nat_on(&mut self, nat: &str, link: &str) {
        let segment = self
            .topo()
            .link_segments()
            .into_iter()
            .find(|(l, _, _)| l == link);
        if let Some((_, a, b)) = segment {
            let p = [a[0] + (b[0] - a[0]) * 0.4, a[1] + (b[1] - a[1]) * 0.4];
            self.move_node(nat, clamp_to_drawing(p));
        }
    }

    /// The host is drawn as a chip of a group, not a box of its own.
    pub fn is_group_member(&self, host: &str) -> bool {
        self.scenario
            .hosts
            .iter()
            .position(|h| h.id == host)
            .is_some_and(|k| self.groups.iter().any(|g| g.members.contains(&k)))
    }
}

/// The moment of each narration row of `chart`, in order: what
/// [`ChartBuilder::step_times`] keeps as the steps come (tests).
#[cfg(test)]
pub fn step_times(chart: &Chart) -> Vec<Time> {
    chart
        .rows
        .iter()
        .filter_map(|r| match r {
            mobike_render::Row::Note(n) if n.kind == mobike_render::NoteKind::Narration => {
                Some(n.time)
            }
            _ => None,
        })
        .collect()
}

/// A run as the page shows it: the page's mirror of the run in its worker
/// ([`crate::live::Live`]), or a [`Session`] that runs right here (tests,
/// compare mode's run B). Exports, share links, autosave and the editor
/// read either.
pub trait Shown: Deref<Target = Stage> {
    fn now(&self) -> Time;
    /// The user's interventions in this timeline.
    fn log(&self) -> &[(Time, Intervention)];
    fn chart(&self) -> &Chart;
    fn trace(&self) -> &Trace;
    /// The hosts, links and NATs as of now.
    fn world_read(&self) -> &dyn WorldRead;

    /// The scenario as it stands on the page, as a value (see
    /// [`Session::saved_scenario`]).
    fn saved_scenario(&self) -> Scenario {
        self.saved_with(self.log())
    }

    /// [`Shown::saved_scenario`] as a file.
    fn save_toml(&self) -> Result<String, String> {
        self.saved_scenario().to_toml()
    }
}

/// The running scenario with its history; every button of the page is a
/// method here.
pub struct Session {
    stage: Stage,
    pub world: World,
    /// Tells this world apart from every other (see [`TraceStamp`]).
    world_id: u64,
    /// How long a prefix of this timeline's run as computed before this
    /// world's trace is: after a jump back, all of it (the replay from a
    /// checkpoint is that run); after a jump forward again, all of it too.
    kept: usize,
    /// After a jump back, the trace of the run as far as it had gone: while
    /// no intervention changes the log it is this timeline's, so a jump
    /// forward again starts from the latest checkpoint on the way with its
    /// trace, instead of replaying the whole stretch. It shares its full
    /// chunks with the world's trace.
    ahead: Option<Trace>,
    /// See [`Session::chart_for_steps_only`].
    steps_only: bool,
    chart: ChartBuilder,
    /// The user's interventions in this timeline, in time order.
    log: Vec<(Time, Intervention)>,
    /// How many of them the world has applied.
    applied: usize,
    checkpoints: Checkpoints,
    /// How far this timeline has run.
    horizon: Time,
    /// The narration step the panel shows, from 1 (0: none yet); the
    /// user may go back to any step reached.
    step_at: usize,
    /// How many of the steps reached the user has been shown: in lesson
    /// mode steps that came at the same moment are shown one at a time,
    /// so this may lag behind the chart's count.
    steps_seen: usize,
}

impl Deref for Session {
    type Target = Stage;
    fn deref(&self) -> &Stage {
        &self.stage
    }
}

impl DerefMut for Session {
    fn deref_mut(&mut self) -> &mut Stage {
        &mut self.stage
    }
}

impl Shown for Session {
    fn now(&self) -> Time {
        Session::now(self)
    }
    fn log(&self) -> &[(Time, Intervention)] {
        &self.log
    }
    fn chart(&self) -> &Chart {
        &self.chart.chart
    }
    fn trace(&self) -> &Trace {
        self.world.trace()
    }
    fn world_read(&self) -> &dyn WorldRead {
        &self.world
    }
}

impl Session {
    pub fn new(scenario: Scenario, source: Source) -> Session {
        let mut world = World::new(&scenario);
        let chart = ChartBuilder::new(&scenario);
        Session {
            checkpoints: Checkpoints::new(&mut world, &chart),
            world,
            world_id: new_world_id(),
            kept: 0,
            ahead: None,
            steps_only: false,
            chart,
            stage: Stage::new(scenario, source),
            log: Vec::new(),
            applied: 0,
            horizon: 0,
            step_at: 0,
            steps_seen: 0,
        }
    }

    /// A session showing a run recorded elsewhere (a real capture, see
    /// [`mobike_render::import`]): its parties are the scenario's hosts,
    /// the world holds the record and nothing more happens in it. Playing,
    /// the timeline and interventions are off ([`Session::is_recorded`]).
    pub fn recorded(
        observed: &mobike_sim::observed::Observed,
        file: &str,
    ) -> Result<Session, mobike_sim::ScenarioError> {
        let scenario = observed.scenario()?;
        let mut world = World::recorded(&scenario, observed.trace().clone());
        let mut chart = ChartBuilder::new(&scenario);
        chart.update(world.trace());
        let horizon = world.now();
        Ok(Session {
            checkpoints: Checkpoints::new(&mut world, &chart),
            world,
            world_id: new_world_id(),
            kept: 0,
            ahead: None,
            steps_only: false,
            chart,
            stage: Stage::new(scenario, Source::Capture(file.to_string())),
            log: Vec::new(),
            applied: 0,
            horizon,
            step_at: 0,
            steps_seen: 0,
        })
    }

    pub fn from_toml(text: &str) -> Result<Session, mobike_sim::ScenarioError> {
        Ok(Session::new(
            Scenario::from_toml(text)?,
            Source::of_text(text),
        ))
    }

    /// A session that will replay `log` (the user's interventions, in time
    /// order) as it runs: scenario + seed + log give the same trace.
    pub fn replay(scenario: Scenario, source: Source, log: Vec<(Time, Intervention)>) -> Session {
        let mut s = Session::new(scenario, source);
        s.log = log;
        s
    }

    /// Starts the same scenario over, without the user's interventions; the
    /// layout stays as the user left it.
    pub fn reset(&mut self) {
        if self.is_recorded() {
            return;
        }
        let layout = std::mem::take(&mut self.layout);
        *self = Session::new(self.scenario.clone(), self.source.clone());
        self.layout = layout;
    }

    /// Starts over with another seed (every random draw changes), without
    /// the user's interventions; the layout stays.
    pub fn set_seed(&mut self, seed: u64) {
        if self.is_recorded() {
            return;
        }
        let mut scenario = self.scenario.clone();
        scenario.seed = seed;
        let layout = std::mem::take(&mut self.layout);
        *self = Session::new(scenario, self.source.clone());
        self.layout = layout;
    }

    pub fn now(&self) -> Time {
        self.world.now()
    }

    /// How far this timeline has run (the scrubber's computed part).
    pub fn horizon(&self) -> Time {
        self.horizon.max(self.now())
    }

    /// The scrubber's end: how far this timeline has run, and at least the
    /// scenario's own length.
    pub fn end(&self) -> Time {
        self.horizon().max(self.scenario.until.micros())
    }

    /// The user's interventions in this timeline.
    pub fn log(&self) -> &[(Time, Intervention)] {
        &self.log
    }

    /// Times of the checkpoints held.
    pub fn checkpoint_times(&self) -> Vec<Time> {
        self.checkpoints.times()
    }

    /// How many copies of the world the checkpoints took, kept or not.
    pub fn checkpoint_copies(&self) -> usize {
        self.checkpoints.copies()
    }

    /// The checkpoints' moments and trace lengths (see
    /// [`Checkpoints::marks`]).
    pub fn checkpoint_marks(&self) -> Vec<(Time, usize)> {
        self.checkpoints.marks()
    }

    /// How long a prefix of this timeline's run as computed before this
    /// world's trace is (see the field): the page's mirror holds that part
    /// already, in its trace or in what it kept from before a jump back.
    pub fn kept(&self) -> usize {
        self.kept
    }

    /// The narration step shown (from 1; 0: none yet).
    pub fn step_at(&self) -> usize {
        self.step_at
    }

    /// Runs the world forward by `dt` of virtual time.
    pub fn advance(&mut self, dt: Time) {
        self.run_to(self.now().saturating_add(dt), false);
    }

    /// Like [`Session::advance`], but stops early once `spent()` says so
    /// (asked every few events): the page's tick has a budget. It may stop
    /// within an instant, with events of that moment still to come; the
    /// next call, or an intervention (see [`Session::apply`]), runs them
    /// first, so the run is the one [`Session::advance`] makes.
    pub fn advance_within(&mut self, dt: Time, spent: &dyn Fn() -> bool) {
        self.run_budgeted(self.now().saturating_add(dt), false, Some(spent));
    }

    /// How far a copy of this world may run on its own and then take the
    /// world's place ([`Session::adopt_run_ahead`]) as if this session had
    /// run it: up to the last moment before the next checkpoint is due or
    /// the log's next intervention is applied, which only the session's own
    /// run does. `None` where it may not run at all (a recorded run; an
    /// instant left open at a checkpoint's moment).
    pub fn run_ahead_limit(&self) -> Option<Time> {
        if self.is_recorded() {
            return None;
        }
        let now = self.world.now();
        let open = self.world.next_event_time() == Some(now);
        if open && self.checkpoints.is_boundary(now) {
            return None;
        }
        let boundary = self.checkpoints.next_boundary(now);
        let next_log = self.log.get(self.applied).map_or(Time::MAX, |e| e.0);
        boundary
            .min(next_log)
            .checked_sub(1)
            .filter(|&limit| limit >= now)
    }

    /// Takes `world`, a copy of this session's world run on by itself no
    /// further than [`Session::run_ahead_limit`], in place of the world:
    /// the same run, already made. The chart and the rest follow at the
    /// next run.
    pub fn adopt_run_ahead(&mut self, world: World) {
        debug_assert!(world.now() >= self.world.now());
        self.world = world;
    }

    /// Like [`Session::advance`], but stops right after the event that
    /// brings a new narration step (lesson mode). Returns whether it did.
    /// Steps that came at the same moment are shown one per call, without
    /// time moving: none is skipped.
    pub fn advance_to_step(&mut self, dt: Time) -> bool {
        if self.step_waiting() {
            self.sync_steps(true);
            return true;
        }
        self.run_to(self.now().saturating_add(dt), true)
    }

    /// A step was reached (it is in the chart) but not shown yet: lesson
    /// mode shows it before time moves on.
    pub fn step_waiting(&self) -> bool {
        self.steps_seen < self.steps_reached()
    }

    /// How many narration steps the run has reached so far.
    pub fn steps_reached(&self) -> usize {
        self.chart.steps_shown().min(self.scenario.steps.len())
    }

    /// How many of them the user has been shown (see
    /// [`Session::step_waiting`]): the narration panel lets the user go
    /// back and forth among these.
    pub fn steps_seen(&self) -> usize {
        self.steps_seen
    }

    /// Shows step `k` (from 1) in the narration panel: any step reached,
    /// also one not shown yet. Returns whether the step shown changed.
    pub fn show_step(&mut self, k: usize) -> bool {
        let k = k.clamp(1, self.steps_reached().max(1));
        if k > self.steps_reached() || k == self.step_at {
            return false;
        }
        self.steps_seen = self.steps_seen.max(k);
        self.step_at = k;
        true
    }

    /// The moment each step reached came (the chart's narration rows, in
    /// order): step `k` is at index `k - 1`.
    pub fn step_times(&self) -> Vec<Time> {
        self.chart.step_times().to_vec()
    }

    /// After the chart grew (or was rebuilt): the step shown follows the
    /// newest one reached, or with `one_at_a_time` (lesson mode) the next
    /// one not shown yet.
    fn sync_steps(&mut self, one_at_a_time: bool) {
        let reached = self.steps_reached();
        self.steps_seen = self.steps_seen.min(reached);
        self.step_at = self.step_at.min(reached);
        if reached > self.steps_seen {
            self.steps_seen = if one_at_a_time {
                self.steps_seen + 1
            } else {
                reached
            };
            self.step_at = self.steps_seen;
        }
    }

    /// Runs up to and including the next event (or the user's next
    /// intervention in the log), so one click shows one thing happening.
    pub fn step(&mut self) {
        let next = [
            self.world.next_event_time(),
            self.log.get(self.applied).map(|e| e.0),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(t) = next {
            self.run_to(t.max(self.now()), false);
        }
    }

    /// Shows the moment `t`: forward by running (replaying the log), back
    /// by rebuilding from the nearest checkpoint at or before it.
    pub fn seek(&mut self, t: Time) {
        if self.is_recorded() {
            return;
        }
        let trace_len = self.world.trace().len();
        if t < self.now() {
            if self.ahead.as_ref().is_none_or(|a| a.len() < trace_len) {
                self.ahead = Some(self.world.trace().clone());
            }
            let trace = self.world.take_trace();
            self.restore(t, trace);
            return;
        }
        // Forward again over a stretch run before: from the latest
        // checkpoint on the way, with the trace it had then.
        if let Some(trace) = self.ahead_for(t) {
            self.restore(t, trace);
            return;
        }
        self.run_to(t, false);
    }

    /// The trace a jump forward to `t` starts again from: the run left
    /// ahead by a jump back, when it reaches past the checkpoint on the way.
    fn ahead_for(&self, t: Time) -> Option<Trace> {
        let cp = self.checkpoints.at_or_before(t);
        let trace_len = self.world.trace().len();
        self.ahead
            .as_ref()
            .filter(|a| cp.time > self.now() && (trace_len..=a.len()).contains(&cp.trace_len()))
            .cloned()
    }

    /// Starts [`Session::seek`] to `t`: whether it is done, else the
    /// moment lies ahead in a stretch never run, and [`Session::seek_on`]
    /// runs there in slices (the worker sends the events of each on, so
    /// the page takes them in while the rest is computed). The run is the
    /// one `seek` makes, checkpoints and all.
    pub fn seek_start(&mut self, t: Time) -> bool {
        if self.is_recorded() || t <= self.now() || self.ahead_for(t).is_some() {
            self.seek(t);
            return true;
        }
        // As a run in one go does: only the checkpoints that stay at `t`
        // are taken on the way.
        let now = self.world.now();
        let open = self.world.next_event_time() == Some(now);
        self.checkpoints.plan(now, open, t);
        false
    }

    /// Runs on towards `t` (see [`Session::seek_start`]) until `spent()`
    /// says so; whether `t` is reached.
    pub fn seek_on(&mut self, t: Time, spent: &dyn Fn() -> bool) -> bool {
        let stopped = self.run_budgeted(t, false, Some(spent));
        !stopped && self.now() >= t
    }

    /// Shows `t` from the checkpoint at or before it, given `trace`: this
    /// timeline's run, at least as far as the checkpoint's moment.
    fn restore(&mut self, t: Time, trace: Trace) {
        let cp = self.checkpoints.at_or_before(t);
        let (world, chart) = cp.restore(trace);
        self.world = world;
        self.world_id = new_world_id();
        self.applied = cp.applied;
        self.chart = chart.unwrap_or_else(|| ChartBuilder::new(&self.scenario));
        self.run_to(t, false);
        // The replay is the run the world before had made (the same
        // scenario, seed and log): its trace so far is that one's.
        self.kept = self.world.trace().len();
    }

    /// Back to `t`, as [`Session::seek`], and the run past it is
    /// forgotten when no intervention of the log lies there: the page
    /// paused at `t` while ticks of playing ran on, so the user never saw
    /// that part, and acting at `t` changes no past they saw (no fork).
    /// With interventions past `t` (a shared run's) it is a jump back, and
    /// acting there forks as it would after any.
    pub fn rewind(&mut self, t: Time) {
        self.seek(t);
        if !self.is_recorded() && self.now() == t && self.applied == self.log.len() {
            self.horizon = t;
            self.checkpoints.drop_after(t);
            self.ahead = None;
        }
    }

    /// The simulation's worker builds no chart of its own once every
    /// narration step was reached (the page builds the chart it shows):
    /// until then its chart finds the steps (lesson mode stops at them).
    /// A chart left behind is a chart of the trace's beginning, brought up
    /// to date if a jump back needs it again.
    pub fn chart_for_steps_only(&mut self) {
        self.steps_only = true;
    }

    /// Brings the chart up to date with the trace (see
    /// [`Session::chart_for_steps_only`]).
    fn update_chart(&mut self) {
        if !self.steps_only || self.chart.steps_shown() < self.scenario.steps.len() {
            self.chart.update(self.world.trace());
        }
    }

    /// Runs to `t` (not before now), applying the log's interventions at
    /// their times and taking checkpoints on the way. With `stop_at_step`
    /// it stops after the event that shows a new narration step, with
    /// every event of that instant done (so a click there replays the
    /// same). Returns whether it stopped so.
    fn run_to(&mut self, t: Time, stop_at_step: bool) -> bool {
        self.run_budgeted(t, stop_at_step, None)
    }

    /// [`Session::run_to`], stopping early (maybe within an instant) once
    /// `spent()` says so. Then no log entry is applied and no checkpoint
    /// taken until the instant is whole (the next call runs the rest of it
    /// first).
    fn run_budgeted(
        &mut self,
        t: Time,
        stop_at_step: bool,
        spent: Option<&dyn Fn() -> bool>,
    ) -> bool {
        if self.is_recorded() {
            return false;
        }
        let shown = self.chart.steps_shown();
        let mut stopped = false;
        if spent.is_none() && !stop_at_step {
            // Run to `t` whatever it takes: only the checkpoints that stay
            // at `t` are taken on the way.
            let now = self.world.now();
            let open = self.world.next_event_time() == Some(now);
            self.checkpoints.plan(now, open, t);
        }
        loop {
            let now = self.world.now();
            // An instant a spent budget left open is finished first, with
            // its checkpoint if one is due then.
            let open = self.world.next_event_time() == Some(now);
            let boundary = if open && self.checkpoints.is_boundary(now) {
                now
            } else {
                self.checkpoints.next_boundary(now)
            };
            let next_log = self.log.get(self.applied).map_or(Time::MAX, |e| e.0);
            let stop = t.min(boundary).min(next_log).max(now);
            if let Some(spent) = spent {
                let mut n = 0u32;
                while self.world.next_event_time().is_some_and(|e| e <= stop) {
                    self.world.step();
                    n += 1;
                    if n.is_multiple_of(16) && spent() {
                        stopped = true;
                        break;
                    }
                }
                if stopped {
                    break;
                }
            }
            if stop_at_step {
                while let Some(e) = self.world.next_event_time().filter(|&e| e <= stop) {
                    self.world.run_until(e);
                    self.update_chart();
                    if self.chart.steps_shown() > shown {
                        stopped = true;
                        break;
                    }
                }
            }
            if !stopped {
                self.world.run_until(stop);
            }
            while let Some((at, action)) = self.log.get(self.applied)
                && *at <= self.world.now()
            {
                self.world.apply(action.clone());
                self.applied += 1;
                if stop_at_step {
                    self.update_chart();
                    stopped |= self.chart.steps_shown() > shown;
                }
            }
            if self.world.now() == boundary {
                self.update_chart();
                self.checkpoints
                    .add(&mut self.world, self.applied, &self.chart);
            }
            if stopped || self.world.now() >= t {
                break;
            }
        }
        self.update_chart();
        self.horizon = self.horizon.max(self.world.now());
        if self
            .ahead
            .as_ref()
            .is_some_and(|a| a.len() <= self.world.trace().len())
        {
            // Caught up with the run left ahead: nothing of it is needed.
            self.ahead = None;
        }
        self.sync_steps(stop_at_step);
        stopped
    }

    pub fn chart(&self) -> &Chart {
        &self.chart.chart
    }

    /// The narration step the panel shows: (its number from 1, how many
    /// there are, its text). `None` when the scenario has none.
    pub fn narration(&self) -> Option<(usize, usize, &str)> {
        self.stage.narration_at(self.step_at)
    }

    /// Applies a user's intervention now and records it. Viewing the past,
    /// this forks the timeline: the log after now is dropped (with the
    /// checkpoints after it) and the run continues from here.
    pub fn apply(&mut self, action: Intervention) -> Option<Fork> {
        if self.is_recorded() {
            return None;
        }
        // A tick out of budget may have stopped within an instant: the
        // user's change comes after all of it (and its checkpoint), as in a
        // replay.
        self.run_to(self.now(), false);
        let now = self.now();
        let fork = (self.horizon > now || self.log.len() > self.applied).then(|| Fork {
            at: now,
            dropped_until: self.horizon.max(self.log.last().map_or(0, |e| e.0)),
            dropped: self.log.len() - self.applied,
        });
        if fork.is_some() {
            self.log.truncate(self.applied);
            self.checkpoints.drop_after(now);
            self.horizon = now;
        }
        // The log changes: the run a jump back left ahead is not this
        // timeline's any more.
        self.ahead = None;
        self.log.push((now, action.clone()));
        self.applied += 1;
        self.world.apply(action);
        self.update_chart();
        self.sync_steps(false);
        fork
    }

    /// Breaks a link that is up, restores one that is down.
    pub fn toggle_link(&mut self, link: &str) -> Option<Fork> {
        let up = self.world.links().iter().any(|l| l.id == link && l.up);
        let action = if up {
            Intervention::BreakLink {
                link: link.to_string(),
            }
        } else {
            Intervention::RestoreLink {
                link: link.to_string(),
            }
        };
        self.apply(action)
    }

    /// What the trace holds now (see [`TraceStamp`]).
    pub fn stamp(&self) -> TraceStamp {
        TraceStamp {
            world: self.world_id,
            events: self.world.trace().len(),
        }
    }

    /// A NAT box was dropped at `pos`: on a link if one is near, else out of
    /// every path. Returns the link it now sits on, and the fork when this
    /// changed the past.
    pub fn drop_nat(&mut self, nat: &str, pos: [f64; 2]) -> (Option<String>, Option<Fork>) {
        self.move_node(nat, pos);
        let link = self.topo().link_at(pos);
        let fork = self.place_nat(nat, link.clone());
        (link, fork)
    }

    /// Puts NAT `nat` on `link` (`None`: out of every path) unless it is
    /// there already; the fork when this changed the past.
    pub fn place_nat(&mut self, nat: &str, link: Option<String>) -> Option<Fork> {
        let current = self
            .world
            .nats()
            .into_iter()
            .find(|n| n.id == nat)
            .and_then(|n| n.link);
        if current == link {
            return None;
        }
        self.apply(Intervention::PlaceNat {
            nat: nat.to_string(),
            link,
        })
    }

    /// The scenario as it stands on the page, as a file: the nodes where
    /// the user put them and the user's interventions of this timeline as
    /// `[[event]]`s marked `user = true` (each lands after everything else
    /// of its instant, as on the page). Opened again, it runs exactly as
    /// this session did.
    pub fn save_toml(&self) -> Result<String, String> {
        self.saved_scenario().to_toml()
    }

    /// What [`Session::save_toml`] writes, as a value: the editor starts
    /// from it, so the user's interventions become its timeline events.
    pub fn saved_scenario(&self) -> Scenario {
        self.stage.saved_with(&self.log)
    }
}

// The lab: interventions from the drawing's element menus, checked before
// they are applied.
impl Session {
    /// Applies a user's intervention from a menu (see [`Session::apply`])
    /// once the simulator's own check allows it: checked after the
    /// scenario's timeline and the user's interventions so far, as a share
    /// link of the run will check it, so what is applied here also opens
    /// from the link. A NAT put on a link from its menu is drawn on it.
    pub fn intervene(&mut self, action: Intervention) -> Result<Option<Fork>, InterventionError> {
        let mut check = InterventionCheck::with_timeline(&self.scenario);
        for (t, a) in &self.log[..self.applied] {
            // Checked when they were made (or read from a link).
            let _ = check.check_at(*t, a);
        }
        check.check_at(self.now(), &action)?;
        if let Intervention::PlaceNat {
            nat,
            link: Some(link),
        } = &action
        {
            self.draw_nat_on(nat, link);
        }
        Ok(self.apply(action))
    }
}

/// A lesson as a handout: the whole run to the scenario's end (with the
/// user's interventions), its chart as SVG and every narration step with
/// the moment it came (`None`: not reached by then).
#[derive(Clone, Debug, PartialEq)]
pub struct Handout {
    pub title: String,
    pub description: String,
    pub until: Time,
    pub chart_svg: String,
    pub steps: Vec<(Option<Time>, String)>,
}

/// The handout of the run shown (see [`Handout`]), computed apart by a
/// run of its own here: the run shown is not moved.
pub fn handout(shown: &impl Shown) -> Handout {
    let mut run = Session::replay(
        shown.scenario.clone(),
        shown.source.clone(),
        shown.log().to_vec(),
    );
    run.advance(shown.until().max(shown.now()));
    let times = run.step_times();
    let opts = mobike_render::svg::SvgOptions {
        inline: true,
        hide_keepalives: true,
        groups: shown.groups.clone(),
        ..Default::default()
    };
    Handout {
        title: shown.scenario.title.clone(),
        description: shown.scenario.description.clone(),
        until: run.now(),
        chart_svg: mobike_render::svg::render(run.chart(), &opts),
        steps: shown
            .scenario
            .steps
            .iter()
            .enumerate()
            .map(|(i, st)| (times.get(i).copied(), st.text.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_protocol::{MS, SEC};
    use mobike_render::chart::What;

    /// The 20-client cluster, its clients starting at 5 s: on a checkpoint's
    /// moment, so that instant has a checkpoint and twenty events.
    fn cluster() -> Session {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/cluster-20-mobike.toml"
        ))
        .unwrap()
        .replace("start_at = \"100ms\"", "start_at = \"5s\"");
        assert!(text.contains("start_at = \"5s\""));
        Session::from_toml(&text).unwrap()
    }

    /// A budget that runs out every `k`-th time it is asked.
    fn every(k: u32) -> impl Fn() -> bool {
        let n = std::cell::Cell::new(0u32);
        move || {
            n.set(n.get() + 1);
            n.get().is_multiple_of(k)
        }
    }

    /// A tick out of budget may stop within an instant (the 20 clients all
    /// start at 5 s, and all are moved at 10 s): an intervention made
    /// while an instant is open, ticks that stop so, and a replay of the
    /// same timeline all give the run of whole steps, checkpoints included.
    #[test]
    fn ticks_out_of_budget_give_the_run_of_whole_steps() {
        let mut whole = cluster();
        let mut paced = cluster();
        // Stopped within the instant the clients start: the user breaks a
        // link then, which lands after the whole instant.
        while paced.now() < 5 * SEC || paced.world.next_event_time() != Some(paced.now()) {
            paced.advance_within(6 * SEC - paced.now(), &every(1));
        }
        assert_eq!(paced.now(), 5 * SEC);
        whole.advance(paced.now());
        paced.toggle_link("node2");
        whole.toggle_link("node2");
        // Then ticks of 640 ms out of budget every other check, over the
        // move at 10 s; the other run in one step.
        let spent = every(2);
        let mut open = 0;
        while paced.now() < 20 * SEC {
            paced.advance_within((640 * MS).min(20 * SEC - paced.now()), &spent);
            open += usize::from(paced.world.next_event_time() == Some(paced.now()));
        }
        assert!(open > 5, "{open} ticks stopped within an instant");
        whole.advance(20 * SEC - whole.now());
        assert_eq!(paced.world.trace(), whole.world.trace());
        assert_eq!(paced.chart(), whole.chart());
        assert_eq!(paced.checkpoint_times(), whole.checkpoint_times());
        // The same timeline replayed from the start, in whole steps.
        let mut replay = Session::replay(
            paced.scenario.clone(),
            paced.source.clone(),
            paced.log().to_vec(),
        );
        replay.advance(20 * SEC);
        assert_eq!(replay.world.trace(), paced.world.trace());
    }

    fn updates(s: &Session) -> usize {
        s.chart()
            .messages()
            .filter(|m| matches!(&m.what, What::Ike { items, .. } if items.iter().any(|i| i.contains("UPDATE_SA_ADDRESSES"))))
            .count()
    }

    #[test]
    fn every_built_in_example_loads_and_is_in_examples_dir() {
        for (name, text) in EXAMPLES {
            let s = Session::from_toml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!s.scenario.title.is_empty());
        }
        let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "toml")
            })
            .count();
        assert_eq!(
            on_disk,
            EXAMPLES.len(),
            "every file in examples/ is in the picker"
        );
    }

    #[test]
    fn default_scenario_loads_and_runs() {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        s.advance(SEC);
        assert!(s.chart().messages().count() >= 4);
        assert_eq!(updates(&s), 0);
    }

    #[test]
    fn clicking_the_wifi_link_breaks_it_and_the_laptop_moves_early() {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        s.advance(2 * SEC);
        s.toggle_link("wifi");
        assert!(!s.world.links().iter().find(|l| l.id == "wifi").unwrap().up);
        s.advance(9 * SEC);
        assert!(s.now() < 12 * SEC, "before the timeline's own break");
        assert!(updates(&s) >= 1);
        let laptop = &s.world.hosts()[0].sas[0];
        assert_eq!(laptop.local.ip().to_string(), "10.64.0.2");
        s.toggle_link("wifi");
        assert!(s.world.links().iter().find(|l| l.id == "wifi").unwrap().up);
    }

    #[test]
    fn dropping_the_nat_on_the_wifi_path_is_detected_by_the_liveness_check() {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        s.advance(SEC);
        let (_, a, b) = s
            .topo()
            .link_segments()
            .into_iter()
            .find(|l| l.0 == "wifi")
            .unwrap();
        let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0 + 5.0];
        assert_eq!(s.drop_nat("cgn", mid).0, Some("wifi".to_string()));
        s.advance(6 * SEC);
        let laptop = &s.world.hosts()[0].sas[0];
        assert!(
            laptop.local_behind_nat,
            "M-3.8-4: mapping change found, update sent"
        );
        assert!(laptop.udp_encap);
        assert!(updates(&s) >= 1);
        // Dragged far away: out of every path.
        assert_eq!(s.drop_nat("cgn", [700.0, 20.0]).0, None);
        assert_eq!(s.world.nats()[0].link, None);
    }

    #[test]
    fn reset_keeps_layout_and_restarts_time() {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        s.move_node("laptop", [10.0, 10.0]);
        s.advance(3 * SEC);
        s.reset();
        assert_eq!(s.now(), 0);
        assert_eq!(s.layout["laptop"], [10.0, 10.0]);
        assert_eq!(s.chart().rows.len(), 0);
    }

    /// A run with the user's clicks and a NAT drop at various moments.
    fn recorded() -> Session {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        s.advance(2 * SEC + 123_456);
        s.toggle_link("wifi");
        s.advance(3 * SEC);
        let (_, a, b) = s
            .topo()
            .link_segments()
            .into_iter()
            .find(|l| l.0 == "wifi")
            .unwrap();
        let placed = s.drop_nat("cgn", [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0 + 5.0]);
        assert_eq!(placed, (Some("wifi".to_string()), None));
        s.step();
        s.advance(4 * SEC);
        s.toggle_link("wifi");
        s.advance(9 * SEC + 777);
        s
    }

    #[test]
    fn replaying_scenario_seed_and_log_gives_the_identical_trace() {
        let a = recorded();
        assert!(a.log().len() >= 3, "{:?}", a.log());
        let mut b = Session::replay(a.scenario.clone(), a.source.clone(), a.log().to_vec());
        b.seek(a.now());
        assert_eq!(b.now(), a.now());
        assert!(a.world.trace() == b.world.trace(), "same trace");
        assert_eq!(a.chart(), b.chart());
        // The interventions are in the trace, marked as the user's.
        assert!(
            a.chart()
                .rows
                .iter()
                .any(|r| matches!(r, mobike_render::chart::Row::Note(n) if n.text.contains("(by you)") || n.text.contains("break link")))
        );
    }

    #[test]
    fn a_saved_session_opens_as_the_same_run_with_the_nodes_where_they_were() {
        let mut a = recorded();
        a.move_node("laptop", [150.0, 90.0]);
        let text = a.save_toml().unwrap();
        assert!(text.contains("user = true"), "{text}");
        let mut b = Session::from_toml(&text).unwrap();
        assert!(b.log().is_empty(), "the interventions are in the file now");
        b.seek(a.now());
        assert!(a.world.trace() == b.world.trace(), "same trace");
        assert_eq!(a.chart(), b.chart());
        assert_eq!(b.layout["laptop"], [150.0, 90.0]);
        assert_eq!(b.layout["cgn"], a.layout["cgn"]);
        // A moved group box moves its members.
        let text = EXAMPLES
            .iter()
            .find(|(n, _)| *n == "cluster-20-mobike")
            .unwrap()
            .1;
        let mut c = Session::from_toml(text).unwrap();
        let key = c.groups[0].key.clone();
        let at = c.layout[&key];
        c.move_node(&key, [at[0] + 30.0, at[1] + 10.0]);
        let d = Session::from_toml(&c.save_toml().unwrap()).unwrap();
        assert_eq!(d.groups.len(), 1);
        let moved = d.layout[&key];
        assert!(
            (moved[0] - (at[0] + 30.0)).abs() < 1e-9 && (moved[1] - (at[1] + 10.0)).abs() < 1e-9,
            "{at:?} moved to {moved:?}"
        );
    }

    #[test]
    fn jumping_back_and_forth_gives_the_chart_of_a_straight_run() {
        let mut a = recorded();
        let end = a.now();
        for t in [
            7 * SEC,
            13 * SEC + 300_000,
            3 * SEC,
            2 * SEC + 123_456,
            0,
            end - 1,
            end,
        ] {
            a.seek(t);
            assert_eq!(a.now(), t);
            let mut straight =
                Session::replay(a.scenario.clone(), a.source.clone(), a.log().to_vec());
            straight.advance(t);
            assert_eq!(a.chart(), straight.chart(), "at {t}");
            assert!(a.world.trace() == straight.world.trace(), "at {t}");
            assert_eq!(
                a.world.hosts(),
                straight.world.hosts(),
                "state panels at {t}"
            );
            assert_eq!(a.world.nats(), straight.world.nats(), "NAT tables at {t}");
        }
        // Forward past the end runs the simulation.
        a.seek(end + 5 * SEC);
        assert_eq!(a.now(), end + 5 * SEC);
        assert_eq!(a.horizon(), end + 5 * SEC);
    }

    /// A rewind forgets the run past its moment when no intervention lies
    /// there: acting then forks nothing, and the run goes on as a
    /// straight one. With interventions past it, it is a jump back.
    #[test]
    fn a_rewind_forgets_the_unseen_run_unless_the_log_lies_past_it() {
        let mut a = recorded();
        let end = a.now();
        let t = end - 2 * SEC;
        a.rewind(t);
        assert_eq!((a.now(), a.horizon()), (t, t));
        assert!(a.checkpoint_times().iter().all(|&c| c <= t));
        assert_eq!(a.toggle_link("lte"), None, "no past the user saw changes");
        a.advance(3 * SEC);
        let mut straight = Session::replay(a.scenario.clone(), a.source.clone(), a.log().to_vec());
        straight.advance(a.now());
        assert!(a.world.trace() == straight.world.trace());
        assert_eq!(a.chart(), straight.chart());
        // Interventions past the moment: they stay, and so does the run.
        let mut b = recorded();
        let first = b.log()[0].0;
        b.rewind(first + SEC);
        assert_eq!(b.now(), first + SEC);
        assert_eq!(b.horizon(), end, "the future is still known");
        assert!(b.toggle_link("lte").is_some(), "acting there forks");
    }

    #[test]
    fn an_intervention_in_the_past_forks_the_timeline() {
        let mut a = recorded();
        let end = a.now();
        let before = a.chart().clone();
        let n = a.log().len();
        let first = a.log()[0].0;
        a.seek(first + SEC);
        assert_eq!(a.horizon(), end, "the future is still known");
        let fork = a.toggle_link("lte").expect("a fork");
        assert_eq!(fork.at, first + SEC);
        assert_eq!(fork.dropped, n - 1);
        assert_eq!(fork.dropped_until, end);
        assert_eq!(a.log().len(), 2);
        assert_eq!(
            a.log()[1],
            (first + SEC, Intervention::BreakLink { link: "lte".into() })
        );
        assert!(a.checkpoint_times().iter().all(|&t| t <= first + SEC));
        assert_eq!(a.horizon(), first + SEC);
        a.seek(end);
        assert_ne!(a.chart(), &before, "later rows differ");
        // The new timeline replays like any other.
        let mut b = Session::replay(a.scenario.clone(), a.source.clone(), a.log().to_vec());
        b.seek(end);
        assert!(a.world.trace() == b.world.trace());
        // At the present, an intervention is no fork.
        assert_eq!(a.toggle_link("lte"), None);
    }

    #[test]
    fn playing_while_viewing_the_past_replays_the_users_interventions() {
        let mut a = recorded();
        let end = a.now();
        let rows = a.chart().rows.len();
        a.seek(SEC);
        while a.now() < end {
            a.advance(40 * 1000 * 16);
        }
        a.seek(end);
        assert_eq!(a.chart().rows.len(), rows);
    }

    #[test]
    fn every_kind_of_intervention_from_a_menu_is_checked_logged_and_replayed() {
        use mobike_sim::vocab::nat::NatChanges;
        use mobike_sim::{Direction, HintKind, MoveBy, NatPreset};
        let ip = |a: &str| a.parse::<std::net::IpAddr>().unwrap();
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        let actions = [
            Intervention::SetLinkDirection {
                link: "wifi".into(),
                direction: Direction::Down,
                up: false,
            },
            Intervention::RestoreLink {
                link: "wifi".into(),
            },
            Intervention::SetLink {
                link: "lte".into(),
                delay: Some(mobike_sim::duration::Dur(50_000)),
                jitter: None,
                loss: Some(0.2),
                duplicate: Some(0.1),
            },
            Intervention::AddAddress {
                host: "laptop".into(),
                interface: "wlan0".into(),
                address: ip("192.0.2.110"),
                announce: false,
            },
            Intervention::RemoveAddress {
                host: "laptop".into(),
                interface: "wlan0".into(),
                address: Some(ip("192.0.2.110")),
                announce: true,
            },
            Intervention::SetInterface {
                host: "laptop".into(),
                interface: "wlan0".into(),
                up: false,
            },
            Intervention::RebootNat { nat: "cgn".into() },
            Intervention::ChangeNatAddress {
                nat: "cgn".into(),
                address: ip("198.51.100.101"),
            },
            Intervention::ConfigureNat {
                nat: "cgn".into(),
                changes: NatChanges {
                    preset: Some(NatPreset::Symmetric),
                    ..NatChanges::default()
                },
            },
            Intervention::PlaceNat {
                nat: "cgn".into(),
                link: Some("wifi".into()),
            },
            Intervention::Hint {
                host: "laptop".into(),
                kind: HintKind::NatChanged,
            },
        ];
        for a in actions {
            s.advance(SEC);
            assert_eq!(s.intervene(a.clone()), Ok(None), "{a}");
        }
        // On its menu, the NAT box is drawn on the link it was put on.
        assert!(s.topo().link_at(s.layout["cgn"]).as_deref() == Some("wifi"));
        // Refused: nothing is logged, nothing changes.
        let events = s.world.trace().len();
        let taken = Intervention::ChangeNatAddress {
            nat: "cgn".into(),
            address: ip("192.0.2.10"),
        };
        assert!(s.intervene(taken).is_err());
        assert_eq!((s.log().len(), s.world.trace().len()), (11, events));
        s.advance(5 * SEC);
        let link = crate::share::encode(&s);
        let b = crate::share::decode(&link).unwrap().unwrap().into_session();
        assert!(s.world.trace() == b.world.trace(), "the link replays it");
        let by_you = s
            .chart()
            .rows
            .iter()
            .filter(
                |r| matches!(r, mobike_render::chart::Row::Note(n) if n.text.ends_with("(by you)")),
            )
            .count();
        assert_eq!(by_you, 11);

        // The cluster's balancer and the attacker.
        let text = |n: &str| EXAMPLES.iter().find(|(x, _)| *x == n).unwrap().1;
        let mut c = Session::from_toml(text("cluster-20-mobike")).unwrap();
        c.advance(5 * SEC);
        let cluster = c
            .scenario
            .hosts
            .iter()
            .find(|h| h.interfaces.len() > 1)
            .unwrap();
        let (id, to) = (cluster.id.clone(), cluster.interfaces[1].address);
        let go = Intervention::MoveClients {
            host: id.clone(),
            to,
            by: MoveBy::Redirect,
            count: Some(3),
            from: None,
        };
        assert_eq!(c.intervene(go), Ok(None));
        let nowhere = Intervention::MoveClients {
            host: id,
            to: ip("192.0.2.250"),
            by: MoveBy::Mobike,
            count: None,
            from: None,
        };
        assert!(c.intervene(nowhere).is_err());
        let mut a = Session::from_toml(text("attacker-spoofed-update")).unwrap();
        a.advance(3 * SEC);
        let spoof = Intervention::SpoofUpdate {
            attacker: "mallory".into(),
            target: "gateway".into(),
            replay: false,
        };
        assert_eq!(a.intervene(spoof), Ok(None));
        assert!(a.chart().rows.iter().any(|r| matches!(r, mobike_render::chart::Row::Note(n) if n.text.contains("forged UPDATE_SA_ADDRESSES") && n.text.ends_with("(by you)"))));
    }

    #[test]
    fn checkpoints_stay_few_in_a_long_run() {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        s.advance(20 * 60 * SEC);
        let times = s.checkpoint_times();
        assert!(times.len() <= crate::timeline::MAX_CHECKPOINTS, "{times:?}");
        assert_eq!(times[0], 0);
        assert!(times.windows(2).all(|w| w[0] < w[1]));
        s.seek(10 * 60 * SEC + 1);
        assert_eq!(s.now(), 10 * 60 * SEC + 1);
    }

    /// A run to a moment in one go (a jump forward) copies the world only
    /// where the checkpoints stay, and holds the same checkpoints as a run
    /// in small steps (also after a fork dropped those past it).
    #[test]
    fn a_jump_forward_copies_the_world_only_where_checkpoints_stay() {
        let never = || false;
        let mut jump = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        let mut steps = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        let mut small = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        let to = |s: &mut Session, t: Time, by_steps: bool| {
            if by_steps {
                while s.now() < t {
                    s.advance_within((7 * SEC).min(t - s.now()), &never);
                }
            } else {
                s.seek(t);
            }
        };
        to(&mut jump, 20 * 60 * SEC, false);
        to(&mut steps, 20 * 60 * SEC, true);
        while small.now() < 20 * 60 * SEC {
            small.advance(3 * SEC);
        }
        let times = jump.checkpoint_times();
        assert!((8..=crate::timeline::MAX_CHECKPOINTS).contains(&times.len()));
        assert_eq!(steps.checkpoint_times(), times);
        assert_eq!(small.checkpoint_times(), times);
        assert_eq!(jump.world.trace(), steps.world.trace());
        // Only the checkpoints that stay were copies (the first was made
        // with the session); the run in steps took one at every boundary.
        assert_eq!(jump.checkpoint_copies(), times.len());
        assert!(
            steps.checkpoint_copies() > 2 * times.len(),
            "{}",
            steps.checkpoint_copies()
        );
        // A fork at 61 s, then on to 40 min.
        for s in [&mut jump, &mut steps] {
            s.seek(61 * SEC);
            s.toggle_link("wifi");
        }
        let forked = jump.checkpoint_times();
        assert_eq!(steps.checkpoint_times(), forked);
        to(&mut jump, 40 * 60 * SEC, false);
        to(&mut steps, 40 * 60 * SEC, true);
        assert_eq!(jump.checkpoint_times(), steps.checkpoint_times());
        assert_eq!(jump.world.trace(), steps.world.trace());
        // Planned to the end of time, the spacing saturates: it ends, and
        // the first checkpoint stays.
        jump.checkpoints.plan(jump.now(), false, Time::MAX);
        assert_eq!(jump.checkpoint_times()[0], 0);
    }

    #[test]
    fn lesson_mode_stops_at_each_narration_step() {
        let text = EXAMPLES
            .iter()
            .find(|(n, _)| *n == "attacker-spoofed-update")
            .unwrap()
            .1;
        let mut s = Session::from_toml(text).unwrap();
        let n = s.scenario.steps.len();
        assert_eq!(s.narration(), Some((0, n, "")));
        let mut shown = 0;
        let mut guard = 0;
        while shown < n && guard < 10_000 {
            guard += 1;
            if s.advance_to_step(SEC) {
                let (k, total, text) = s.narration().unwrap();
                assert_eq!(total, n);
                assert_eq!(k, shown + 1, "one step at a time");
                assert_eq!(text, s.scenario.steps[k - 1].text);
                shown = k;
            }
        }
        assert_eq!(shown, n, "every step was reached");
        // Stopping at steps changes nothing: same chart as a straight run.
        let mut straight = Session::from_toml(text).unwrap();
        straight.advance(s.now());
        assert_eq!(s.chart(), straight.chart());
    }

    /// Three of its steps (2, 3 and 4) come at the same moment.
    const SAME_MOMENT: &str = include_str!("../tests/scenarios/same-moment-steps.toml");

    #[test]
    fn steps_at_the_same_moment_are_each_shown_in_lesson_mode() {
        let mut s = Session::from_toml(SAME_MOMENT).unwrap();
        assert_eq!(s.scenario.steps.len(), 4);
        let mut seen = Vec::new();
        let mut guard = 0;
        while seen.len() < 4 && guard < 10_000 {
            guard += 1;
            if s.advance_to_step(100 * mobike_protocol::MS) {
                let (k, n, text) = s.narration().unwrap();
                assert_eq!((k, n), (seen.len() + 1, 4), "one step at a time");
                assert_eq!(text, s.scenario.steps[k - 1].text);
                seen.push((k, s.now()));
            }
        }
        assert_eq!(seen.iter().map(|x| x.0).collect::<Vec<_>>(), [1, 2, 3, 4]);
        // Steps 2 to 4 came at one moment: the stops at 3 and 4 moved no
        // time.
        assert_eq!(seen[0].1, 108 * mobike_protocol::MS);
        assert_eq!([seen[1].1, seen[2].1, seen[3].1], [4 * SEC; 3]);
        assert_eq!(
            s.step_times(),
            [108 * mobike_protocol::MS, 4 * SEC, 4 * SEC, 4 * SEC]
        );
        // As the chart's narration rows say.
        assert_eq!(s.step_times(), step_times(&s.chart.chart));
    }

    #[test]
    fn played_through_the_narration_keeps_every_step_reached() {
        let mut s = Session::from_toml(SAME_MOMENT).unwrap();
        s.advance(4 * SEC + 1000);
        // The steps of that moment were all reached; the panel shows the
        // newest and can go back to each one before.
        assert_eq!((s.steps_reached(), s.steps_seen()), (4, 4));
        assert_eq!(s.narration().unwrap().0, 4);
        assert!(s.show_step(2));
        assert_eq!(
            s.narration().unwrap(),
            (2, 4, s.scenario.steps[1].text.as_str())
        );
        // Not past the steps reached, not before the first.
        assert!(s.show_step(9));
        assert_eq!(s.narration().unwrap().0, 4);
        assert!(s.show_step(0));
        assert_eq!(s.narration().unwrap().0, 1);
        // Going back in time shows a step that had been reached then.
        s.seek(SEC / 2);
        assert_eq!(s.steps_reached(), s.narration().unwrap().0);
        // And the chart is that of a straight run.
        let mut straight = Session::from_toml(SAME_MOMENT).unwrap();
        straight.advance(SEC / 2);
        assert_eq!(s.chart(), straight.chart());
    }

    #[test]
    fn the_handout_has_the_whole_chart_and_every_step_with_its_time() {
        let mut s = Session::from_toml(SAME_MOMENT).unwrap();
        s.advance(SEC);
        let h = handout(&s);
        assert_eq!(s.now(), SEC, "the session shown stays where it was");
        assert_eq!(h.until, 15 * SEC);
        assert!(h.chart_svg.starts_with("<svg"), "{}", &h.chart_svg[..40]);
        assert!(h.chart_svg.contains("UPDATE_SA_ADDRESSES"));
        let times: Vec<Option<Time>> = h.steps.iter().map(|x| x.0).collect();
        let ms = mobike_protocol::MS;
        assert_eq!(
            times,
            [Some(108 * ms), Some(4 * SEC), Some(4 * SEC), Some(4 * SEC)]
        );
        assert!(h.steps[2].1.starts_with("Step three"));
    }

    #[test]
    fn hosts_with_count_are_one_group() {
        let text = EXAMPLES
            .iter()
            .find(|(n, _)| *n == "cluster-20-mobike")
            .unwrap()
            .1;
        let s = Session::from_toml(text).unwrap();
        assert_eq!(s.groups.len(), 1);
        assert_eq!(s.groups[0].members.len(), 20);
        assert!(s.layout.contains_key("group:client"));
        assert!(
            Session::from_toml(DEFAULT_SCENARIO)
                .unwrap()
                .groups
                .is_empty()
        );
    }

    #[test]
    fn the_stamp_changes_with_the_trace_and_only_then() {
        let mut s = Session::from_toml(DEFAULT_SCENARIO).unwrap();
        let start = s.stamp();
        s.move_node("laptop", [100.0, 100.0]);
        assert_eq!(s.stamp(), start, "moving a box changes no event");
        s.advance(3 * SEC);
        let later = s.stamp();
        assert_ne!(later, start);
        // Back and forth again: another world, so another stamp, even
        // where the number of events is the same.
        s.seek(SEC);
        s.seek(3 * SEC);
        assert_ne!(s.stamp(), later);
        assert_eq!(s.world.trace().len(), later.events);
        // Another session never shares a stamp.
        assert_ne!(Session::from_toml(DEFAULT_SCENARIO).unwrap().stamp(), start);
    }
}
