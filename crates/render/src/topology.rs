//! Geometry of the topology drawing: the drawing's size, host boxes, host
//! groups (hosts made with `count`) with their grid of chips, where each
//! link's line starts, which link a dragged NAT box was dropped on, and
//! which links carry an IKE SA's current path. Pure data, so the page only
//! draws what this computes and every rule here is tested natively.

use mobike_protocol::SaState;
use mobike_sim::HostView;
use mobike_sim::Scenario;
use mobike_sim::scenario::HostSpec;
use std::collections::BTreeMap;

/// Width of the topology drawing (its viewBox).
pub const TOPO_W: f64 = 720.0;
/// Height of the topology drawing.
pub const TOPO_H: f64 = 330.0;
/// How close (in drawing units) a dropped NAT box must be to a link to be
/// put on it.
pub const DROP_DISTANCE: f64 = 28.0;
/// Half the width of a host box in the topology drawing (the least; see
/// [`host_half_width`]).
pub const HOST_HALF_WIDTH: f64 = 88.0;
/// Vertical distance between a host's interfaces.
pub const INTERFACE_GAP: f64 = 30.0;
/// Horizontal half-axis of the internet's ellipse; links end at its edge.
pub const INTERNET_RX: f64 = 62.0;
/// Vertical half-axis of the internet's ellipse.
pub const INTERNET_RY: f64 = 36.0;
/// A group with more members than this is drawn as one box with counts.
pub const GROUP_MAX_CHIPS: usize = 60;
/// Width of one member's chip in a group's box.
pub const CHIP_W: f64 = 34.0;
/// Height of a chip.
pub const CHIP_H: f64 = 20.0;
const CHIP_GAP: f64 = 4.0;
/// Room for the group's name and addresses above its chips.
const GROUP_HEAD: f64 = 36.0;
/// A dragged node stays this far inside the drawing.
const DRAG_MARGIN: f64 = 20.0;

/// Half the width of this host's box: wider than [`HOST_HALF_WIDTH`] when an
/// interface's label and address need it (11 px monospace, 6.7 px a
/// character, room for the dot).
pub fn host_half_width(h: &HostSpec) -> f64 {
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

/// Height of a host's box: its name and role, then one row per interface.
pub fn host_height(h: &HostSpec) -> f64 {
    44.0 + INTERFACE_GAP * h.interfaces.len().max(1) as f64
}

/// Keeps a dragged node's centre inside the drawing.
pub fn clamp_to_drawing(p: [f64; 2]) -> [f64; 2] {
    [
        p[0].clamp(DRAG_MARGIN, TOPO_W - DRAG_MARGIN),
        p[1].clamp(DRAG_MARGIN, TOPO_H - DRAG_MARGIN),
    ]
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

impl GroupBox {
    /// Top-left corner of the `k`-th member's chip.
    pub fn chip(&self, k: usize) -> [f64; 2] {
        let cols = self.cols.max(1);
        let left = self.centre[0] - self.width / 2.0;
        let inner = cols as f64 * (CHIP_W + CHIP_GAP) - CHIP_GAP;
        let x0 = left + (self.width - inner) / 2.0;
        let y0 = self.centre[1] - self.height / 2.0 + GROUP_HEAD;
        [
            x0 + (k % cols) as f64 * (CHIP_W + CHIP_GAP),
            y0 + (k / cols) as f64 * (CHIP_H + CHIP_GAP),
        ]
    }
}

/// Each of `hosts` hosts' group, by index into `groups`, in one pass over
/// the members (asking every group about each host is quadratic in a
/// cluster's size).
pub fn group_index(groups: &[HostGroup], hosts: usize) -> Vec<Option<usize>> {
    let mut at = vec![None; hosts];
    for (k, g) in groups.iter().enumerate() {
        for &m in &g.members {
            if let Some(slot) = at.get_mut(m) {
                slot.get_or_insert(k);
            }
        }
    }
    at
}

/// Finds the groups `count` made: consecutive hosts "<id>-1" … "<id>-<n>"
/// labelled "<label> 1" … with the expansion's positions (columns of ten,
/// 36 by 26 apart).
pub fn find_groups(scenario: &Scenario) -> Vec<HostGroup> {
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

/// A group's box (width, height, chip columns): a grid of chips, or past
/// [`GROUP_MAX_CHIPS`] a box as wide as its address range and its
/// "1000 established · 0 setting up · 0 idle" line need.
fn group_dims(scenario: &Scenario, g: &HostGroup) -> (f64, f64, usize) {
    let (w, h, cols) = group_size(g.members.len());
    if cols > 0 {
        return (w, h, cols);
    }
    let host = |k: Option<&usize>| k.and_then(|&m| scenario.hosts.get(m));
    let range = match (host(g.members.first()), host(g.members.last())) {
        (Some(a), Some(z)) => a
            .interfaces
            .iter()
            .zip(&z.interfaces)
            .map(|(f, l)| {
                f.name.chars().count()
                    + 4
                    + f.address.to_string().len()
                    + l.address.to_string().len()
            })
            .sum::<usize>(),
        _ => 0,
    };
    let n = g.members.len();
    let summary = format!("{n} established · {n} setting up · {n} idle")
        .chars()
        .count();
    let chars = range.max(summary) as f64;
    (w.max(chars * 6.7 + 20.0), h, cols)
}

/// The scenario's host, NAT and internet positions, and each group's box
/// centred on its members, every box kept inside the drawing.
pub fn initial_layout(scenario: &Scenario, groups: &[HostGroup]) -> BTreeMap<String, [f64; 2]> {
    let mut layout = BTreeMap::new();
    layout.insert("internet".to_string(), scenario.internet.pos);
    for h in &scenario.hosts {
        let half = host_height(h) / 2.0;
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
        // Centred on its members (the file places a `count` entry's copies
        // in columns of ten, 36 px apart), but a group too large for chips
        // is a box the size of a host's, where the file puts the entry: not
        // 1,800 px to the right of it for a thousand.
        let first = if g.members.len() > GROUP_MAX_CHIPS {
            &g.members[..1]
        } else {
            &g.members[..]
        };
        let n = first.len() as f64;
        let mut c = [0.0, 0.0];
        for &m in first {
            c[0] += scenario.hosts[m].pos[0] / n;
            c[1] += scenario.hosts[m].pos[1] / n;
        }
        let b = group_dims(scenario, g);
        c[0] = c[0].clamp(b.0 / 2.0 + 4.0, (TOPO_W - b.0 / 2.0 - 4.0).max(b.0 / 2.0));
        c[1] = c[1].clamp(b.1 / 2.0 + 4.0, (TOPO_H - b.1 / 2.0 - 4.0).max(b.1 / 2.0));
        layout.insert(g.key.clone(), c);
    }
    layout
}

/// The drawing as the user arranged it: the scenario, where each node is
/// (host ids, NAT ids, "internet", "group:<id>") and the host groups.
#[derive(Clone, Copy)]
pub struct Topo<'a> {
    pub scenario: &'a Scenario,
    pub layout: &'a BTreeMap<String, [f64; 2]>,
    pub groups: &'a [HostGroup],
}

impl<'a> Topo<'a> {
    /// Where the internet's ellipse is.
    pub fn internet(&self) -> [f64; 2] {
        self.layout
            .get("internet")
            .copied()
            .unwrap_or(self.scenario.internet.pos)
    }

    /// Where a host's box is centred.
    pub fn host_pos(&self, h: &HostSpec) -> [f64; 2] {
        self.layout.get(&h.id).copied().unwrap_or(h.pos)
    }

    /// The group a host (by index into `scenario.hosts`) belongs to.
    pub fn group_of(&self, host: usize) -> Option<&'a HostGroup> {
        self.groups.iter().find(|g| g.members.contains(&host))
    }

    /// Where a group's box is and how it is divided.
    pub fn group_box(&self, g: &HostGroup) -> GroupBox {
        let (width, height, cols) = group_dims(self.scenario, g);
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

    /// Where interface `iface` of host `host` has its dot: on the edge of
    /// the host box (or group box) that faces the internet, one row per
    /// interface below the host's name.
    pub fn iface_anchor(&self, host: usize, iface: usize) -> Option<[f64; 2]> {
        let inet = self.internet();
        let h = self.scenario.hosts.get(host)?;
        let n = h.interfaces.len() as f64;
        let offset = (iface as f64 - (n - 1.0) / 2.0) * INTERFACE_GAP;
        if let Some(g) = self.group_of(host) {
            let b = self.group_box(g);
            let p = b.centre;
            let side = if inet[0] >= p[0] { 1.0 } else { -1.0 };
            return Some([p[0] + side * b.width / 2.0, p[1] + offset]);
        }
        let p = self.host_pos(h);
        let side = if inet[0] >= p[0] { 1.0 } else { -1.0 };
        Some([p[0] + side * host_half_width(h), p[1] + 10.0 + offset])
    }

    /// Where a link's line starts: the dot of the first interface on it (a
    /// dual-stack interface is two entries on one link: the second's dot
    /// joins the first's).
    pub fn link_anchor(&self, link: &str) -> Option<[f64; 2]> {
        self.scenario.hosts.iter().enumerate().find_map(|(k, h)| {
            let i = h.interfaces.iter().position(|f| f.link == link)?;
            self.iface_anchor(k, i)
        })
    }

    /// Each link as a straight segment from its host to the internet.
    pub fn link_segments(&self) -> Vec<(String, [f64; 2], [f64; 2])> {
        let inet = self.internet();
        self.scenario
            .links
            .iter()
            .filter_map(|l| self.link_anchor(&l.id).map(|a| (l.id.clone(), a, inet)))
            .collect()
    }

    /// The link a NAT box dropped at `pos` lands on: the nearest within
    /// [`DROP_DISTANCE`], if any.
    pub fn link_at(&self, pos: [f64; 2]) -> Option<String> {
        let segs = self.link_segments();
        let pairs: Vec<([f64; 2], [f64; 2])> = segs.iter().map(|(_, a, b)| (*a, *b)).collect();
        nearest_segment(pos, &pairs, DROP_DISTANCE).map(|i| segs[i].0.clone())
    }
}

/// Links that carry some live IKE SA's current path: the link of the
/// interface whose address the SA's local end uses, each once (a
/// responder with a thousand IKE SAs names its uplink once, not a thousand
/// times). `hosts` are the world's views of `scenario.hosts`, in the same
/// order.
pub fn active_links(scenario: &Scenario, hosts: &[HostView]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (spec, h) in scenario.hosts.iter().zip(hosts) {
        for sa in h.sas.iter().filter(|sa| sa.state != SaState::Deleted) {
            // The interface that has the address now (an added one too),
            // else the one the scenario gave it to.
            let name = h
                .addresses
                .iter()
                .find(|a| a.present && a.address == sa.local.ip())
                .map(|a| a.interface.as_str());
            let link = spec
                .interfaces
                .iter()
                .find(|f| match name {
                    Some(n) => f.name == n,
                    None => f.address == sa.local.ip(),
                })
                .map(|f| &f.link);
            if let Some(link) = link
                && !out.contains(link)
            {
                out.push(link.clone());
            }
        }
    }
    out
}

/// Where a link's label and break mark go: halfway along the part of the
/// line from `from` (the host's dot, or the NAT box on it) that lies
/// outside the internet's ellipse, clear of both boxes. Returns that point
/// and the line's direction `(dx, dy)` towards the internet.
pub fn link_midpoint(from: [f64; 2], inet: [f64; 2]) -> ([f64; 2], [f64; 2]) {
    let (dx, dy) = (inet[0] - from[0], inet[1] - from[1]);
    let len = dx.hypot(dy).max(1.0);
    let r = 1.0 / ((dx / len / INTERNET_RX).powi(2) + (dy / len / INTERNET_RY).powi(2)).sqrt();
    let f = ((len - r).max(0.0) / 2.0 / len).clamp(0.1, 0.5);
    ([from[0] + dx * f, from[1] + dy * f], [dx, dy])
}

/// Distance from point `p` to the segment `a`-`b`.
pub fn distance_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (a[0] + t * dx, a[1] + t * dy);
    ((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt()
}

/// The segment nearest to `p` within `max` units, by index.
pub fn nearest_segment(p: [f64; 2], segments: &[([f64; 2], [f64; 2])], max: f64) -> Option<usize> {
    segments
        .iter()
        .enumerate()
        .map(|(i, (a, b))| (i, distance_to_segment(p, *a, *b)))
        .filter(|(_, d)| *d <= max)
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .map(|(i, _)| i)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use mobike_sim::World;

    pub(crate) fn example(name: &str) -> Scenario {
        let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        Scenario::from_toml(&text).unwrap()
    }

    #[test]
    fn distances() {
        assert_eq!(
            distance_to_segment([5.0, 3.0], [0.0, 0.0], [10.0, 0.0]),
            3.0
        );
        assert_eq!(
            distance_to_segment([-4.0, 3.0], [0.0, 0.0], [10.0, 0.0]),
            5.0
        );
        let segs = [([0.0, 0.0], [10.0, 0.0]), ([0.0, 10.0], [10.0, 10.0])];
        assert_eq!(nearest_segment([5.0, 8.0], &segs, 5.0), Some(1));
        assert_eq!(nearest_segment([5.0, 50.0], &segs, 5.0), None);
    }

    #[test]
    fn hosts_with_count_are_one_group_drawn_as_a_grid() {
        let scenario = example("cluster-20-mobike");
        let groups = find_groups(&scenario);
        let layout = initial_layout(&scenario, &groups);
        let topo = Topo {
            scenario: &scenario,
            layout: &layout,
            groups: &groups,
        };
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!(
            (g.id.as_str(), g.label.as_str(), g.members.len()),
            ("client", "Client", 20)
        );
        assert_eq!(topo.group_of(g.members[3]), Some(g));
        // The index in one pass says what `group_of` says, host by host.
        let n = scenario.hosts.len();
        let at = group_index(&groups, n);
        assert_eq!(at.iter().filter(|k| k.is_some()).count(), 20);
        for (i, k) in at.iter().enumerate() {
            assert_eq!(k.map(|k| &groups[k]), topo.group_of(i), "host {i}");
        }
        let b = topo.group_box(g);
        assert!(b.cols >= 4 && b.cols <= 6, "{b:?}");
        // Inside the drawing.
        assert!(b.centre[0] - b.width / 2.0 >= 0.0 && b.centre[0] + b.width / 2.0 <= TOPO_W);
        assert!(b.centre[1] - b.height / 2.0 >= 0.0 && b.centre[1] + b.height / 2.0 <= TOPO_H);
        // Chips do not overlap and stay in the box.
        let chips: Vec<[f64; 2]> = (0..20).map(|k| b.chip(k)).collect();
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
        let a = topo.link_anchor("access").unwrap();
        assert_eq!(a[0], b.centre[0] + b.width / 2.0);
        // A scenario without count has no groups.
        assert!(find_groups(&example("wifi-to-lte")).is_empty());
    }

    /// A group of hundreds sits where the file puts its entry: its copies
    /// spread in columns of ten far to the right, but the box stays on the
    /// left, clear of the cluster it talks to.
    #[test]
    fn a_large_group_sits_where_its_entry_is() {
        let path = format!(
            "{}/../../tests/scenarios/cgn-cluster.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace("count = 3\n", "count = 1000\n");
        let scenario = Scenario::from_toml(&text).unwrap();
        let groups = find_groups(&scenario);
        assert_eq!(groups[0].members.len(), 1000);
        let layout = initial_layout(&scenario, &groups);
        let topo = Topo {
            scenario: &scenario,
            layout: &layout,
            groups: &groups,
        };
        let b = topo.group_box(&groups[0]);
        let entry = scenario.hosts[groups[0].members[0]].pos;
        // Over the entry, moved only to keep the box inside the drawing.
        let half = [b.width / 2.0, b.height / 2.0];
        for i in 0..2 {
            assert!(
                (b.centre[i] - entry[i]).abs() <= half[i],
                "box at {:?}, entry at {entry:?}",
                b.centre
            );
        }
        assert!(b.centre[0] - half[0] >= 0.0);
        let cluster = &scenario.hosts[1000];
        assert_eq!(cluster.id, "cluster");
        // Wide enough for "1000 established · 1000 setting up · 1000 idle".
        assert!(b.width >= 44.0 * 6.7, "{b:?}");
        let right = b.centre[0] + b.width / 2.0;
        assert!(
            right < cluster.pos[0] - host_half_width(cluster),
            "box ends at {right}"
        );
    }

    #[test]
    fn host_boxes_fit_their_labels_and_stay_in_the_drawing() {
        let scenario = example("wifi-to-lte");
        let layout = initial_layout(&scenario, &[]);
        for h in &scenario.hosts {
            let w = host_half_width(h);
            assert!((HOST_HALF_WIDTH..=160.0).contains(&w));
            let p = layout[&h.id];
            assert!(p[0] - w >= 0.0 && p[0] + w <= TOPO_W, "{}", h.id);
            assert!(p[1] - host_height(h) / 2.0 >= 0.0, "{}", h.id);
            assert!(p[1] + host_height(h) / 2.0 <= TOPO_H, "{}", h.id);
        }
        assert_eq!(clamp_to_drawing([-5.0, 900.0]), [20.0, TOPO_H - 20.0]);
    }

    #[test]
    fn links_start_at_the_side_facing_the_internet_and_a_drop_finds_its_link() {
        let scenario = example("wifi-to-lte");
        let layout = initial_layout(&scenario, &[]);
        let topo = Topo {
            scenario: &scenario,
            layout: &layout,
            groups: &[],
        };
        let inet = topo.internet();
        let laptop = &scenario.hosts[0];
        let p = topo.host_pos(laptop);
        let wifi = topo.link_anchor("wifi").unwrap();
        let lte = topo.link_anchor("lte").unwrap();
        assert_eq!((wifi[0] - p[0]).abs(), host_half_width(laptop));
        assert_eq!(
            (wifi[0] > p[0]),
            (inet[0] > p[0]),
            "the side facing the internet"
        );
        assert_eq!(lte[1] - wifi[1], INTERFACE_GAP, "interfaces fan out");
        let mid = [(wifi[0] + inet[0]) / 2.0, (wifi[1] + inet[1]) / 2.0 + 5.0];
        assert_eq!(topo.link_at(mid).as_deref(), Some("wifi"));
        assert_eq!(topo.link_at([700.0, 20.0]), None);
        assert_eq!(topo.link_anchor("nowhere"), None);
        // A host moved across the internet turns its dots round.
        let mut elsewhere = layout.clone();
        elsewhere.insert(laptop.id.clone(), [inet[0] + 200.0, p[1]]);
        let moved = Topo {
            layout: &elsewhere,
            ..topo
        };
        assert!(moved.link_anchor("wifi").unwrap()[0] < inet[0] + 200.0);
    }

    #[test]
    fn midpoints_lie_outside_the_internet_between_the_ends() {
        let inet = [360.0, 170.0];
        let (mid, d) = link_midpoint([100.0, 170.0], inet);
        assert_eq!(d, [260.0, 0.0]);
        // Halfway between the dot and the ellipse's edge.
        assert_eq!(mid, [100.0 + (260.0 - INTERNET_RX) / 2.0, 170.0]);
        // A very short line: at least a tenth along.
        let (mid, _) = link_midpoint([350.0, 170.0], inet);
        assert_eq!(mid, [351.0, 170.0]);
    }

    #[test]
    fn an_sa_path_makes_its_link_active() {
        let scenario = example("wifi-to-lte");
        let mut world = World::new(&scenario);
        assert!(active_links(&scenario, &world.hosts()).is_empty());
        world.run_until(2 * mobike_protocol::SEC);
        let active = active_links(&scenario, &world.hosts());
        assert!(active.contains(&"wifi".to_string()), "{active:?}");
        assert!(active.contains(&"uplink".to_string()), "{active:?}");
        assert!(!active.contains(&"lte".to_string()), "{active:?}");
    }

    #[test]
    fn a_link_that_many_ike_sas_cross_is_named_once() {
        let scenario = example("cluster-20-mobike");
        let mut world = World::new(&scenario);
        world.run_until(5 * mobike_protocol::SEC);
        let hosts = world.hosts();
        // The cluster holds 20 IKE SAs, its clients one each.
        assert!(hosts.iter().map(|h| h.sas.len()).sum::<usize>() >= 40);
        let active = active_links(&scenario, &hosts);
        let mut once = active.clone();
        once.sort();
        once.dedup();
        assert!(!active.is_empty());
        assert_eq!(once.len(), active.len(), "{active:?}");
    }
}
