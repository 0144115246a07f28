//! The element menus of the topology drawing: for a link, an interface, a
//! NAT box or a host, everything the simulator can do to it (each a ready
//! [`Intervention`], or a form with the current values filled in) and the
//! readers that turn what the user typed into an intervention. The page
//! draws a [`Menu`] and dispatches what the user picked; the session checks
//! it with the simulator's own checks before applying it. Pure data, so the
//! offers and the readers are tested here, natively.

use crate::drawing::TopologyView;
use crate::topology::Topo;
use mobike_protocol::{Role, SaState, Subnet, Time};
use mobike_sim::duration::Dur;
use mobike_sim::vocab::nat::{NatChanges, preset_name};
use mobike_sim::{
    Direction, Filtering, HintKind, HostView, Intervention, LinkView, MappingBehaviour, MoveBy,
    NatBehaviour, NatPreset, WorldRead,
};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// What a menu is for: one element of the drawing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Link(String),
    Interface {
        host: String,
        interface: String,
    },
    Nat(String),
    /// A host drawn on its own, or one member (chip) of a group.
    Host(String),
}

impl Target {
    /// "link:wifi", "interface:laptop.wlan0", "nat:cgn", "host:laptop": the
    /// menu's `data-target`, so tests and styles can tell menus apart.
    pub fn key(&self) -> String {
        match self {
            Target::Link(l) => format!("link:{l}"),
            Target::Interface { host, interface } => format!("interface:{host}.{interface}"),
            Target::Nat(n) => format!("nat:{n}"),
            Target::Host(h) => format!("host:{h}"),
        }
    }
}

/// One click's worth of intervention, ready to apply.
#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    /// Its button's id ("menu-break"): stable, for tests and the keyboard.
    pub id: Cow<'static, str>,
    pub label: String,
    /// What it does, in a sentence (the button's tooltip).
    pub title: String,
    pub action: Intervention,
    /// Why it cannot be done now, if it cannot.
    pub disabled: Option<String>,
}

fn offer(id: &'static str, label: &str, title: &str, action: Intervention) -> Offer {
    Offer {
        id: Cow::Borrowed(id),
        label: label.into(),
        title: title.into(),
        action,
        disabled: None,
    }
}

/// A link's properties now, as numbers (what the form's values are
/// compared with) and as typed (what the form shows).
#[derive(Clone, Debug, PartialEq)]
pub struct LinkProps {
    pub delay: Time,
    pub jitter: Time,
    pub loss: f64,
    pub duplicate: f64,
}

/// A link form's fields as text, as the user typed them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkTyped {
    pub delay: String,
    pub jitter: String,
    pub loss: String,
    pub duplicate: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LinkMenu {
    pub offers: Vec<Offer>,
    pub now: LinkProps,
    /// The form's first values: the properties now, as a file writes them.
    pub typed: LinkTyped,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InterfaceMenu {
    pub host: String,
    pub interface: String,
    /// Unplug or plug in.
    pub offers: Vec<Offer>,
    /// The addresses it has now.
    pub addresses: Vec<IpAddr>,
    /// A free address to offer for "add" (the form's first value).
    pub suggestion: String,
}

/// A NAT form's fields, as the user set them.
#[derive(Clone, Debug, PartialEq)]
pub struct NatTyped {
    pub mapping: MappingBehaviour,
    pub filtering: Filtering,
    pub timeout: String,
    pub inbound_refresh: bool,
    pub port_preservation: bool,
    pub hairpinning: bool,
    pub first_port: String,
    pub last_port: String,
}

impl NatTyped {
    /// The form showing `b`.
    pub fn of(b: &NatBehaviour) -> NatTyped {
        NatTyped {
            mapping: b.mapping,
            filtering: b.filtering,
            timeout: Dur(b.timeout).to_string(),
            inbound_refresh: b.inbound_refresh,
            port_preservation: b.port_preservation,
            hairpinning: b.hairpinning,
            first_port: b.port_range.0.to_string(),
            last_port: b.port_range.1.to_string(),
        }
    }
}

/// The form showing a preset's behaviour (picking a preset fills it in,
/// so what is applied is what the form shows).
pub fn preset_typed(p: NatPreset) -> NatTyped {
    NatTyped::of(&p.behaviour())
}

#[derive(Clone, Debug, PartialEq)]
pub struct NatMenu {
    pub nat: String,
    /// Reboot; take out of the path when it is in one.
    pub offers: Vec<Offer>,
    /// The public address now.
    pub address: String,
    /// A free address to offer for "change the public address".
    pub suggestion: String,
    /// Links it could be put on: (id, label), the one it is on left out.
    pub links: Vec<(String, String)>,
    /// Its behaviour now (what the form's values are compared with).
    pub now: NatBehaviour,
    pub typed: NatTyped,
}

/// A cluster's balancer moving its clients (RFC 4555 responder MOBIKE, or
/// RFC 5685 Redirect).
#[derive(Clone, Debug, PartialEq)]
pub struct MoveMenu {
    /// Its addresses (where clients can go, and where they can come from).
    pub addresses: Vec<IpAddr>,
    /// The address to offer first: one that no client uses now, if any.
    pub suggested: IpAddr,
    /// "20 IKE SAs: 20 on 198.51.100.1".
    pub summary: String,
}

/// An on-path attacker's spoofed updates (RFC 4555 §5).
#[derive(Clone, Debug, PartialEq)]
pub struct AttackMenu {
    /// Whose IKE SA she can try to move: (host id, label), responders first.
    pub targets: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HostMenu {
    pub host: String,
    /// What its IKE daemon can be told to do now: check liveness.
    pub daemon: Vec<Offer>,
    /// The lower-layer hints (RFC 4555 §3.5, §3.8, §5.3).
    pub hints: Vec<Offer>,
    pub moves: Option<MoveMenu>,
    pub attack: Option<AttackMenu>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MenuBody {
    Link(LinkMenu),
    Interface(InterfaceMenu),
    Nat(NatMenu),
    Host(HostMenu),
}

/// Everything one element's menu shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Menu {
    pub target: Target,
    /// "Link Wi-Fi", "Interface Laptop · Wi-Fi", "NAT box CGN", "Mallory".
    pub title: String,
    /// What it is ("attacker", "responder", ...), when that helps.
    pub role: Option<String>,
    /// Its state now, a line each.
    pub status: Vec<String>,
    /// Where the element is in the drawing (its caption, its box's
    /// centre): the menu opens on the other side, so it stays in view.
    pub anchor: [f64; 2],
    /// The id of the element's node in the drawing, to give the focus back
    /// to when the menu closes.
    pub element_id: String,
    pub body: MenuBody,
}

/// The NAT presets of the reference's §7.3 table, in its order.
pub const PRESETS: [NatPreset; 6] = [
    NatPreset::FullCone,
    NatPreset::RestrictedCone,
    NatPreset::PortRestricted,
    NatPreset::Symmetric,
    NatPreset::ShortTimer,
    NatPreset::CarrierGrade,
];

/// A preset's name as a file writes it and as people say it.
pub fn preset_words(p: NatPreset) -> (&'static str, String) {
    let b = p.behaviour();
    (
        preset_name(p),
        format!("{} ({b})", preset_name(p).replace('_', " ")),
    )
}

/// RFC 4787 §4.1 mapping behaviours: (value, file name, words).
pub const MAPPINGS: [(MappingBehaviour, &str, &str); 3] = [
    (
        MappingBehaviour::EndpointIndependent,
        "endpoint_independent",
        "EIM: one outside port per inside address:port",
    ),
    (
        MappingBehaviour::AddressDependent,
        "address_dependent",
        "ADM: a new one per destination address",
    ),
    (
        MappingBehaviour::AddressAndPortDependent,
        "address_and_port_dependent",
        "APDM (symmetric): a new one per destination address:port",
    ),
];

/// RFC 4787 §5 filtering behaviours: (value, file name, words).
pub const FILTERINGS: [(Filtering, &str, &str); 3] = [
    (
        Filtering::EndpointIndependent,
        "endpoint_independent",
        "EIF: anyone may send in",
    ),
    (
        Filtering::AddressDependent,
        "address_dependent",
        "ADF: addresses the inside sent to",
    ),
    (
        Filtering::AddressAndPortDependent,
        "address_and_port_dependent",
        "APDF: only address:port pairs it sent to",
    ),
];

/// "10 %", "0.5 %".
fn percent(p: f64) -> String {
    let v = p * 100.0;
    if (v - v.round()).abs() < 1e-9 {
        format!("{} %", v.round())
    } else {
        format!("{v:.2} %")
    }
}

/// A probability as the form shows it: "0", "0.05".
fn probability_text(p: f64) -> String {
    let s = format!("{p:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() { "0".into() } else { s.into() }
}

/// The menu of `target` as the world is now; `None` when the scenario has
/// no such element (a stale target after another scenario was opened).
pub fn menu(
    topo: &Topo,
    world: &dyn WorldRead,
    view: &TopologyView,
    target: &Target,
) -> Option<Menu> {
    let hosts = world.hosts();
    match target {
        Target::Link(id) => link_menu(world, &hosts, view, id),
        Target::Interface { host, interface } => {
            interface_menu(topo, world, &hosts, view, host, interface)
        }
        Target::Nat(id) => nat_menu(topo, world, &hosts, view, id),
        Target::Host(id) => host_menu(topo, &hosts, view, id),
    }
}

fn link_menu(
    world: &dyn WorldRead,
    hosts: &[HostView],
    view: &TopologyView,
    id: &str,
) -> Option<Menu> {
    let l: LinkView = world.links().iter().find(|l| l.id == id)?.clone();
    let line = view.links.iter().find(|x| x.id == id)?;
    let link = || id.to_string();
    let dir = |direction, up| Intervention::SetLinkDirection {
        link: link(),
        direction,
        up,
    };
    let offers = match (l.uplink, l.downlink) {
        (true, true) => vec![
            offer(
                "menu-break",
                "Break both ways",
                "Every packet on the link vanishes from now on; nobody is told",
                Intervention::BreakLink { link: link() },
            ),
            offer(
                "menu-break-up",
                "Break the uplink only",
                "Packets from the host towards the internet vanish; the other way still works",
                dir(Direction::Up, false),
            ),
            offer(
                "menu-break-down",
                "Break the downlink only",
                "Packets from the internet towards the host vanish; the host's own still get out",
                dir(Direction::Down, false),
            ),
        ],
        (false, false) => vec![
            offer(
                "menu-restore",
                "Restore both ways",
                "The link works again",
                Intervention::RestoreLink { link: link() },
            ),
            offer(
                "menu-restore-up",
                "Restore the uplink only",
                "Packets towards the internet pass again; the downlink stays broken",
                dir(Direction::Up, true),
            ),
            offer(
                "menu-restore-down",
                "Restore the downlink only",
                "Packets towards the host pass again; the uplink stays broken",
                dir(Direction::Down, true),
            ),
        ],
        (up, _) => {
            let (broken, working) = if up {
                (Direction::Down, Direction::Up)
            } else {
                (Direction::Up, Direction::Down)
            };
            let (restore_id, break_id) = match broken {
                Direction::Up => ("menu-restore-up", "menu-break-down"),
                Direction::Down => ("menu-restore-down", "menu-break-up"),
            };
            vec![
                offer(
                    restore_id,
                    &format!("Restore the {broken}"),
                    "The link works both ways again",
                    dir(broken, true),
                ),
                offer(
                    break_id,
                    &format!("Break the {working} too"),
                    "Nothing passes either way",
                    dir(working, false),
                ),
            ]
        }
    };
    // The internet's route from this link to each responder's address
    // elsewhere (where IKE SAs go): withdrawn, the path fails in the
    // middle of the network while every link works.
    // At most eight: a cluster's addresses would fill the screen.
    let gateways = hosts
        .iter()
        .filter(|h| h.role == Role::Responder)
        .flat_map(|h| {
            h.interfaces
                .iter()
                .filter(|f| f.link != id)
                .map(move |f| (h, f.address))
        })
        .take(8);
    let mut offers = offers;
    for (k, (h, address)) in gateways.enumerate() {
        let prefix = Subnet::host(address);
        let down = l.routes_down.contains(&prefix);
        offers.push(Offer {
            id: Cow::Owned(format!("menu-route-{}", k + 1)),
            label: if down {
                format!("Restore the route to {address} ({})", h.label)
            } else {
                format!("Withdraw the route to {address} ({})", h.label)
            },
            title: if down {
                "Packets between this link and that address pass again".into()
            } else {
                "A router in the internet loses its route: packets between this link and that address vanish in the middle of the network, while both links work".into()
            },
            action: Intervention::SetRoute {
                link: link(),
                prefix,
                up: down,
            },
            disabled: None,
        });
    }
    let state = match (l.uplink, l.downlink) {
        (true, true) => "works both ways".to_string(),
        (false, false) => "broken both ways".to_string(),
        (true, false) => "downlink (internet → host) broken, uplink works".to_string(),
        (false, true) => "uplink (host → internet) broken, downlink works".to_string(),
    };
    let mut status = vec![state];
    for p in &l.routes_down {
        status.push(format!("the route to {p} is withdrawn"));
    }
    status.push(format!(
        "delay {}, jitter {}, loss {}, duplication {}",
        Dur(l.delay),
        Dur(l.jitter),
        percent(l.loss),
        percent(l.duplicate)
    ));
    if line.active {
        status.push("an IKE SA's path runs over it".into());
    }
    let now = LinkProps {
        delay: l.delay,
        jitter: l.jitter,
        loss: l.loss,
        duplicate: l.duplicate,
    };
    let typed = LinkTyped {
        delay: Dur(l.delay).to_string(),
        jitter: Dur(l.jitter).to_string(),
        loss: probability_text(l.loss),
        duplicate: probability_text(l.duplicate),
    };
    Some(Menu {
        target: Target::Link(id.to_string()),
        title: format!("Link {}", l.label),
        role: None,
        status,
        anchor: line.caption_at,
        element_id: format!("link-{id}"),
        body: MenuBody::Link(LinkMenu { offers, now, typed }),
    })
}

/// Every address something in the world has or had: the scenario's
/// interfaces and NATs, the NATs' public addresses now and every address
/// an interface gained.
fn used_addresses(topo: &Topo, hosts: &[HostView], world: &dyn WorldRead) -> BTreeSet<IpAddr> {
    let s = topo.scenario;
    let mut used: BTreeSet<IpAddr> = s
        .hosts
        .iter()
        .flat_map(|h| h.interfaces.iter().map(|f| f.address))
        .chain(s.nats.iter().map(|n| n.public_address))
        .collect();
    used.extend(
        hosts
            .iter()
            .flat_map(|h| h.addresses.iter().map(|a| a.address)),
    );
    used.extend(world.nats().iter().map(|n| n.public_address));
    used
}

/// A free address near `base`: the next ones up in its last octet (IPv4)
/// or last group (IPv6), skipping those in use.
pub fn suggest_address(base: IpAddr, used: &BTreeSet<IpAddr>) -> IpAddr {
    for step in [100u32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60] {
        let candidate = match base {
            IpAddr::V4(a) => {
                let mut o = a.octets();
                let last = (o[3] as u32 + step) % 254;
                o[3] = (last.max(1)) as u8;
                IpAddr::from(o)
            }
            IpAddr::V6(a) => {
                let mut g = a.segments();
                g[7] = g[7].wrapping_add(step as u16).max(1);
                IpAddr::from(g)
            }
        };
        if !used.contains(&candidate) {
            return candidate;
        }
    }
    base
}

fn interface_menu(
    topo: &Topo,
    world: &dyn WorldRead,
    hosts: &[HostView],
    view: &TopologyView,
    host: &str,
    interface: &str,
) -> Option<Menu> {
    let (k, h) = hosts.iter().enumerate().find(|(_, h)| h.id == host)?;
    let f = h.interfaces.iter().find(|f| f.name == interface)?;
    let anchor = view
        .hosts
        .iter()
        .find(|b| b.id == host)
        .and_then(|b| b.ifaces.iter().find(|d| d.name == interface))
        .map(|d| d.dot)
        .or_else(|| topo.link_anchor(&f.link))
        .unwrap_or([0.0, 0.0]);
    let set = |up| Intervention::SetInterface {
        host: host.to_string(),
        interface: interface.to_string(),
        up,
    };
    let offers = if f.up {
        vec![offer(
            "menu-unplug",
            "Unplug",
            "The interface goes down and the OS tells the IKE daemon",
            set(false),
        )]
    } else {
        vec![offer(
            "menu-plug",
            "Plug in",
            "The interface comes up and the OS tells the IKE daemon",
            set(true),
        )]
    };
    let addresses: Vec<IpAddr> = h
        .addresses
        .iter()
        .filter(|a| a.interface == interface && a.present)
        .map(|a| a.address)
        .collect();
    let used = used_addresses(topo, hosts, world);
    let suggestion = suggest_address(f.address, &used).to_string();
    let link = topo
        .scenario
        .links
        .iter()
        .find(|l| l.id == f.link)
        .map_or(f.link.as_str(), |l| l.name());
    let words = |a: &[IpAddr]| {
        if a.is_empty() {
            "no address".to_string()
        } else {
            a.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let status = vec![
        format!(
            "{} · on link {link}",
            if f.up { "plugged in" } else { "unplugged" }
        ),
        format!("addresses: {}", words(&addresses)),
    ];
    let name = if f.label.is_empty() {
        &f.name
    } else {
        &f.label
    };
    let element_id = match topo.group_of(k) {
        Some(_) => format!("chip-{host}"),
        None => format!("iface-{host}-{interface}"),
    };
    Some(Menu {
        target: Target::Interface {
            host: host.to_string(),
            interface: interface.to_string(),
        },
        title: format!("Interface {} · {name}", h.label),
        role: None,
        status,
        anchor,
        element_id,
        body: MenuBody::Interface(InterfaceMenu {
            host: host.to_string(),
            interface: interface.to_string(),
            offers,
            addresses,
            suggestion,
        }),
    })
}

fn nat_menu(
    topo: &Topo,
    world: &dyn WorldRead,
    hosts: &[HostView],
    view: &TopologyView,
    id: &str,
) -> Option<Menu> {
    let n = world.nats().iter().find(|n| n.id == id)?.clone();
    let anchor = view
        .nats
        .iter()
        .find(|b| b.id == id)
        .map_or([0.0, 0.0], |b| b.centre);
    let mut offers = vec![offer(
        "menu-reboot",
        "Reboot",
        "Every mapping is lost; new ones get new outside ports",
        Intervention::RebootNat { nat: id.into() },
    )];
    if n.link.is_some() {
        offers.push(offer(
            "menu-take-out",
            "Take it out of the path",
            "The link runs without a NAT; the box forgets its mappings",
            Intervention::PlaceNat {
                nat: id.into(),
                link: None,
            },
        ));
    }
    let label = |l: &str| {
        topo.scenario
            .links
            .iter()
            .find(|x| x.id == l)
            .map_or(l.to_string(), |x| x.name().to_string())
    };
    let links = topo
        .scenario
        .links
        .iter()
        .filter(|l| n.link.as_deref() != Some(l.id.as_str()))
        .map(|l| (l.id.clone(), l.name().to_string()))
        .collect();
    let used = used_addresses(topo, hosts, world);
    let place = match &n.link {
        Some(l) => format!("on link {}", label(l)),
        None => "in no path".to_string(),
    };
    let k = n.mappings.len();
    let status = vec![
        format!("public address {} · {place}", n.public_address),
        format!("RFC 4787: {}", n.behaviour),
        format!("{k} mapping{}", if k == 1 { "" } else { "s" }),
    ];
    Some(Menu {
        target: Target::Nat(id.to_string()),
        title: format!("NAT box {}", n.label),
        role: None,
        status,
        anchor,
        element_id: format!("nat-{id}"),
        body: MenuBody::Nat(NatMenu {
            nat: id.to_string(),
            offers,
            address: n.public_address.to_string(),
            suggestion: suggest_address(n.public_address, &used).to_string(),
            links,
            now: n.behaviour,
            typed: NatTyped::of(&n.behaviour),
        }),
    })
}

fn host_menu(topo: &Topo, hosts: &[HostView], view: &TopologyView, id: &str) -> Option<Menu> {
    let (k, spec) = topo
        .scenario
        .hosts
        .iter()
        .enumerate()
        .find(|(_, h)| h.id == id)?;
    let h = hosts.get(k)?;
    let group = topo.group_of(k);
    let anchor = match group {
        Some(g) => view
            .groups
            .iter()
            .find(|v| v.key == g.key)
            .and_then(|v| v.chips.iter().find(|c| c.host == id))
            .map_or([0.0, 0.0], |c| c.at),
        None => view
            .hosts
            .iter()
            .find(|b| b.id == id)
            .map_or([0.0, 0.0], |b| b.centre),
    };
    let sa = h.sas.iter().rev().find(|sa| sa.state != SaState::Deleted);
    let mut status = vec![match sa {
        Some(sa) => format!(
            "IKE SA {} ⇄ {} ({})",
            sa.local,
            sa.remote,
            format!("{:?}", sa.state).to_lowercase()
        ),
        None => "no IKE SA yet".to_string(),
    }];
    let hint = |id, label: &str, title: &str, kind| {
        let mut o = offer(
            id,
            label,
            title,
            Intervention::Hint {
                host: spec.id.clone(),
                kind,
            },
        );
        if kind != HintKind::NatChanged && sa.is_none() {
            o.disabled = Some("it has no IKE SA, so no peer to be told about".into());
        }
        o
    };
    let hints = if spec.attacker {
        Vec::new()
    } else {
        vec![
            hint(
                "menu-hint-icmp",
                "ICMP error",
                "An ICMP error about the peer: a liveness check follows (RFC 4555 §3.5)",
                HintKind::Icmp,
            ),
            hint(
                "menu-hint-invalid-spi",
                "INVALID_SPI report",
                "An INVALID_SPI report: a liveness check with COOKIE2 (RFC 4555 §5.3)",
                HintKind::InvalidSpi,
            ),
            hint(
                "menu-hint-nat-changed",
                "NAT mapping may have changed",
                "A hint that its NAT mapping may have changed (RFC 4555 §3.8)",
                HintKind::NatChanged,
            ),
        ]
    };
    let daemon = if spec.attacker {
        Vec::new()
    } else {
        let host = || spec.id.clone();
        let mut offers = vec![
            offer(
                "menu-check-liveness",
                "Check liveness now",
                "A liveness check (an INFORMATIONAL request that changes nothing) on each of its IKE SAs now, as its timer would send it (RFC 7296 §1.4, RFC 4555 §3.5)",
                Intervention::CheckLiveness { host: host() },
            ),
            offer(
                "menu-rekey-child",
                "Rekey the Child SA now",
                "A CREATE_CHILD_SA exchange with REKEY_SA: a new Child SA with new keys replaces the current one, which is then deleted (RFC 7296 §1.3.3, §2.8)",
                Intervention::RekeyChild { host: host() },
            ),
            offer(
                "menu-rekey-ike",
                "Rekey the IKE SA now",
                "A CREATE_CHILD_SA exchange with an IKE proposal: a new IKE SA with new SPIs and keys takes over the addresses, NAT state and Child SAs, and the old one is deleted (RFC 7296 §1.3.2, §2.18)",
                Intervention::RekeyIke { host: host() },
            ),
        ];
        let why_not = match sa {
            Some(sa) if sa.state == SaState::Established => None,
            _ => Some("it has no established IKE SA"),
        };
        for o in &mut offers {
            o.disabled = why_not.map(String::from);
        }
        if why_not.is_none() && sa.is_some_and(|sa| sa.child_sas.is_empty()) {
            offers[1].disabled = Some("its IKE SA has no Child SA".into());
        }
        offers
    };
    let own: Vec<IpAddr> = spec.interfaces.iter().map(|f| f.address).collect();
    let moves = (spec.role == mobike_protocol::Role::Responder && !spec.attacker && own.len() >= 2)
        .then(|| {
            let live: Vec<_> = h
                .sas
                .iter()
                .filter(|sa| sa.state != SaState::Deleted)
                .collect();
            let on: Vec<String> = own
                .iter()
                .filter_map(|a| {
                    let n = live.iter().filter(|sa| sa.local.ip() == *a).count();
                    (n > 0).then(|| format!("{n} on {a}"))
                })
                .collect();
            let summary = match (live.len(), on.is_empty()) {
                (0, _) => "no clients yet".to_string(),
                (n, true) => format!("{n} IKE SA{}", if n == 1 { "" } else { "s" }),
                (n, false) => format!(
                    "{n} IKE SA{}: {}",
                    if n == 1 { "" } else { "s" },
                    on.join(", ")
                ),
            };
            let suggested = own
                .iter()
                .copied()
                .find(|a| live.iter().all(|sa| sa.local.ip() != *a))
                .unwrap_or(own[own.len() - 1]);
            MoveMenu {
                addresses: own.clone(),
                suggested,
                summary,
            }
        });
    if let Some(m) = &moves {
        status.push(format!("balancer: {}", m.summary));
    }
    let attack = spec.attacker.then(|| {
        let mut targets: Vec<&mobike_sim::scenario::HostSpec> = topo
            .scenario
            .hosts
            .iter()
            .filter(|t| t.id != spec.id && !t.attacker)
            .collect();
        targets.sort_by_key(|t| t.role != mobike_protocol::Role::Responder);
        AttackMenu {
            targets: targets
                .into_iter()
                .map(|t| (t.id.clone(), t.name().to_string()))
                .collect(),
        }
    });
    if spec.attacker {
        status = vec![
            "on the path: she sees every datagram crossing the internet, but has no keys".into(),
        ];
    }
    let element_id = match group {
        Some(_) => format!("chip-{id}"),
        None => format!("host-{id}"),
    };
    Some(Menu {
        target: Target::Host(id.to_string()),
        title: h.label.clone(),
        role: Some(spec.role_word().to_string()),
        status,
        anchor,
        element_id,
        body: MenuBody::Host(HostMenu {
            host: id.to_string(),
            daemon,
            hints,
            moves,
            attack,
        }),
    })
}

/// Which of a menu's forms an intervention comes from, so an error the
/// simulator's check finds is shown next to the field it concerns.
pub fn form_of(action: &Intervention) -> &'static str {
    match action {
        Intervention::SetLink { .. } => "link",
        Intervention::AddAddress { .. } | Intervention::RemoveAddress { .. } => "address",
        Intervention::ChangeNatAddress { .. } => "nat-address",
        Intervention::PlaceNat { .. } => "place",
        Intervention::ConfigureNat { .. } => "nat-behaviour",
        Intervention::MoveClients { .. } => "move",
        Intervention::SpoofUpdate { .. } => "attack",
        _ => "actions",
    }
}

/// An address as typed: "192.0.2.99", "2001:db8::7".
pub fn read_address(text: &str) -> Result<IpAddr, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("write an address, e.g. 192.0.2.99 or 2001:db8::9".into());
    }
    t.parse().map_err(|_| {
        format!(
            "{:?} is not an IP address (write e.g. 192.0.2.99 or 2001:db8::9)",
            short(t)
        )
    })
}

/// A duration as typed, in the file format's words ("8ms", "1.5s").
fn read_duration(what: &str, text: &str) -> Result<Dur, String> {
    Dur::parse(text).map_err(|e| format!("{what}: {e}"))
}

/// A probability as typed; its range is the simulator's check.
fn read_probability(what: &str, text: &str) -> Result<f64, String> {
    let t = text.trim();
    t.parse::<f64>()
        .ok()
        .filter(|p| p.is_finite())
        .ok_or_else(|| {
            format!(
                "{what}: {:?} is not a number (write 0.0 to 1.0, e.g. 0.1 for 10 %)",
                short(t)
            )
        })
}

/// At most 40 characters of what the user typed, for an error.
fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The link's new properties: only those that differ from now.
pub fn read_set_link(
    link: &str,
    now: &LinkProps,
    typed: &LinkTyped,
) -> Result<Intervention, String> {
    let delay = read_duration("delay", &typed.delay)?;
    let jitter = read_duration("jitter", &typed.jitter)?;
    let loss = read_probability("loss", &typed.loss)?;
    let duplicate = read_probability("duplication", &typed.duplicate)?;
    let changed = |a: f64, b: f64| (a - b).abs() > 1e-12;
    let action = Intervention::SetLink {
        link: link.to_string(),
        delay: (delay.micros() != now.delay).then_some(delay),
        jitter: (jitter.micros() != now.jitter).then_some(jitter),
        loss: changed(loss, now.loss).then_some(loss),
        duplicate: changed(duplicate, now.duplicate).then_some(duplicate),
    };
    match &action {
        Intervention::SetLink {
            delay: None,
            jitter: None,
            loss: None,
            duplicate: None,
            ..
        } => Err("nothing to change: these are the link's values now".into()),
        _ => Ok(action),
    }
}

/// A port as typed.
fn read_port(what: &str, text: &str) -> Result<u16, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "{what}: {:?} is not a port (0 to 65535)",
            short(text.trim())
        )
    })
}

/// The NAT's new behaviour: the preset, if one was picked, and every field
/// that differs from it (or, without a preset, from the behaviour now).
pub fn read_configure_nat(
    nat: &str,
    now: &NatBehaviour,
    preset: Option<NatPreset>,
    typed: &NatTyped,
) -> Result<Intervention, String> {
    let base = preset.map_or(*now, NatPreset::behaviour);
    let timeout = read_duration("mapping timeout", &typed.timeout)?;
    let first = read_port("first port", &typed.first_port)?;
    let last = read_port("last port", &typed.last_port)?;
    let changes = NatChanges {
        preset,
        mapping: (typed.mapping != base.mapping).then_some(typed.mapping),
        filtering: (typed.filtering != base.filtering).then_some(typed.filtering),
        mapping_timeout: (timeout.micros() != base.timeout).then_some(timeout),
        inbound_refresh: (typed.inbound_refresh != base.inbound_refresh)
            .then_some(typed.inbound_refresh),
        port_preservation: (typed.port_preservation != base.port_preservation)
            .then_some(typed.port_preservation),
        hairpinning: (typed.hairpinning != base.hairpinning).then_some(typed.hairpinning),
        port_range: ((first, last) != base.port_range).then_some([first, last]),
    };
    if changes.is_empty() {
        return Err(
            "nothing to change: this is the NAT's behaviour now (pick a preset, or change a field)"
                .into(),
        );
    }
    Ok(Intervention::ConfigureNat {
        nat: nat.to_string(),
        changes,
    })
}

/// The balancer's move: `to` and `from` are addresses as picked ("" for
/// any), `count` as typed ("" or "all" for every client).
pub fn read_move_clients(
    host: &str,
    to: &str,
    by: MoveBy,
    count: &str,
    from: &str,
) -> Result<Intervention, String> {
    let to = read_address(to)?;
    let from = match from.trim() {
        "" | "any" => None,
        a => Some(read_address(a)?),
    };
    let count = match count.trim() {
        "" | "all" => None,
        n => match n.parse::<u32>() {
            Ok(k) if k > 0 => Some(k),
            _ => {
                return Err(format!(
                    "how many: {:?} is not a number of clients (1 or more, or empty for all)",
                    short(n)
                ));
            }
        },
    };
    Ok(Intervention::MoveClients {
        host: host.to_string(),
        to,
        by,
        count,
        from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drawing::topology;
    use crate::topology::tests::example;
    use crate::topology::{find_groups, initial_layout};
    use mobike_protocol::SEC;
    use mobike_sim::{Scenario, World};

    /// The menu of `target` in `scenario` after `run` of virtual time.
    fn menu_of(scenario: &Scenario, world: &World, target: Target) -> Menu {
        let groups = find_groups(scenario);
        let layout = initial_layout(scenario, &groups);
        let topo = Topo {
            scenario,
            layout: &layout,
            groups: &groups,
        };
        let view = topology(&topo, world, None);
        menu(&topo, world, &view, &target).expect("a menu")
    }

    fn ids(offers: &[Offer]) -> Vec<&str> {
        offers.iter().map(|o| o.id.as_ref()).collect()
    }

    #[test]
    fn a_link_offers_what_its_directions_allow() {
        let s = example("wifi-to-lte");
        let mut world = World::new(&s);
        world.run_until(3 * SEC);
        let m = menu_of(&s, &world, Target::Link("wifi".into()));
        assert_eq!(m.title, "Link Wi-Fi");
        assert_eq!(m.element_id, "link-wifi");
        let MenuBody::Link(l) = &m.body else {
            panic!("{m:?}")
        };
        assert_eq!(
            ids(&l.offers),
            [
                "menu-break",
                "menu-break-up",
                "menu-break-down",
                "menu-route-1"
            ]
        );
        // The route to the gateway's address, withdrawn and restored.
        assert_eq!(
            l.offers[3].label,
            "Withdraw the route to 203.0.113.10 (VPN gateway)"
        );
        let mut cut = world.clone();
        cut.apply(l.offers[3].action.clone());
        let m2 = menu_of(&s, &cut, Target::Link("wifi".into()));
        let MenuBody::Link(l2) = &m2.body else {
            panic!()
        };
        assert_eq!(
            l2.offers[3].label,
            "Restore the route to 203.0.113.10 (VPN gateway)"
        );
        assert!(
            m2.status
                .iter()
                .any(|x| x == "the route to 203.0.113.10/32 is withdrawn")
        );
        assert_eq!(l.typed.delay, "8ms");
        assert_eq!(l.typed.loss, "0");
        assert!(m.status[0].contains("works both ways"));
        assert!(m.status.iter().any(|x| x.contains("IKE SA's path")));
        // The downlink breaks: restore it, or break the uplink too.
        world.apply(l.offers[2].action.clone());
        let m = menu_of(&s, &world, Target::Link("wifi".into()));
        let MenuBody::Link(l) = &m.body else { panic!() };
        assert_eq!(
            ids(&l.offers),
            ["menu-restore-down", "menu-break-up", "menu-route-1"]
        );
        assert_eq!(l.offers[0].label, "Restore the downlink");
        world.apply(l.offers[1].action.clone());
        let m = menu_of(&s, &world, Target::Link("wifi".into()));
        let MenuBody::Link(l) = &m.body else { panic!() };
        assert_eq!(
            ids(&l.offers),
            [
                "menu-restore",
                "menu-restore-up",
                "menu-restore-down",
                "menu-route-1"
            ]
        );
        assert!(m.status[0].contains("broken both ways"));
    }

    #[test]
    fn the_link_form_reads_only_what_changed_and_says_what_is_wrong() {
        let now = LinkProps {
            delay: 8000,
            jitter: 0,
            loss: 0.0,
            duplicate: 0.0,
        };
        let typed = |d: &str, j: &str, l: &str, u: &str| LinkTyped {
            delay: d.into(),
            jitter: j.into(),
            loss: l.into(),
            duplicate: u.into(),
        };
        assert_eq!(
            read_set_link("wifi", &now, &typed("8ms", "0s", "0.1", "0")),
            Ok(Intervention::SetLink {
                link: "wifi".into(),
                delay: None,
                jitter: None,
                loss: Some(0.1),
                duplicate: None,
            })
        );
        assert_eq!(
            read_set_link("wifi", &now, &typed("40ms", "5ms", "0", "0.02")),
            Ok(Intervention::SetLink {
                link: "wifi".into(),
                delay: Some(Dur(40_000)),
                jitter: Some(Dur(5000)),
                loss: None,
                duplicate: Some(0.02),
            })
        );
        let e = read_set_link("wifi", &now, &typed("8 parsecs", "0s", "0", "0")).unwrap_err();
        assert!(e.starts_with("delay: duration"), "{e}");
        let e = read_set_link("wifi", &now, &typed("8ms", "0s", "lots", "0")).unwrap_err();
        assert!(e.starts_with("loss: \"lots\" is not a number"), "{e}");
        assert!(
            read_set_link("wifi", &now, &typed("8ms", "0s", "0", "0"))
                .unwrap_err()
                .starts_with("nothing to change")
        );
        // A number out of range is the simulator's check, not the form's.
        assert!(read_set_link("wifi", &now, &typed("8ms", "0s", "1.5", "0")).is_ok());
    }

    #[test]
    fn an_interface_can_be_unplugged_and_given_a_free_address() {
        let s = example("wifi-to-lte");
        let mut world = World::new(&s);
        let target = Target::Interface {
            host: "laptop".into(),
            interface: "wlan0".into(),
        };
        let m = menu_of(&s, &world, target.clone());
        assert_eq!(m.element_id, "iface-laptop-wlan0");
        let MenuBody::Interface(f) = &m.body else {
            panic!()
        };
        assert_eq!(ids(&f.offers), ["menu-unplug"]);
        assert_eq!(f.addresses, ["192.0.2.10".parse::<IpAddr>().unwrap()]);
        assert_eq!(f.suggestion, "192.0.2.110");
        let add = Intervention::AddAddress {
            host: "laptop".into(),
            interface: "wlan0".into(),
            address: f.suggestion.parse().unwrap(),
            announce: false,
        };
        assert_eq!(add.validate(&s), Ok(()));
        world.apply(add);
        world.apply(f.offers[0].action.clone());
        let m = menu_of(&s, &world, target);
        let MenuBody::Interface(f) = &m.body else {
            panic!()
        };
        assert_eq!(ids(&f.offers), ["menu-plug"]);
        assert_eq!(f.addresses.len(), 2);
        assert_eq!(
            f.suggestion, "192.0.2.11",
            "the added one is taken: the next one up"
        );
        assert!(m.status[0].starts_with("unplugged"));
    }

    #[test]
    fn addresses_are_read_or_explained() {
        assert_eq!(
            read_address(" 192.0.2.9 "),
            Ok("192.0.2.9".parse().unwrap())
        );
        assert_eq!(
            read_address("2001:db8::9"),
            Ok("2001:db8::9".parse().unwrap())
        );
        assert!(
            read_address("")
                .unwrap_err()
                .starts_with("write an address")
        );
        assert!(
            read_address("192.0.2.300")
                .unwrap_err()
                .starts_with("\"192.0.2.300\" is not an IP address")
        );
        let used = ["10.0.0.101".parse().unwrap()].into_iter().collect();
        assert_eq!(
            suggest_address("10.0.0.1".parse().unwrap(), &used),
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            suggest_address("2001:db8::1".parse().unwrap(), &BTreeSet::new()),
            "2001:db8::65".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_nat_box_reboots_moves_and_is_configured_by_difference() {
        let s = example("wifi-to-lte");
        let world = World::new(&s);
        let m = menu_of(&s, &world, Target::Nat("cgn".into()));
        assert_eq!(m.element_id, "nat-cgn");
        let MenuBody::Nat(n) = &m.body else { panic!() };
        assert_eq!(ids(&n.offers), ["menu-reboot", "menu-take-out"]);
        let links: Vec<&str> = n.links.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(links, ["wifi", "uplink"], "not the one it is on");
        assert!(m.status[0].contains("on link LTE"));
        let now = n.now;
        // Unchanged: nothing to do.
        assert!(read_configure_nat("cgn", &now, None, &n.typed).is_err());
        // One field.
        let mut typed = n.typed.clone();
        typed.filtering = Filtering::AddressAndPortDependent;
        let Ok(Intervention::ConfigureNat { changes, .. }) =
            read_configure_nat("cgn", &now, None, &typed)
        else {
            panic!()
        };
        assert_eq!(
            changes,
            NatChanges {
                filtering: Some(Filtering::AddressAndPortDependent),
                ..NatChanges::default()
            }
        );
        // A preset, with the form showing the preset's values: the preset alone.
        let preset = NatPreset::Symmetric;
        let typed = NatTyped::of(&preset.behaviour());
        let Ok(Intervention::ConfigureNat { changes, .. }) =
            read_configure_nat("cgn", &now, Some(preset), &typed)
        else {
            panic!()
        };
        assert_eq!(
            changes,
            NatChanges {
                preset: Some(preset),
                ..NatChanges::default()
            }
        );
        let mut typed = n.typed.clone();
        typed.timeout = "soon".into();
        assert!(
            read_configure_nat("cgn", &now, None, &typed)
                .unwrap_err()
                .starts_with("mapping timeout:")
        );
        // A bad range reads, and the simulator's check refuses it.
        let mut typed = n.typed.clone();
        typed.first_port = "5000".into();
        typed.last_port = "4000".into();
        let bad = read_configure_nat("cgn", &now, None, &typed).unwrap();
        assert!(bad.validate(&s).is_err());
    }

    #[test]
    fn hosts_get_hints_clusters_moves_and_attackers_their_attacks() {
        let s = example("wifi-to-lte");
        let mut world = World::new(&s);
        let m = menu_of(&s, &world, Target::Host("laptop".into()));
        assert_eq!(m.role.as_deref(), Some("initiator"));
        let MenuBody::Host(h) = &m.body else { panic!() };
        assert_eq!(
            ids(&h.hints),
            [
                "menu-hint-icmp",
                "menu-hint-invalid-spi",
                "menu-hint-nat-changed"
            ]
        );
        assert!(h.hints[0].disabled.is_some(), "no peer to name yet");
        assert!(h.hints[2].disabled.is_none());
        assert!(h.moves.is_none() && h.attack.is_none());
        world.run_until(3 * SEC);
        let m = menu_of(&s, &world, Target::Host("laptop".into()));
        let MenuBody::Host(h) = &m.body else { panic!() };
        assert!(h.hints.iter().all(|o| o.disabled.is_none()));
        assert!(m.status[0].starts_with("IKE SA 192.0.2.10:4500 ⇄ 203.0.113.10:4500"));

        let s = example("cluster-20-mobike");
        let mut world = World::new(&s);
        world.run_until(5 * SEC);
        let cluster = s
            .hosts
            .iter()
            .find(|h| h.role == mobike_protocol::Role::Responder)
            .unwrap();
        let m = menu_of(&s, &world, Target::Host(cluster.id.clone()));
        let MenuBody::Host(h) = &m.body else { panic!() };
        let moves = h.moves.as_ref().expect("a cluster moves clients");
        assert_eq!(moves.addresses.len(), 2);
        assert_eq!(moves.suggested, moves.addresses[1], "where no client is");
        assert!(
            moves.summary.starts_with("20 IKE SAs: 20 on "),
            "{}",
            moves.summary
        );
        let go = read_move_clients(
            &cluster.id,
            &moves.suggested.to_string(),
            MoveBy::Redirect,
            "5",
            "",
        )
        .unwrap();
        assert_eq!(go.validate(&s), Ok(()));
        assert!(read_move_clients(&cluster.id, "x", MoveBy::Mobike, "", "").is_err());
        assert!(
            read_move_clients(&cluster.id, "198.51.100.2", MoveBy::Mobike, "0", "")
                .unwrap_err()
                .starts_with("how many")
        );
        // A member of the group: its chip is where the focus goes back.
        let m = menu_of(&s, &world, Target::Host("client-3".into()));
        assert_eq!(m.element_id, "chip-client-3");

        let s = example("attacker-spoofed-update");
        let world = World::new(&s);
        let m = menu_of(&s, &world, Target::Host("mallory".into()));
        assert_eq!(m.role.as_deref(), Some("attacker"));
        let MenuBody::Host(h) = &m.body else { panic!() };
        assert!(h.hints.is_empty() && h.moves.is_none());
        let targets: Vec<&str> = h
            .attack
            .as_ref()
            .unwrap()
            .targets
            .iter()
            .map(|t| t.0.as_str())
            .collect();
        assert_eq!(targets, ["gateway", "laptop"], "responders first");
    }

    #[test]
    fn every_form_has_a_place_for_its_errors() {
        assert_eq!(
            form_of(&Intervention::BreakLink { link: "l".into() }),
            "actions"
        );
        assert_eq!(
            form_of(&Intervention::ChangeNatAddress {
                nat: "n".into(),
                address: "192.0.2.1".parse().unwrap()
            }),
            "nat-address"
        );
        assert_eq!(
            Target::Interface {
                host: "a".into(),
                interface: "b".into()
            }
            .key(),
            "interface:a.b"
        );
    }
}
