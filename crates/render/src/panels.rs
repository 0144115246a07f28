//! The page's tables as view models: each host's IKE SA state panel, the
//! compact table of a host group, each NAT's mapping table and the ping
//! figures. Every value is text ready to show, so the page only lays the
//! rows out and the wording is tested here.

use crate::fmt_time;
use crate::metrics::Metrics;
use crate::topology::{HostGroup, group_index};
use mobike_protocol::{ChildSnapshot, SaSnapshot, Time};
use mobike_sim::scenario::PingSpec;
use mobike_sim::{HostView, NatView};
use std::borrow::Cow;
use std::net::SocketAddr;

/// One row of a two-column table: its heading, a stable key (the page's
/// `data-key`, which tests look rows up by) and the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanelRow {
    pub label: Cow<'static, str>,
    pub key: Cow<'static, str>,
    pub value: String,
}

fn row(label: &'static str, key: &'static str, value: String) -> PanelRow {
    PanelRow {
        label: Cow::Borrowed(label),
        key: Cow::Borrowed(key),
        value,
    }
}

/// "in 3.000s" for a moment still to come, "due" for one that passed, "—"
/// for none.
pub fn fmt_in(t: Option<Time>, now: Time) -> String {
    match t {
        Some(t) if t >= now => format!("in {}", fmt_time(t - now)),
        Some(_) => "due".into(),
        None => "—".into(),
    }
}

fn list(v: &[std::net::IpAddr]) -> String {
    v.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// An IKE SA as the protocol holds it (DESIGN.md §1: own and peer address
/// lists, the path in use, NAT detected, pending update, COOKIE2
/// outstanding, window, timers), one row each.
pub fn sa_rows(sa: &SaSnapshot, now: Time) -> Vec<PanelRow> {
    let ipsec = match (sa.ipsec_local, sa.ipsec_remote) {
        (Some(l), Some(r)) => format!(
            "{l} ⇄ {r}{}",
            if sa.udp_encap { " (UDP-encap)" } else { "" }
        ),
        _ => "—".into(),
    };
    let nat = match (sa.local_behind_nat, sa.peer_behind_nat) {
        (false, false) => "none".to_string(),
        (true, false) => "I am behind a NAT".into(),
        (false, true) => "peer is behind a NAT".into(),
        (true, true) => "both behind NATs".into(),
    };
    let outstanding = match &sa.outstanding {
        Some(o) => format!(
            "{} #{}, {} retransmission{}{}, next {}",
            o.what,
            o.mid,
            o.retransmissions,
            if o.retransmissions == 1 { "" } else { "s" },
            if o.probing { ", probing all paths" } else { "" },
            fmt_in(Some(o.next_retransmit), now)
        ),
        None => "none".into(),
    };
    // The Child SAs, newest first, each with its selectors where it has
    // its own (RFC 7296 §2.9); one a rekey replaced stays, marked, until
    // its Delete is answered (§2.8).
    let children = if sa.child_sas.is_empty() {
        "—".to_string()
    } else {
        // By selectors, and newest first among those with the same.
        let mut rows: Vec<&ChildSnapshot> = sa.child_sas.iter().rev().collect();
        rows.sort_by(|a, b| a.selectors.cmp(&b.selectors));
        rows.into_iter()
            .map(|c| {
                format!(
                    "{}in {} · out {}{}",
                    if c.selectors.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", c.selectors)
                    },
                    c.inbound_spi,
                    c.outbound_spi,
                    if c.replaced { " (replaced)" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    vec![
        row(
            "State",
            "state",
            format!("{:?}{}", sa.state, if sa.mobike { ", MOBIKE" } else { "" }),
        ),
        row(
            "IKE SA path",
            "path",
            format!("{} ⇄ {}", sa.local, sa.remote),
        ),
        row("IPsec SAs", "ipsec", ipsec),
        row("Child SAs (ESP SPIs)", "children", children),
        row("Own addresses", "own", list(&sa.own_addresses)),
        row("Peer addresses", "peer", list(&sa.peer_addresses)),
        row("NAT detected", "nat", nat),
        row(
            "Pending update",
            "pending",
            if sa.pending_update { "yes" } else { "no" }.into(),
        ),
        row(
            "COOKIE2 outstanding",
            "cookie2",
            sa.cookie2_outstanding.clone().unwrap_or_else(|| "—".into()),
        ),
        row("Window", "window", sa.window.to_string()),
        row("Outstanding request", "outstanding", outstanding),
        row(
            "Next liveness check",
            "liveness",
            fmt_in(sa.next_liveness, now),
        ),
        row(
            "Next NAT-keepalive",
            "keepalive",
            fmt_in(sa.next_keepalive, now),
        ),
        row("Next rekey", "rekey", {
            let parts: Vec<String> = [("Child SA", sa.next_rekey), ("IKE SA", sa.next_ike_rekey)]
                .into_iter()
                .filter_map(|(what, t)| t.map(|t| format!("{what} {}", fmt_in(Some(t), now))))
                .collect();
            if parts.is_empty() {
                "—".into()
            } else {
                parts.join(" · ")
            }
        }),
    ]
}

/// One host's full state panel.
#[derive(Clone, Debug, PartialEq)]
pub struct HostPanel {
    pub id: String,
    pub label: String,
    /// "initiator", or "responder · IKE SA with Client 7, 20 IKE SAs" for a
    /// host with many IKE SAs.
    pub role: String,
    /// The shown IKE SA's rows; `None` before the host has one.
    pub rows: Option<Vec<PanelRow>>,
}

/// One member of a host group in its compact table.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRow {
    pub host: String,
    pub label: String,
    pub state: String,
    pub path: String,
    /// "NAT, update pending, INFORMATIONAL #3": what it is doing.
    pub busy: String,
    /// Its full panel is the one shown.
    pub focused: bool,
}

/// A host group's members in one table. Its rows are made one at a time
/// ([`GroupTable::row`]): the page draws only those in view, so a tick
/// formats a few dozen rows, not one per member of a cluster of thousands.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupTable {
    pub id: String,
    /// "Client × 20".
    pub title: String,
    /// The members, as indices into the hosts, in order.
    pub members: Vec<usize>,
    /// The member whose full panel is shown.
    pub shown: usize,
}

impl GroupTable {
    /// The `k`-th member's row, given every host's view (`None` past the
    /// end or for a host not there).
    pub fn row(&self, k: usize, hosts: &[HostView]) -> Option<GroupRow> {
        let m = *self.members.get(k)?;
        Some(group_row(hosts.get(m)?, m == self.shown))
    }

    /// Every member's row (tests, and what a full table would show).
    pub fn rows(&self, hosts: &[HostView]) -> Vec<GroupRow> {
        (0..self.members.len())
            .filter_map(|k| self.row(k, hosts))
            .collect()
    }
}

/// The state panels in page order.
#[derive(Clone, Debug, PartialEq)]
pub enum Panel {
    Group(GroupTable),
    Host(HostPanel),
}

fn host_panel(h: &HostView, sa: Option<&SaSnapshot>, note: Option<String>, now: Time) -> Panel {
    let role = format!("{:?}", h.role).to_lowercase();
    Panel::Host(HostPanel {
        id: h.id.clone(),
        label: h.label.clone(),
        role: match note {
            Some(n) => format!("{role} · {n}"),
            None => role,
        },
        rows: sa.map(|sa| sa_rows(sa, now)),
    })
}

/// One member's row of its group's table.
fn group_row(h: &HostView, focused: bool) -> GroupRow {
    let sa = h.sas.last();
    let busy = sa.map_or(String::new(), |sa| {
        let mut v = Vec::new();
        if sa.local_behind_nat || sa.peer_behind_nat {
            v.push("NAT".to_string());
        }
        if sa.pending_update {
            v.push("update pending".into());
        }
        if let Some(o) = &sa.outstanding {
            v.push(format!("{} #{}", o.what, o.mid));
        }
        v.join(", ")
    });
    GroupRow {
        host: h.id.clone(),
        label: h.label.clone(),
        state: sa.map_or("—".to_string(), |sa| format!("{:?}", sa.state)),
        path: sa.map_or("—".to_string(), |sa| {
            format!("{} ⇄ {}", sa.local, sa.remote)
        }),
        busy,
        focused,
    }
}

fn group_table(g: &HostGroup, shown: usize) -> Panel {
    Panel::Group(GroupTable {
        id: g.id.clone(),
        title: format!("{} × {}", g.label, g.members.len()),
        members: g.members.clone(),
        shown,
    })
}

/// Every host's state panel at `now`. A host group gets its compact table
/// and one full panel: the member the user picked (`focus`, by chip or
/// row), else its first. A host with many IKE SAs (a responder with a
/// group of clients) shows the one with the focused client, else its
/// newest.
pub fn state_panels(
    hosts: &[HostView],
    groups: &[HostGroup],
    focus: Option<&str>,
    now: Time,
) -> Vec<Panel> {
    let group_at = group_index(groups, hosts.len());
    let focus: Option<usize> = focus
        .and_then(|f| hosts.iter().position(|h| h.id == f))
        .filter(|&i| group_at[i].is_some())
        .or_else(|| groups.first().and_then(|g| g.members.first().copied()));
    let focused_spi = focus
        .and_then(|i| hosts.get(i))
        .and_then(|h| h.sas.last())
        .map(|sa| sa.spi_i);
    let mut out = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        if let Some(k) = group_at[i] {
            let g = &groups[k];
            if g.members.first() != Some(&i) {
                continue;
            }
            let shown = focus.filter(|&f| group_at[f] == Some(k)).unwrap_or(i);
            out.push(group_table(g, shown));
            if let Some(m) = hosts.get(shown) {
                out.push(host_panel(m, m.sas.last(), None, now));
            }
            continue;
        }
        let sa = focused_spi
            .as_ref()
            .and_then(|spi| h.sas.iter().find(|sa| &sa.spi_i == spi))
            .or(h.sas.last());
        let note = (h.sas.len() > 1).then(|| {
            let with = sa
                .and_then(|sa| {
                    hosts
                        .iter()
                        .find(|o| o.id != h.id && o.sas.iter().any(|x| x.spi_i == sa.spi_i))
                })
                .map_or(String::new(), |o| format!("IKE SA with {}, ", o.label));
            format!("{with}{} IKE SAs", h.sas.len())
        });
        out.push(host_panel(h, sa, note, now));
    }
    out
}

/// One row of a NAT's mapping table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingRow {
    pub inside: String,
    pub outside: String,
    pub allowed_from: String,
    /// "in 27.500s".
    pub expires: String,
}

/// A NAT box's mapping table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatTable {
    pub id: String,
    /// "Carrier NAT (198.51.100.1)".
    pub title: String,
    /// "on link lte; endpoint-independent mapping, …".
    pub place: String,
    pub mappings: Vec<MappingRow>,
}

/// Each NAT's mappings with their remaining lifetimes.
pub fn nat_tables(nats: &[NatView]) -> Vec<NatTable> {
    nats.iter()
        .map(|n| {
            let place = match &n.link {
                Some(l) => format!("on link {l}"),
                None => "not in any path".to_string(),
            };
            NatTable {
                id: n.id.clone(),
                title: format!("{} ({})", n.label, n.public_address),
                place: format!("{place}; {}", n.behaviour),
                // Port forwards first: static, open to anyone, never
                // expiring.
                mappings: n
                    .forwards
                    .iter()
                    .map(|f| MappingRow {
                        inside: f.to.to_string(),
                        outside: SocketAddr::new(n.public_address, f.port).to_string(),
                        allowed_from: "anyone (port forward)".to_string(),
                        expires: "never".to_string(),
                    })
                    .chain(n.mappings.iter().map(|m| {
                        MappingRow {
                            inside: m.internal.to_string(),
                            outside: m.external.to_string(),
                            allowed_from: m
                                .permits
                                .iter()
                                .map(|a| a.to_string())
                                .collect::<Vec<_>>()
                                .join(", "),
                            expires: format!("in {}", fmt_time(m.expires_in)),
                        }
                    }))
                    .collect(),
            }
        })
        .collect()
}

/// The ping traffic's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficTable {
    /// "laptop → gateway, every 1s".
    pub what: String,
    pub rows: Vec<PanelRow>,
}

/// The figures of the ping traffic through the tunnel, from the run's
/// metrics; with `children` (the pinging host's Child SAs) that have
/// selectors of their own, a row for each: the ESP packets of its SPIs.
pub fn traffic(ping: &PingSpec, m: &Metrics, children: &[ChildSnapshot]) -> TrafficTable {
    // In the order of their selectors, so a rekey (which makes a new SA,
    // the newest) does not move a row.
    let mut current: Vec<&ChildSnapshot> = children
        .iter()
        .filter(|c| !c.selectors.is_empty() && !c.replaced)
        .collect();
    current.sort_by(|a, b| a.selectors.cmp(&b.selectors));
    let per_child = current.into_iter().enumerate().map(|(k, c)| {
        let count = |hex: &str| {
            u32::from_str_radix(hex, 16)
                .ok()
                .and_then(|spi| m.esp_by_spi.get(&spi))
                .copied()
                .unwrap_or_default()
        };
        let (out, out_lost) = count(&c.outbound_spi);
        let (inb, in_lost) = count(&c.inbound_spi);
        // The peer's side names it where ours is everything ("ESP to
        // 10.2.0.0/24"); else both sides.
        let label = match c.selectors.strip_prefix("any ⇄ ") {
            Some(theirs) => format!("ESP to {theirs}"),
            None => format!("ESP {}", c.selectors),
        };
        PanelRow {
            label: Cow::Owned(label),
            key: Cow::Owned(format!("child-{k}")),
            value: format!("out {out} · in {inb}, {} lost", out_lost + in_lost),
        }
    });
    let mut table = TrafficTable {
        what: format!("{} → {}, every {}", ping.from, ping.to, ping.interval),
        rows: vec![
            row("Requests sent", "sent", m.pings_sent.to_string()),
            row("Answered", "answered", m.pings_answered.to_string()),
            row("Lost", "lost", m.pings_lost.to_string()),
            row("Longest gap", "gap", fmt_time(m.longest_gap)),
            row(
                "ESP packets lost",
                "esp-lost",
                format!("{} of {}", m.esp_lost, m.esp_packets),
            ),
            row(
                "IKE messages",
                "ike",
                format!(
                    "{} ({} octets, {} lost)",
                    m.ike_messages, m.ike_octets, m.ike_lost
                ),
            ),
        ],
    };
    table.rows.extend(per_child);
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::find_groups;
    use crate::topology::tests::example;
    use mobike_protocol::{MS, SEC};
    use mobike_sim::World;

    fn value<'a>(rows: &'a [PanelRow], key: &str) -> &'a str {
        &rows.iter().find(|r| r.key == key).unwrap().value
    }

    #[test]
    fn times_to_come() {
        assert_eq!(fmt_in(Some(5 * SEC), 2 * SEC), "in 3.000s");
        assert_eq!(fmt_in(Some(SEC), 2 * SEC), "due");
        assert_eq!(fmt_in(None, 0), "—");
    }

    #[test]
    fn the_laptops_panel_shows_its_ike_sa() {
        let scenario = example("wifi-to-lte");
        let mut world = World::new(&scenario);
        let before = state_panels(&world.hosts(), &[], None, 0);
        assert_eq!(before.len(), 2);
        assert!(matches!(&before[0], Panel::Host(p) if p.rows.is_none() && p.role == "initiator"));
        world.run_until(2 * SEC);
        let panels = state_panels(&world.hosts(), &[], None, world.now());
        let Panel::Host(laptop) = &panels[0] else {
            panic!("a host panel")
        };
        assert_eq!(
            (laptop.id.as_str(), laptop.label.as_str()),
            ("laptop", "Laptop")
        );
        let rows = laptop.rows.as_ref().unwrap();
        assert_eq!(rows.len(), 14);
        assert_eq!(value(rows, "state"), "Established, MOBIKE");
        assert!(value(rows, "path").starts_with("192.0.2.10:"));
        assert_eq!(value(rows, "own"), "192.0.2.10, 10.64.0.2");
        assert_eq!(value(rows, "nat"), "none");
        assert_eq!(value(rows, "pending"), "no");
        assert!(value(rows, "liveness").starts_with("in "));
        assert_eq!(value(rows, "children"), "in c4a25609 · out d4da4bfd");
        assert_eq!(value(rows, "rekey"), "—", "no lifetime set");
    }

    #[test]
    fn a_rekey_shows_the_new_child_sa_first_and_the_replaced_one_until_deleted() {
        let scenario = example("rekey-after-move");
        let mut world = World::new(&scenario);
        let children = |world: &World| {
            let panels = state_panels(&world.hosts(), &[], None, world.now());
            let Panel::Host(laptop) = &panels[0] else {
                panic!("a host panel")
            };
            let rows = laptop.rows.clone().unwrap();
            (
                value(&rows, "children").to_string(),
                value(&rows, "rekey").to_string(),
            )
        };
        world.run_until(21 * SEC);
        let (before, _) = children(&world);
        assert!(!before.contains('\n'), "one Child SA: {before}");
        // 22 s: both rekey; while the Deletes are under way the laptop has
        // its old SA and two new ones.
        world.run_until(22 * SEC + 80 * MS);
        let (during, _) = children(&world);
        assert_eq!(during.matches("(replaced)").count(), 2, "{during}");
        world.run_until(30 * SEC);
        let (after, rekey) = children(&world);
        assert!(!after.contains('\n') && after != before, "{after}");
        // The laptop's lifetime is 25 s from the survivor's birth at 22.074 s.
        assert_eq!(rekey, "Child SA in 17.074s");
    }

    #[test]
    fn a_group_shows_its_table_and_the_focused_members_panel() {
        let scenario = example("cluster-20-mobike");
        let groups = find_groups(&scenario);
        let mut world = World::new(&scenario);
        world.run_until(20 * SEC);
        let hosts = world.hosts();
        let panels = state_panels(&hosts, &groups, Some("client-7"), world.now());
        let Panel::Group(table) = &panels[0] else {
            panic!("the group's table first")
        };
        assert_eq!(table.title, "Client × 20");
        let rows = table.rows(&hosts);
        assert_eq!(rows.len(), 20);
        assert_eq!(table.row(6, &hosts).as_ref(), rows.get(6));
        assert_eq!(table.row(20, &hosts), None);
        let focused: Vec<&str> = rows
            .iter()
            .filter(|r| r.focused)
            .map(|r| r.host.as_str())
            .collect();
        assert_eq!(focused, ["client-7"]);
        assert!(matches!(&panels[1], Panel::Host(p) if p.id == "client-7"));
        // The responder shows its IKE SA with the focused client.
        let gateway = panels
            .iter()
            .find_map(|p| match p {
                Panel::Host(h) if !h.id.starts_with("client-") => Some(h),
                _ => None,
            })
            .unwrap();
        assert!(
            gateway.role.contains("IKE SA with Client 7, 20 IKE SAs"),
            "{}",
            gateway.role
        );
        // Without a pick, the first member's panel is shown; an unknown or
        // ungrouped pick counts as none.
        for focus in [None, Some("nobody"), Some(gateway.id.as_str())] {
            let panels = state_panels(&hosts, &groups, focus, world.now());
            assert!(matches!(&panels[1], Panel::Host(p) if p.id == "client-1"));
        }
    }

    #[test]
    fn nat_tables_and_traffic_read_like_the_page() {
        let scenario = example("wifi-to-lte");
        let mut world = World::new(&scenario);
        let t = nat_tables(&world.nats());
        assert_eq!(t[0].title, "Carrier NAT (198.51.100.1)");
        assert!(t[0].place.starts_with("on link lte; "));
        assert!(t[0].mappings.is_empty());
        world.apply(mobike_sim::Intervention::BreakLink {
            link: "wifi".into(),
        });
        world.run_until(20 * SEC);
        let t = nat_tables(&world.nats());
        let m = &t[0].mappings[0];
        assert!(m.inside.starts_with("10.64.0.2:"), "{m:?}");
        assert!(m.expires.starts_with("in "));
        let ping = scenario.ping.clone().unwrap();
        let m = crate::metrics::compute(world.trace());
        let children = world.hosts()[0].sas[0].child_sas.clone();
        let tt = traffic(&ping, &m, &children);
        assert_eq!(tt.what, "laptop → gateway, every 1s");
        assert_eq!(value(&tt.rows, "sent"), m.pings_sent.to_string());
        assert_eq!(
            tt.rows.len(),
            6,
            "one Child SA for everything: no row of its own"
        );
    }

    /// Several Child SAs: a row each in the traffic panel with the ESP of
    /// its SPIs (the pings go to each subnet in turn), and their selectors
    /// in the state panel.
    #[test]
    fn each_child_sa_has_its_traffic_row() {
        let scenario = example("three-child-sas");
        let mut world = World::new(&scenario);
        world.run_until(10 * SEC + 500 * MS);
        let ping = scenario.ping.clone().unwrap();
        let m = crate::metrics::compute(world.trace());
        let hosts = world.hosts();
        let children = hosts[0].sas[0].child_sas.clone();
        let tt = traffic(&ping, &m, &children);
        let rows: Vec<(String, String)> = tt.rows[6..]
            .iter()
            .map(|r| (r.label.to_string(), r.value.clone()))
            .collect();
        // 10 pings from 1 s, numbered from 1, each subnet in turn by
        // number: 3, 6, 9 to the first; 1, 4, 7, 10 to the second; 2, 5, 8
        // to the third. Each answered.
        assert_eq!(
            rows,
            [
                ("ESP to 10.1.0.0/24".into(), "out 3 · in 3, 0 lost".into()),
                ("ESP to 10.2.0.0/24".into(), "out 4 · in 4, 0 lost".into()),
                ("ESP to 10.3.0.0/24".into(), "out 3 · in 3, 0 lost".into()),
            ]
        );
        let panel = sa_rows(&hosts[0].sas[0], world.now());
        assert!(
            value(&panel, "children").starts_with("any ⇄ 10.1.0.0/24: in ")
                && value(&panel, "children").lines().count() == 3,
            "{}",
            value(&panel, "children")
        );
    }
}
