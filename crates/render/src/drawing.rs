//! The topology drawing as a view model: every line, box, dot, chip and
//! label with its place and its text, computed from the scenario, the
//! user's layout ([`Topo`]) and the world's state. The page turns each item
//! into SVG elements and adds the pointer handlers; it computes nothing.

use crate::topology::{
    Topo, active_links, group_index, host_half_width, host_height, link_midpoint,
};
use mobike_protocol::SaState;
use mobike_sim::WorldRead;
use std::net::IpAddr;

/// One link: a line from its host's dot (through the NAT box on it, if
/// any) to the internet.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkLine {
    pub id: String,
    pub label: String,
    /// Both directions work.
    pub up: bool,
    /// Some IKE SA's current path runs over it.
    pub active: bool,
    /// The SVG `points` of the line.
    pub points: String,
    /// "Wi-Fi · 8 ms".
    pub caption: String,
    /// Where the caption's text is anchored.
    pub caption_at: [f64; 2],
    /// The SVG path of the break mark (a cross) when the link is down.
    pub cut: Option<String>,
}

/// One interface of a host: its dot on the box edge and its label.
#[derive(Clone, Debug, PartialEq)]
pub struct IfaceDot {
    /// The interface's name in the scenario ("wlan0").
    pub name: String,
    pub dot: [f64; 2],
    /// Where the label's text is anchored, and how (SVG `text-anchor`): it
    /// sits inside the box, against the dot.
    pub text_at: [f64; 2],
    pub anchor: &'static str,
    /// "Wi-Fi 192.0.2.10".
    pub text: String,
    pub up: bool,
    /// Where a press counts as one on the interface (its dot and its
    /// label): x, y, width, height.
    pub hit: [f64; 4],
    /// The dot of the link's first interface, when this one shares the
    /// link with it (a dual-stack interface): drawn joined to it.
    pub joins: Option<[f64; 2]>,
}

/// One host drawn on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct HostBox {
    pub id: String,
    pub label: String,
    /// "initiator", "responder", ...
    pub role: String,
    pub centre: [f64; 2],
    pub half_width: f64,
    pub top: f64,
    pub height: f64,
    pub ifaces: Vec<IfaceDot>,
}

/// One member of a host group, as a small chip coloured by its IKE SA.
#[derive(Clone, Debug, PartialEq)]
pub struct Chip {
    pub host: String,
    /// Its number in the group, from 1.
    pub number: usize,
    /// Top-left corner; the chip is [`crate::topology::CHIP_W`] by
    /// [`crate::topology::CHIP_H`].
    pub at: [f64; 2],
    /// "idle" (no IKE SA yet), "up" (established), "setup" or "gone"
    /// (deleted): the style class.
    pub state: &'static str,
    /// Its IKE SA runs to another address than the one it first asked for
    /// (the responder moved it, or a Redirect did).
    pub moved: bool,
    /// Its full state panel is shown.
    pub focused: bool,
    /// The tooltip: name, address, path and state.
    pub title: String,
}

/// A host group: one box with the members' address range and a chip per
/// member (or, for a very large group, counts).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupView {
    /// The entry's id ("client").
    pub id: String,
    /// Its key in the layout, what a drag moves ("group:client").
    pub key: String,
    /// "Client × 20".
    pub title: String,
    /// "eth0 10.0.0.1 – 10.0.0.20".
    pub addresses: String,
    pub centre: [f64; 2],
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    /// The interfaces' dots on the box edge.
    pub dots: Vec<[f64; 2]>,
    pub chips: Vec<Chip>,
    /// "12 established · 3 setting up · 5 idle", for a group without chips.
    pub summary: Option<String>,
}

/// A NAT box, on a link or beside the drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct NatBox {
    pub id: String,
    pub label: String,
    /// Its public address.
    pub address: String,
    pub centre: [f64; 2],
    /// The link it sits on.
    pub link: Option<String>,
}

/// Everything the topology drawing shows, in drawing order: links, the
/// internet (drawn over the link ends), hosts, groups, NAT boxes.
#[derive(Clone, Debug, PartialEq)]
pub struct TopologyView {
    pub internet: [f64; 2],
    /// The internet's withdrawn routes ("✕ Access ↛ 203.0.113.10/32"),
    /// each with where its text is anchored: under the cloud, where the
    /// failure is.
    pub routes_down: Vec<(String, [f64; 2])>,
    pub links: Vec<LinkLine>,
    pub hosts: Vec<HostBox>,
    pub groups: Vec<GroupView>,
    pub nats: Vec<NatBox>,
}

fn links(topo: &Topo, world: &dyn WorldRead, active: &[String]) -> Vec<LinkLine> {
    let inet = topo.internet();
    let nats = world.nats();
    let mut out = Vec::new();
    for l in world.links().iter() {
        let Some(a) = topo.link_anchor(&l.id) else {
            continue;
        };
        // The line runs through each NAT box of the link's chain, the
        // host's first (a home router, then the carrier's NAT).
        let vias: Vec<[f64; 2]> = nats
            .iter()
            .filter(|n| n.link.as_deref() == Some(l.id.as_str()))
            .filter_map(|n| topo.layout.get(&n.id).copied())
            .collect();
        let points = std::iter::once(a)
            .chain(vias.iter().copied())
            .chain(std::iter::once(inet))
            .map(|p| format!("{},{}", p[0], p[1]))
            .collect::<Vec<_>>()
            .join(" ");
        // The caption and the break mark sit on the stretch nearest the
        // internet, clear of the host box and the NAT boxes.
        let (mid, [dx, dy]) = link_midpoint(vias.last().copied().unwrap_or(a), inet);
        // Captions of a host's links would sit on top of each other near
        // the host: its lowest link gets its caption under the line (unless
        // the line is steep: a caption under it would sit on it).
        let below = dy.abs() < 0.6 * dx.abs()
            && topo.scenario.hosts.iter().any(|h| {
                h.interfaces.len() > 1 && h.interfaces.last().is_some_and(|f| f.link == l.id)
            });
        let caption_y = if below { mid[1] + 16.0 } else { mid[1] - 8.0 };
        out.push(LinkLine {
            active: active.contains(&l.id),
            caption: caption(l),
            caption_at: [mid[0], caption_y],
            cut: (!l.up).then(|| {
                format!(
                    "M{} {} l12 12 M{} {} l-12 12",
                    mid[0] - 6.0,
                    mid[1] - 6.0,
                    mid[0] + 6.0,
                    mid[1] - 6.0
                )
            }),
            points,
            up: l.up,
            label: l.label.clone(),
            id: l.id.clone(),
        });
    }
    out
}

/// "Wi-Fi · 8 ms", and what the user changed live: "LTE · 35 ms ± 10 ms
/// · loss 5 % · dup 1 % · downlink down". A whole delay in milliseconds
/// reads as one; a fraction keeps its digits.
fn caption(l: &mobike_sim::LinkView) -> String {
    let ms = |t: mobike_protocol::Time| {
        if t.is_multiple_of(1000) {
            format!("{} ms", t / 1000)
        } else {
            format!("{} ms", t as f64 / 1000.0)
        }
    };
    let pc = |p: f64| {
        let v = p * 100.0;
        if (v - v.round()).abs() < 1e-9 {
            format!("{} %", v.round())
        } else {
            format!("{v:.1} %")
        }
    };
    let mut c = format!("{} · {}", l.label, ms(l.delay));
    if l.jitter > 0 {
        c.push_str(&format!(" ± {}", ms(l.jitter)));
    }
    if l.loss > 0.0 {
        c.push_str(&format!(" · loss {}", pc(l.loss)));
    }
    if l.duplicate > 0.0 {
        c.push_str(&format!(" · dup {}", pc(l.duplicate)));
    }
    match (l.uplink, l.downlink) {
        (true, false) => c.push_str(" · downlink down"),
        (false, true) => c.push_str(" · uplink down"),
        _ => {}
    }
    c
}

fn hosts(topo: &Topo, hosts: &[mobike_sim::HostView]) -> Vec<HostBox> {
    let mut out = Vec::new();
    // The hosts drawn in a group's box instead.
    let group_at = group_index(topo.groups, topo.scenario.hosts.len());
    for (k, (spec, h)) in topo.scenario.hosts.iter().zip(hosts).enumerate() {
        if group_at[k].is_some() {
            continue;
        }
        let p = topo.host_pos(spec);
        let height = host_height(spec);
        let mut ifaces = Vec::new();
        for (idx, (f, i)) in spec.interfaces.iter().zip(&h.interfaces).enumerate() {
            let (Some(a), Some(line)) = (topo.iface_anchor(k, idx), topo.link_anchor(&i.link))
            else {
                continue;
            };
            let right = a[0] > p[0];
            // The addresses it has now: the first, and how many more (an
            // added address shows once the scenario's is gone).
            let present: Vec<IpAddr> = h
                .addresses
                .iter()
                .filter(|a| a.present && a.interface == i.name)
                .map(|a| a.address)
                .collect();
            let address = match present.as_slice() {
                [] => "(no address)".to_string(),
                [one] => one.to_string(),
                [first, more @ ..] => format!("{first} +{}", more.len()),
            };
            let name = if i.label.is_empty() {
                &i.name
            } else {
                &i.label
            };
            let text = format!("{name} {address}");
            // 11 px monospace: 6.7 px a character (see host_half_width).
            let w = text.chars().count() as f64 * 6.7 + 9.0 + 8.0;
            let hit = if right {
                [a[0] - w, a[1] - 11.0, w + 8.0, 22.0]
            } else {
                [a[0] - 8.0, a[1] - 11.0, w + 8.0, 22.0]
            };
            ifaces.push(IfaceDot {
                name: f.name.clone(),
                dot: a,
                text_at: [if right { a[0] - 9.0 } else { a[0] + 9.0 }, a[1] + 4.0],
                anchor: if right { "end" } else { "start" },
                text,
                up: i.up,
                hit,
                joins: (line != a).then_some(line),
            });
        }
        out.push(HostBox {
            id: spec.id.clone(),
            label: h.label.clone(),
            role: spec.role_word().to_string(),
            centre: p,
            half_width: host_half_width(spec),
            top: p[1] - height / 2.0,
            height,
            ifaces,
        });
    }
    out
}

fn groups(topo: &Topo, hosts: &[mobike_sim::HostView], focus: Option<&str>) -> Vec<GroupView> {
    let mut out = Vec::new();
    for g in topo.groups {
        let b = topo.group_box(g);
        let (left, top) = (b.centre[0] - b.width / 2.0, b.centre[1] - b.height / 2.0);
        let (Some(first), Some(last)) = (
            g.members.first().and_then(|&m| topo.scenario.hosts.get(m)),
            g.members.last().and_then(|&m| topo.scenario.hosts.get(m)),
        ) else {
            continue;
        };
        let addresses = first
            .interfaces
            .iter()
            .zip(&last.interfaces)
            .map(|(a, z)| format!("{} {} – {}", a.name, a.address, z.address))
            .collect::<Vec<_>>()
            .join(" · ");
        let dots = first
            .interfaces
            .iter()
            .filter_map(|f| topo.link_anchor(&f.link))
            .collect();
        let mut counts = [0usize; 4];
        let mut chips = Vec::new();
        for (k, &m) in g.members.iter().enumerate() {
            let (Some(spec), Some(h)) = (topo.scenario.hosts.get(m), hosts.get(m)) else {
                continue;
            };
            let sa = h.sas.last();
            let (state, word) = match sa.map(|sa| sa.state) {
                None => (0, "no IKE SA yet"),
                Some(SaState::Established) => (1, "established"),
                Some(SaState::Deleted) => (3, "deleted"),
                Some(_) => (2, "setting up"),
            };
            counts[state] += 1;
            if b.cols == 0 {
                continue;
            }
            let path = sa.map_or(String::new(), |sa| {
                format!(" · {} ⇄ {}", sa.local, sa.remote)
            });
            let address = spec
                .interfaces
                .first()
                .map(|f| f.address.to_string())
                .unwrap_or_default();
            chips.push(Chip {
                host: spec.id.clone(),
                number: k + 1,
                at: b.chip(k),
                state: ["idle", "up", "setup", "gone"][state],
                moved: sa.is_some_and(|sa| spec.peer.is_some_and(|p| p != sa.remote.ip())),
                focused: focus == Some(spec.id.as_str()),
                title: format!(
                    "{} ({address}){path} · {word}; click for its state and its menu",
                    h.label
                ),
            });
        }
        out.push(GroupView {
            id: g.id.clone(),
            key: g.key.clone(),
            title: format!("{} × {}", g.label, g.members.len()),
            addresses,
            centre: b.centre,
            left,
            top,
            width: b.width,
            height: b.height,
            dots,
            chips,
            summary: (b.cols == 0).then(|| {
                format!(
                    "{} established · {} setting up · {} idle",
                    counts[1], counts[2], counts[0]
                )
            }),
        });
    }
    out
}

/// The whole drawing of `world` as `topo` lays it out; `focus` is the host
/// whose full state panel is shown (its chip is marked).
pub fn topology(topo: &Topo, world: &dyn WorldRead, focus: Option<&str>) -> TopologyView {
    let host_views = world.hosts();
    let active = active_links(topo.scenario, &host_views);
    let inet = topo.internet();
    let routes_down = world
        .links()
        .iter()
        .flat_map(|l| {
            l.routes_down
                .iter()
                .map(move |p| format!("✕ {} ↛ {p}", l.label))
        })
        .enumerate()
        .map(|(k, text)| {
            let y = inet[1] + crate::topology::INTERNET_RY + 14.0 + 13.0 * k as f64;
            (text, [inet[0], y])
        })
        .collect();
    TopologyView {
        internet: inet,
        routes_down,
        links: links(topo, world, &active),
        hosts: hosts(topo, &host_views),
        groups: groups(topo, &host_views, focus),
        nats: world
            .nats()
            .iter()
            .map(|n| NatBox {
                centre: topo.layout.get(&n.id).copied().unwrap_or([0.0, 0.0]),
                address: n.public_address.to_string(),
                label: n.label.clone(),
                link: n.link.clone(),
                id: n.id.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::tests::example;
    use crate::topology::{HOST_HALF_WIDTH, find_groups, initial_layout};
    use mobike_protocol::SEC;
    use mobike_sim::{Intervention, World};

    /// The drawing of a scenario without host groups.
    fn ungrouped<'a>(
        scenario: &'a mobike_sim::Scenario,
        layout: &'a std::collections::BTreeMap<String, [f64; 2]>,
    ) -> Topo<'a> {
        Topo {
            scenario,
            layout,
            groups: &[],
        }
    }

    #[test]
    fn the_default_scenario_is_drawn_with_its_nat_on_lte() {
        let scenario = example("wifi-to-lte");
        let layout = initial_layout(&scenario, &[]);
        let topo = ungrouped(&scenario, &layout);
        let mut world = World::new(&scenario);
        world.run_until(3 * SEC);
        world.apply(Intervention::BreakLink {
            link: "wifi".into(),
        });
        let v = topology(&topo, &world, None);
        assert_eq!(v.internet, scenario.internet.pos);
        let ids: Vec<&str> = v.links.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["wifi", "lte", "uplink"]);
        let wifi = &v.links[0];
        assert!(
            !wifi.up && wifi.active,
            "broken, and the SA has not moved yet"
        );
        assert!(wifi.cut.is_some());
        assert_eq!(wifi.caption, "Wi-Fi · 8 ms");
        // The LTE line runs through the NAT box: three points.
        let lte = &v.links[1];
        assert!(lte.up && !lte.active && lte.cut.is_none());
        assert_eq!(lte.points.split(' ').count(), 3);
        let cgn = layout["cgn"];
        assert!(lte.points.contains(&format!("{},{}", cgn[0], cgn[1])));
        // Captions sit above the line: the laptop's lowest link (LTE) would
        // have its caption under it, but its line from the NAT box is steep.
        let (mid, _) = link_midpoint(topo.link_anchor("wifi").unwrap(), v.internet);
        assert_eq!(wifi.caption_at, [mid[0], mid[1] - 8.0]);
        let (mid, [dx, dy]) = link_midpoint(cgn, v.internet);
        assert!(dy.abs() >= 0.6 * dx.abs());
        assert_eq!(lte.caption_at, [mid[0], mid[1] - 8.0]);
        assert_eq!(v.hosts.len(), 2);
        let laptop = &v.hosts[0];
        assert_eq!(
            (laptop.label.as_str(), laptop.role.as_str()),
            ("Laptop", "initiator")
        );
        assert!(laptop.half_width >= HOST_HALF_WIDTH);
        assert_eq!(laptop.top, laptop.centre[1] - laptop.height / 2.0);
        let texts: Vec<&str> = laptop.ifaces.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(texts, ["Wi-Fi 192.0.2.10", "LTE 10.64.0.2"]);
        // The internet is to the right: labels end against their dots.
        assert!(laptop.ifaces.iter().all(|f| f.anchor == "end"));
        assert!(laptop.ifaces[0].text_at[0] < laptop.ifaces[0].dot[0]);
        let gw = &v.hosts[1];
        assert!(gw.ifaces.iter().all(|f| f.anchor == "start"));
        assert!(v.groups.is_empty());
        assert_eq!(v.nats.len(), 1);
        assert_eq!(
            (v.nats[0].link.as_deref(), v.nats[0].address.as_str()),
            (Some("lte"), "198.51.100.1")
        );
    }

    #[test]
    fn a_dual_stack_interface_gets_a_row_per_address_joined_to_its_link() {
        let scenario = example("dual-stack-wifi-to-ipv6-lte");
        let layout = initial_layout(&scenario, &[]);
        let topo = ungrouped(&scenario, &layout);
        let world = World::new(&scenario);
        let v = topology(&topo, &world, None);
        let laptop = &v.hosts[0];
        let dots: Vec<[f64; 2]> = laptop.ifaces.iter().map(|f| f.dot).collect();
        assert_eq!(dots.len(), 3);
        assert!(
            dots[0][1] < dots[1][1] && dots[1][1] < dots[2][1],
            "{dots:?}"
        );
        // Wi-Fi IPv6 shares the Wi-Fi link: its dot joins the link's first
        // dot, where the link's line starts; LTE has a link of its own.
        assert_eq!(laptop.ifaces[0].joins, None);
        assert_eq!(laptop.ifaces[1].joins, Some(dots[0]));
        assert_eq!(laptop.ifaces[2].joins, None);
        assert_eq!(topo.link_anchor("wifi"), Some(dots[0]));
        assert_eq!(topo.link_anchor("lte"), Some(dots[2]));
        let gw = &v.hosts[1];
        assert_eq!(gw.ifaces[1].joins, Some(gw.ifaces[0].dot));
        assert_ne!(gw.ifaces[0].dot, gw.ifaces[1].dot);
    }

    #[test]
    fn an_interface_shows_the_addresses_it_has_now_and_its_link_lights_up_for_an_added_one() {
        let scenario = example("responder-adds-ipv6-address");
        let layout = initial_layout(&scenario, &[]);
        let topo = ungrouped(&scenario, &layout);
        let mut world = World::new(&scenario);
        let uplink = |world: &World| {
            let v = topology(&topo, world, None);
            let link = v.links.iter().find(|l| l.id == "uplink").unwrap().active;
            (v.hosts[1].ifaces[0].text.clone(), link)
        };
        world.run_until(5 * SEC);
        assert_eq!(uplink(&world), ("Uplink 203.0.113.10".into(), true));
        world.run_until(12 * SEC);
        assert_eq!(uplink(&world), ("Uplink 203.0.113.10 +1".into(), true));
        // The IKE SA is on the added IPv6 address now, on the same link.
        world.run_until(25 * SEC);
        assert_eq!(uplink(&world), ("Uplink 2001:db8:ff::10".into(), true));
    }

    #[test]
    fn captions_show_what_changed_live_and_an_attacker_is_one() {
        let scenario = example("wifi-to-lte");
        let layout = initial_layout(&scenario, &[]);
        let topo = ungrouped(&scenario, &layout);
        let mut world = World::new(&scenario);
        world.apply(Intervention::SetLink {
            link: "wifi".into(),
            delay: Some(mobike_sim::duration::Dur(40_500)),
            jitter: Some(mobike_sim::duration::Dur(5_000)),
            loss: Some(0.1),
            duplicate: Some(0.025),
        });
        world.apply(Intervention::SetLinkDirection {
            link: "wifi".into(),
            direction: mobike_sim::Direction::Down,
            up: false,
        });
        let v = topology(&topo, &world, None);
        assert_eq!(
            v.links[0].caption,
            "Wi-Fi · 40.5 ms ± 5 ms · loss 10 % · dup 2.5 % · downlink down"
        );
        assert!(v.links[0].cut.is_some(), "one way down is drawn cut");

        let scenario = example("attacker-spoofed-update");
        let layout = initial_layout(&scenario, &[]);
        let topo = ungrouped(&scenario, &layout);
        let v = topology(&topo, &World::new(&scenario), None);
        let roles: Vec<&str> = v.hosts.iter().map(|h| h.role.as_str()).collect();
        assert_eq!(roles, ["initiator", "attacker", "responder"]);
    }

    #[test]
    fn a_group_has_a_chip_per_member_coloured_by_its_sa() {
        let scenario = example("cluster-20-mobike");
        let groups = find_groups(&scenario);
        let layout = initial_layout(&scenario, &groups);
        let topo = Topo {
            scenario: &scenario,
            layout: &layout,
            groups: &groups,
        };
        let world = World::new(&scenario);
        let v = topology(&topo, &world, Some("client-7"));
        assert_eq!(v.groups.len(), 1);
        let g = &v.groups[0];
        assert_eq!((g.id.as_str(), g.title.as_str()), ("client", "Client × 20"));
        assert_eq!(g.chips.len(), 20);
        assert!(g.chips.iter().all(|c| c.state == "idle" && !c.moved));
        let focused: Vec<&str> = g
            .chips
            .iter()
            .filter(|c| c.focused)
            .map(|c| c.host.as_str())
            .collect();
        assert_eq!(focused, ["client-7"]);
        assert_eq!(g.chips[6].number, 7);
        assert!(
            g.chips[0]
                .title
                .ends_with("no IKE SA yet; click for its state and its menu")
        );
        assert!(g.summary.is_none());
        assert!(!g.dots.is_empty());
        assert!(g.addresses.contains(" – "));
        // Group members are not drawn as hosts of their own.
        assert!(v.hosts.iter().all(|h| !h.id.starts_with("client-")));
        let mut world = world;
        world.run_until(20 * SEC);
        let v = topology(&topo, &world, None);
        assert!(v.groups[0].chips.iter().any(|c| c.state == "up"));
        assert!(v.groups[0].chips[0].title.contains(" ⇄ "));
    }
}
