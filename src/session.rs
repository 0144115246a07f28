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
use mobike_render::topology::nearest_segment;
use mobike_render::{Chart, ChartBuilder};
use mobike_sim::{Intervention, Scenario, World};
use std::collections::BTreeMap;

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

/// How close (in drawing units) a dropped NAT box must be to a link to be
/// put on it.
pub const DROP_DISTANCE: f64 = 28.0;
/// Half the width of a host box in the topology drawing.
pub const HOST_HALF_WIDTH: f64 = 88.0;

/// Half the width of this host's box: wider than [`HOST_HALF_WIDTH`] when an
/// interface's label and address need it (11 px monospace, 6.7 px a
/// character, room for the dot).
pub fn host_half_width(h: &mobike_sim::scenario::HostSpec) -> f64 {
    let longest = h
        .interfaces
        .iter()
        .map(|f| {
            let name = if f.label.is_empty() {
                &f.name
            } else {
                &f.label
            };
            name.chars().count() + 1 + f.address.to_string().len()
        })
        .max()
        .unwrap_or(0);
    (longest as f64 * 6.7 / 2.0 + 14.0).clamp(HOST_HALF_WIDTH, 160.0)
}
/// Vertical distance between a host's interfaces.
pub const INTERFACE_GAP: f64 = 30.0;
/// Size of the topology drawing (its viewBox).
pub const TOPO_W: f64 = 720.0;
pub const TOPO_H: f64 = 330.0;

/// Where the running scenario came from: a share link names a built-in
/// example, and carries the whole text of any other.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A built-in example, by its file name (see [`EXAMPLES`]).
    Example(String),
    /// A scenario opened from a file (or a share link that carried it).
    File(String),
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

/// Hosts made from one scenario entry with `count` ("client-1" …
/// "client-20"): drawn as one box with a grid of small chips.
#[derive(Clone, Debug, PartialEq)]
pub struct HostGroup {
    /// Its key in the layout: "group:<id>".
    pub key: String,
    /// The entry's id ("client").
    pub id: String,
    /// The entry's label ("Client").
    pub label: String,
    /// Indices into `scenario.hosts`, in order.
    pub members: Vec<usize>,
}

/// Geometry of a host group's box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupBox {
    pub centre: [f64; 2],
    pub width: f64,
    pub height: f64,
    /// Chips per row; 0 when the group is too large for chips.
    pub cols: usize,
}

/// A group with more members than this is drawn as one box with counts.
pub const GROUP_MAX_CHIPS: usize = 60;
pub const CHIP_W: f64 = 34.0;
pub const CHIP_H: f64 = 20.0;
const CHIP_GAP: f64 = 4.0;
const GROUP_HEAD: f64 = 36.0;

/// Finds the groups `count` made: consecutive hosts "<id>-1" … "<id>-<n>"
/// labelled "<label> 1" … with the expansion's positions (columns of ten,
/// 36 by 26 apart).
fn find_groups(scenario: &Scenario) -> Vec<HostGroup> {
    let hosts = &scenario.hosts;
    let mut groups = Vec::new();
    let mut i = 0;
    while i < hosts.len() {
        let Some(prefix) = hosts[i].id.strip_suffix("-1") else {
            i += 1;
            continue;
        };
        let label = hosts[i].label.strip_suffix(" 1").unwrap_or(prefix);
        let base = hosts[i].pos;
        let mut members = vec![i];
        for (k, h) in hosts.iter().enumerate().skip(i + 1) {
            let n = members.len();
            let pos = [
                base[0] + (n / 10) as f64 * 36.0,
                base[1] + (n % 10) as f64 * 26.0,
            ];
            if h.id != format!("{prefix}-{}", n + 1) || h.pos != pos {
                break;
            }
            members.push(k);
        }
        let n = members.len();
        if n >= 2 {
            groups.push(HostGroup {
                key: format!("group:{prefix}"),
                id: prefix.to_string(),
                label: label.to_string(),
                members,
            });
        }
        i += n;
    }
    groups
}

/// The scenario's host, NAT and internet positions, and each group's box
/// centred on its members (kept inside the drawing).
fn initial_layout(scenario: &Scenario, groups: &[HostGroup]) -> BTreeMap<String, [f64; 2]> {
    let mut layout = BTreeMap::new();
    layout.insert("internet".to_string(), scenario.internet.pos);
    for h in &scenario.hosts {
        // The whole box inside the drawing.
        let half = (44.0 + INTERFACE_GAP * h.interfaces.len().max(1) as f64) / 2.0;
        let pos = [
            h.pos[0].clamp(host_half_width(h) + 2.0, TOPO_W - host_half_width(h) - 2.0),
            h.pos[1].clamp(half + 2.0, TOPO_H - half - 2.0),
        ];
        layout.insert(h.id.clone(), pos);
    }
    for n in &scenario.nats {
        layout.insert(n.id.clone(), n.pos);
    }
    for g in groups {
        let n = g.members.len() as f64;
        let mut c = [0.0, 0.0];
        for &m in &g.members {
            c[0] += scenario.hosts[m].pos[0] / n;
            c[1] += scenario.hosts[m].pos[1] / n;
        }
        let b = group_size(g.members.len());
        c[0] = c[0].clamp(b.0 / 2.0 + 4.0, (TOPO_W - b.0 / 2.0 - 4.0).max(b.0 / 2.0));
        c[1] = c[1].clamp(b.1 / 2.0 + 4.0, (TOPO_H - b.1 / 2.0 - 4.0).max(b.1 / 2.0));
        layout.insert(g.key.clone(), c);
    }
    layout
}

/// Width, height and chips per row of a group's box.
fn group_size(n: usize) -> (f64, f64, usize) {
    if n > GROUP_MAX_CHIPS {
        return (2.0 * HOST_HALF_WIDTH, 76.0, 0);
    }
    let cols = ((n as f64).sqrt().ceil() as usize).clamp(1, 8);
    let rows = n.div_ceil(cols);
    let w = (cols as f64 * (CHIP_W + CHIP_GAP) + 16.0).max(2.0 * HOST_HALF_WIDTH);
    let h = GROUP_HEAD + rows as f64 * (CHIP_H + CHIP_GAP) + 8.0;
    (w, h, cols)
}

pub struct Session {
    pub scenario: Scenario,
    pub source: Source,
    pub world: World,
    chart: ChartBuilder,
    /// Where each node is drawn: host ids, NAT ids, "internet" and host
    /// groups ("group:<id>").
    pub layout: BTreeMap<String, [f64; 2]>,
    pub groups: Vec<HostGroup>,
    /// The user's interventions in this timeline, in time order.
    log: Vec<(Time, Intervention)>,
    /// How many of them the world has applied.
    applied: usize,
    checkpoints: Checkpoints,
    /// How far this timeline has run.
    horizon: Time,
}

impl Session {
    pub fn new(scenario: Scenario, source: Source) -> Session {
        let groups = find_groups(&scenario);
        let layout = initial_layout(&scenario, &groups);
        let world = World::new(&scenario);
        Session {
            checkpoints: Checkpoints::new(&world),
            world,
            chart: ChartBuilder::new(&scenario),
            scenario,
            source,
            layout,
            groups,
            log: Vec::new(),
            applied: 0,
            horizon: 0,
        }
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
        let layout = std::mem::take(&mut self.layout);
        *self = Session::new(self.scenario.clone(), self.source.clone());
        self.layout = layout;
    }

    /// Starts over with another seed (every random draw changes), without
    /// the user's interventions; the layout stays.
    pub fn set_seed(&mut self, seed: u64) {
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

    /// Runs the world forward by `dt` of virtual time.
    pub fn advance(&mut self, dt: Time) {
        self.run_to(self.now().saturating_add(dt), false);
    }

    /// Like [`Session::advance`], but stops right after the event that
    /// brings a new narration step (lesson mode). Returns whether it did.
    pub fn advance_to_step(&mut self, dt: Time) -> bool {
        self.run_to(self.now().saturating_add(dt), true)
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
        if t < self.now() {
            let cp = self.checkpoints.at_or_before(t);
            self.world = cp.world.clone();
            self.applied = cp.applied;
            self.chart = ChartBuilder::new(&self.scenario);
        }
        self.run_to(t, false);
    }

    /// Runs to `t` (not before now), applying the log's interventions at
    /// their times and taking checkpoints on the way. With `stop_at_step`
    /// it stops after the event that shows a new narration step, with
    /// every event of that instant done (so a click there replays the
    /// same). Returns whether it stopped so.
    fn run_to(&mut self, t: Time, stop_at_step: bool) -> bool {
        let shown = self.chart.steps_shown();
        let mut stopped = false;
        loop {
            let now = self.world.now();
            let boundary = self.checkpoints.next_boundary(now);
            let next_log = self.log.get(self.applied).map_or(Time::MAX, |e| e.0);
            let stop = t.min(boundary).min(next_log).max(now);
            if stop_at_step {
                while let Some(e) = self.world.next_event_time().filter(|&e| e <= stop) {
                    self.world.run_until(e);
                    self.chart.update(self.world.trace());
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
                    self.chart.update(self.world.trace());
                    stopped |= self.chart.steps_shown() > shown;
                }
            }
            if self.world.now() == boundary {
                self.checkpoints.add(&self.world, self.applied);
            }
            if stopped || self.world.now() >= t {
                break;
            }
        }
        self.chart.update(self.world.trace());
        self.horizon = self.horizon.max(self.world.now());
        stopped
    }

    pub fn chart(&self) -> &Chart {
        &self.chart.chart
    }

    /// The narration step shown last: (its number from 1, how many there
    /// are, its text). `None` when the scenario has none.
    pub fn narration(&self) -> Option<(usize, usize, &str)> {
        let n = self.scenario.steps.len();
        if n == 0 {
            return None;
        }
        let k = self.chart.steps_shown().min(n);
        let text = k
            .checked_sub(1)
            .and_then(|i| self.scenario.steps.get(i))
            .map_or("", |s| s.text.as_str());
        Some((k, n, text))
    }

    /// Applies a user's intervention now and records it. Viewing the past,
    /// this forks the timeline: the log after now is dropped (with the
    /// checkpoints after it) and the run continues from here.
    pub fn apply(&mut self, action: Intervention) -> Option<Fork> {
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
        self.log.push((now, action.clone()));
        self.applied += 1;
        self.world.apply(action);
        self.chart.update(self.world.trace());
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

    /// The group a host belongs to.
    pub fn group_of(&self, host: usize) -> Option<&HostGroup> {
        self.groups.iter().find(|g| g.members.contains(&host))
    }

    /// Where a group's box is and how it is divided.
    pub fn group_box(&self, g: &HostGroup) -> GroupBox {
        let (width, height, cols) = group_size(g.members.len());
        let first = g.members.first().and_then(|&m| self.scenario.hosts.get(m));
        let centre = self
            .layout
            .get(&g.key)
            .copied()
            .or(first.map(|h| h.pos))
            .unwrap_or([0.0, 0.0]);
        GroupBox {
            centre,
            width,
            height,
            cols,
        }
    }

    /// Top-left corner of the `k`-th member's chip in its group's box.
    pub fn chip_pos(&self, b: &GroupBox, k: usize) -> [f64; 2] {
        let cols = b.cols.max(1);
        let left = b.centre[0] - b.width / 2.0;
        let inner = cols as f64 * (CHIP_W + CHIP_GAP) - CHIP_GAP;
        let x0 = left + (b.width - inner) / 2.0;
        let y0 = b.centre[1] - b.height / 2.0 + GROUP_HEAD;
        [
            x0 + (k % cols) as f64 * (CHIP_W + CHIP_GAP),
            y0 + (k / cols) as f64 * (CHIP_H + CHIP_GAP),
        ]
    }

    /// Where a link's line starts: its interface's dot on the edge of the
    /// host box (or group box) that faces the internet.
    pub fn link_anchor(&self, link: &str) -> Option<[f64; 2]> {
        let inet = self
            .layout
            .get("internet")
            .copied()
            .unwrap_or(self.scenario.internet.pos);
        for (k, h) in self.scenario.hosts.iter().enumerate() {
            let n = h.interfaces.len() as f64;
            for (i, f) in h.interfaces.iter().enumerate() {
                if f.link == link {
                    let offset = (i as f64 - (n - 1.0) / 2.0) * INTERFACE_GAP;
                    if let Some(g) = self.group_of(k) {
                        let b = self.group_box(g);
                        let p = b.centre;
                        let side = if inet[0] >= p[0] { 1.0 } else { -1.0 };
                        return Some([p[0] + side * b.width / 2.0, p[1] + offset]);
                    }
                    let p = self.layout.get(&h.id).copied().unwrap_or(h.pos);
                    let side = if inet[0] >= p[0] { 1.0 } else { -1.0 };
                    // Interfaces fan out vertically below the host's name.
                    return Some([p[0] + side * host_half_width(h), p[1] + 10.0 + offset]);
                }
            }
        }
        None
    }

    /// Each link as a straight segment from its host to the internet.
    pub fn link_segments(&self) -> Vec<(String, [f64; 2], [f64; 2])> {
        let inet = self
            .layout
            .get("internet")
            .copied()
            .unwrap_or(self.scenario.internet.pos);
        self.scenario
            .links
            .iter()
            .filter_map(|l| self.link_anchor(&l.id).map(|a| (l.id.clone(), a, inet)))
            .collect()
    }

    pub fn move_node(&mut self, id: &str, pos: [f64; 2]) {
        if let Some(p) = self.layout.get_mut(id) {
            *p = pos;
        }
    }

    /// A NAT box was dropped at `pos`: on a link if one is near, else out of
    /// every path. Returns the link it now sits on, and the fork when this
    /// changed the past.
    pub fn drop_nat(&mut self, nat: &str, pos: [f64; 2]) -> (Option<String>, Option<Fork>) {
        self.move_node(nat, pos);
        let segs = self.link_segments();
        let pairs: Vec<([f64; 2], [f64; 2])> = segs.iter().map(|(_, a, b)| (*a, *b)).collect();
        let link = nearest_segment(pos, &pairs, DROP_DISTANCE).map(|i| segs[i].0.clone());
        let current = self
            .world
            .nats()
            .into_iter()
            .find(|n| n.id == nat)
            .and_then(|n| n.link);
        let mut fork = None;
        if current != link {
            fork = self.apply(Intervention::PlaceNat {
                nat: nat.to_string(),
                link: link.clone(),
            });
        }
        (link, fork)
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use mobike_protocol::SEC;
    use mobike_render::chart::What;

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

    #[test]
    fn hosts_with_count_are_one_group_drawn_as_a_grid() {
        let text = EXAMPLES
            .iter()
            .find(|(n, _)| *n == "cluster-20-mobike")
            .unwrap()
            .1;
        let s = Session::from_toml(text).unwrap();
        assert_eq!(s.groups.len(), 1);
        let g = &s.groups[0];
        assert_eq!(
            (g.id.as_str(), g.label.as_str(), g.members.len()),
            ("client", "Client", 20)
        );
        let b = s.group_box(g);
        assert!(b.cols >= 4 && b.cols <= 6, "{b:?}");
        // Inside the drawing.
        assert!(b.centre[0] - b.width / 2.0 >= 0.0 && b.centre[0] + b.width / 2.0 <= TOPO_W);
        assert!(b.centre[1] - b.height / 2.0 >= 0.0 && b.centre[1] + b.height / 2.0 <= TOPO_H);
        // Chips do not overlap and stay in the box.
        let chips: Vec<[f64; 2]> = (0..20).map(|k| s.chip_pos(&b, k)).collect();
        for (i, p) in chips.iter().enumerate() {
            assert!(
                p[0] >= b.centre[0] - b.width / 2.0 && p[0] + CHIP_W <= b.centre[0] + b.width / 2.0
            );
            assert!(p[1] + CHIP_H <= b.centre[1] + b.height / 2.0, "chip {i}");
            for q in &chips[..i] {
                assert!((p[0] - q[0]).abs() >= CHIP_W || (p[1] - q[1]).abs() >= CHIP_H);
            }
        }
        // The shared access link starts at the group's edge.
        let a = s.link_anchor("access").unwrap();
        assert_eq!(a[0], b.centre[0] + b.width / 2.0);
        // A scenario without count has no groups.
        assert!(
            Session::from_toml(DEFAULT_SCENARIO)
                .unwrap()
                .groups
                .is_empty()
        );
    }
}
