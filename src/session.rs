//! One playground session: a scenario, the running world, the chart built
//! from its trace and the layout the user arranged. No web types here, so
//! the logic behind every button is tested natively.

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
/// Vertical distance between a host's interfaces.
pub const INTERFACE_GAP: f64 = 30.0;

pub struct Session {
    pub scenario: Scenario,
    pub world: World,
    chart: ChartBuilder,
    /// Where each node is drawn: host ids, NAT ids and "internet".
    pub layout: BTreeMap<String, [f64; 2]>,
}

impl Session {
    pub fn new(scenario: Scenario) -> Session {
        let mut layout = BTreeMap::new();
        layout.insert("internet".to_string(), scenario.internet.pos);
        for h in &scenario.hosts {
            layout.insert(h.id.clone(), h.pos);
        }
        for n in &scenario.nats {
            layout.insert(n.id.clone(), n.pos);
        }
        Session {
            world: World::new(&scenario),
            chart: ChartBuilder::new(&scenario),
            scenario,
            layout,
        }
    }

    pub fn from_toml(text: &str) -> Result<Session, mobike_sim::ScenarioError> {
        Ok(Session::new(Scenario::from_toml(text)?))
    }

    /// Starts the same scenario over; the layout stays as the user left it.
    pub fn reset(&mut self) {
        let layout = std::mem::take(&mut self.layout);
        *self = Session::new(self.scenario.clone());
        self.layout = layout;
    }

    pub fn now(&self) -> Time {
        self.world.now()
    }

    /// Runs the world forward by `dt` of virtual time.
    pub fn advance(&mut self, dt: Time) {
        let until = self.world.now() + dt;
        self.world.run_until(until);
        self.chart.update(self.world.trace());
    }

    /// Runs up to and including the next event, so one click shows one
    /// thing happening.
    pub fn step(&mut self) {
        if let Some(t) = self.world.next_event_time() {
            self.world.run_until(t);
        }
        self.chart.update(self.world.trace());
    }

    pub fn chart(&self) -> &Chart {
        &self.chart.chart
    }

    pub fn apply(&mut self, action: Intervention) {
        self.world.apply(action);
        self.chart.update(self.world.trace());
    }

    /// Breaks a link that is up, restores one that is down.
    pub fn toggle_link(&mut self, link: &str) {
        let up = self.world.links().iter().any(|l| l.id == link && l.up);
        let action = if up {
            Intervention::BreakLink(link.to_string())
        } else {
            Intervention::RestoreLink(link.to_string())
        };
        self.apply(action);
    }

    /// Where a link's line starts: its interface's dot on the edge of the
    /// host box that faces the internet.
    pub fn link_anchor(&self, link: &str) -> Option<[f64; 2]> {
        let inet = self
            .layout
            .get("internet")
            .copied()
            .unwrap_or(self.scenario.internet.pos);
        for h in &self.scenario.hosts {
            let n = h.interfaces.len() as f64;
            for (i, f) in h.interfaces.iter().enumerate() {
                if f.link == link {
                    let p = self.layout.get(&h.id).copied().unwrap_or(h.pos);
                    let side = if inet[0] >= p[0] { 1.0 } else { -1.0 };
                    // Interfaces fan out vertically below the host's name.
                    let dy = 10.0 + (i as f64 - (n - 1.0) / 2.0) * INTERFACE_GAP;
                    return Some([p[0] + side * HOST_HALF_WIDTH, p[1] + dy]);
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
    /// every path. Returns the link it now sits on.
    pub fn drop_nat(&mut self, nat: &str, pos: [f64; 2]) -> Option<String> {
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
        if current != link {
            self.apply(Intervention::PlaceNat {
                nat: nat.to_string(),
                link: link.clone(),
            });
        }
        link
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
        assert_eq!(s.drop_nat("cgn", mid), Some("wifi".to_string()));
        s.advance(6 * SEC);
        let laptop = &s.world.hosts()[0].sas[0];
        assert!(
            laptop.local_behind_nat,
            "M-3.8-4: mapping change found, update sent"
        );
        assert!(laptop.udp_encap);
        assert!(updates(&s) >= 1);
        // Dragged far away: out of every path.
        assert_eq!(s.drop_nat("cgn", [700.0, 20.0]), None);
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
}
