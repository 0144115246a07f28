//! Names in a draft: ids are references, so a rename renames every mention
//! and a removal takes the events that named the removed element with it.
//! Also what new elements start as (fresh ids, free addresses, a place in
//! the drawing) and the event vocabulary the timeline form offers.

use super::{Add, read, to_table, used_addresses};
use mobike_protocol::Role;
use mobike_sim::duration::Dur;
use mobike_sim::scenario::{HostSpec, InterfaceSpec, LinkSpec, NatSpec, TimelineEvent};
use mobike_sim::{Element, Scenario};
use std::net::{IpAddr, Ipv4Addr};

/// What an event's action names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Link,
    /// "host.interface".
    Interface,
    Nat,
    /// "nat@link" or "nat": a NAT, and the link it goes on (see `onto`).
    NatAt,
    /// A responder whose balancer moves clients.
    Responder,
    /// The attacker host.
    Host,
    /// A hint kind; the host it goes to is the `host` modifier.
    Hint,
}

/// One action of `[[event]]`, as docs/scenario-format.md lists them: its
/// key, what it names, and the modifiers that go with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionInfo {
    pub key: &'static str,
    /// In words, for the picker.
    pub label: &'static str,
    pub target: Target,
    pub modifiers: &'static [&'static str],
}

const NAT_FIELDS: &[&str] = &[
    "preset",
    "mapping",
    "filtering",
    "mapping_timeout",
    "inbound_refresh",
    "port_preservation",
    "hairpinning",
    "port_range",
];

/// Every action of the timeline (a test checks this against the event
/// type's own fields, so none is forgotten).
pub const ACTIONS: &[ActionInfo] = &[
    ActionInfo {
        key: "break_link",
        label: "break a link",
        target: Target::Link,
        modifiers: &["direction"],
    },
    ActionInfo {
        key: "restore_link",
        label: "restore a link",
        target: Target::Link,
        modifiers: &["direction"],
    },
    ActionInfo {
        key: "route_down",
        label: "withdraw a route between a link and a prefix",
        target: Target::Link,
        modifiers: &["prefix"],
    },
    ActionInfo {
        key: "route_up",
        label: "restore a route between a link and a prefix",
        target: Target::Link,
        modifiers: &["prefix"],
    },
    ActionInfo {
        key: "set_link",
        label: "change a link's delay, jitter, loss, duplication",
        target: Target::Link,
        modifiers: &["delay", "jitter", "loss", "duplicate"],
    },
    ActionInfo {
        key: "interface_down",
        label: "take an interface down",
        target: Target::Interface,
        modifiers: &[],
    },
    ActionInfo {
        key: "interface_up",
        label: "bring an interface up",
        target: Target::Interface,
        modifiers: &[],
    },
    ActionInfo {
        key: "add_address",
        label: "add an address",
        target: Target::Interface,
        modifiers: &["address", "announce"],
    },
    ActionInfo {
        key: "remove_address",
        label: "remove an address",
        target: Target::Interface,
        modifiers: &["address", "announce"],
    },
    ActionInfo {
        key: "move_nat",
        label: "move a NAT onto a link (or out of every path)",
        target: Target::NatAt,
        modifiers: &[],
    },
    ActionInfo {
        key: "nat_reboot",
        label: "reboot a NAT (mappings lost)",
        target: Target::Nat,
        modifiers: &[],
    },
    ActionInfo {
        key: "nat_address_change",
        label: "give a NAT a new public address",
        target: Target::Nat,
        modifiers: &["address"],
    },
    ActionInfo {
        key: "configure_nat",
        label: "configure a NAT anew (RFC 4787 behaviour)",
        target: Target::Nat,
        modifiers: NAT_FIELDS,
    },
    ActionInfo {
        key: "move_clients",
        label: "a cluster moves its clients",
        target: Target::Responder,
        modifiers: &["to", "by", "count", "from"],
    },
    ActionInfo {
        key: "spoof_update",
        label: "an on-path attacker spoofs an update",
        target: Target::Host,
        modifiers: &["target", "replay"],
    },
    ActionInfo {
        key: "check_liveness",
        label: "a host checks its IKE SA's liveness now",
        target: Target::Host,
        modifiers: &[],
    },
    ActionInfo {
        key: "rekey_child",
        label: "a host rekeys its Child SA now",
        target: Target::Host,
        modifiers: &[],
    },
    ActionInfo {
        key: "rekey_ike",
        label: "a host rekeys its IKE SA now",
        target: Target::Host,
        modifiers: &[],
    },
    ActionInfo {
        key: "hint",
        label: "a lower-layer hint to a host",
        target: Target::Hint,
        modifiers: &["host"],
    },
];

/// The modifiers the timeline form shows with a name of its own (the
/// attacker's `target` is a host, not the action's target).
pub fn action_of(e: &TimelineEvent) -> Option<&'static ActionInfo> {
    let table = to_table(e).ok()?;
    ACTIONS.iter().find(|a| table.contains_key(a.key))
}

/// The value of the event's action key, as written.
pub fn target_of(e: &TimelineEvent) -> String {
    let Some(a) = action_of(e) else {
        return String::new();
    };
    let table = to_table(e).unwrap_or_default();
    let v = table.get(a.key).map(super::text_of).unwrap_or_default();
    match a.target {
        Target::NatAt => v.split('@').next().unwrap_or_default().to_string(),
        _ => v,
    }
}

/// The link a `move_nat` puts its NAT on ("" for none).
pub fn onto_of(e: &TimelineEvent) -> String {
    e.move_nat
        .as_deref()
        .and_then(|v| v.split_once('@'))
        .map(|(_, l)| l.to_string())
        .unwrap_or_default()
}

/// Every host, link and NAT id of the draft.
pub fn ids(s: &Scenario) -> impl Iterator<Item = &str> {
    s.hosts
        .iter()
        .map(|h| h.id.as_str())
        .chain(s.links.iter().map(|l| l.id.as_str()))
        .chain(s.nats.iter().map(|n| n.id.as_str()))
}

/// `base`, or `base2`, `base3`… whichever no element has.
pub fn fresh_id(s: &Scenario, base: &str) -> String {
    let taken = |c: &str| ids(s).any(|id| id == c);
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}{n}"))
        .find(|c| !taken(c))
        .unwrap_or_else(|| base.to_string())
}

/// `a` counted up by `k`.
pub fn offset(a: IpAddr, k: u32) -> Option<IpAddr> {
    match a {
        IpAddr::V4(v) => u32::from(v).checked_add(k).map(|x| IpAddr::V4(x.into())),
        IpAddr::V6(v) => u128::from(v)
            .checked_add(u128::from(k))
            .map(|x| IpAddr::V6(x.into())),
    }
}

/// The first address from `base` on such that it and the `n - 1` after it
/// are unused.
fn fresh_address(s: &Scenario, base: Ipv4Addr, n: u32) -> IpAddr {
    let used = used_addresses(s);
    let base = IpAddr::V4(base);
    (0..4096)
        .filter_map(|k| offset(base, k))
        .find(|a| (0..n).all(|j| offset(*a, j).is_some_and(|x| !used.contains(&x))))
        .unwrap_or(base)
}

/// A new link for a new interface.
fn new_link(s: &mut Scenario) -> String {
    let id = fresh_id(s, "link");
    s.links.push(LinkSpec {
        id: id.clone(),
        label: String::new(),
        delay: Dur(10_000),
        jitter: Dur(0),
        loss: 0.0,
        duplicate: 0.0,
        up: true,
    });
    id
}

/// A new host as `what` asks for, with its interfaces on links of their
/// own (added to the draft) and a free place in the drawing.
pub fn new_host(s: &mut Scenario, what: Add) -> HostSpec {
    let (base, role) = match what {
        Add::Responder => ("gateway", Role::Responder),
        Add::Cluster => ("cluster", Role::Responder),
        Add::Group => ("client", Role::Initiator),
        _ => ("laptop", Role::Initiator),
    };
    let id = fresh_id(s, base);
    let count = (what == Add::Group).then_some(10);
    let (first, n) = match what {
        Add::Responder => (Ipv4Addr::new(203, 0, 113, 10), 1),
        Add::Cluster => (Ipv4Addr::new(198, 51, 100, 10), 2),
        Add::Group => (Ipv4Addr::new(192, 0, 2, 100), 10),
        _ => (Ipv4Addr::new(192, 0, 2, 10), 1),
    };
    let mut interfaces = Vec::new();
    if what == Add::Cluster {
        let a = fresh_address(s, first, 2);
        for (k, name) in ["node1", "node2"].into_iter().enumerate() {
            let link = new_link(s);
            interfaces.push(InterfaceSpec {
                name: name.into(),
                label: format!("node {}", k + 1),
                address: offset(a, k as u32).unwrap_or(a),
                link,
                up: true,
            });
        }
    } else {
        let address = fresh_address(s, first, n);
        let link = new_link(s);
        interfaces.push(InterfaceSpec {
            name: "eth0".into(),
            label: String::new(),
            address,
            link,
            up: true,
        });
    }
    let peer = (role == Role::Initiator)
        .then(|| {
            s.hosts
                .iter()
                .find(|h| h.role == Role::Responder)
                .and_then(|h| h.interfaces.first())
                .map(|i| i.address)
        })
        .flatten();
    let same_side = s
        .hosts
        .iter()
        .filter(|h| h.role == role && h.count.is_none())
        .count() as f64;
    let pos = match (what, role) {
        (Add::Group, _) => [40.0, 40.0],
        (_, Role::Initiator) => [110.0, (70.0 + 90.0 * same_side).min(300.0)],
        (_, Role::Responder) => [620.0, (160.0 + 90.0 * same_side).min(300.0)],
    };
    HostSpec {
        id,
        label: String::new(),
        pos,
        role,
        identity: None,
        peer_identity: None,
        peer,
        fallback_peers: Vec::new(),
        start_at: Dur(0),
        inner_address: None,
        interfaces,
        settings: None,
        count,
        attacker: false,
    }
}

/// Another interface for host entry `k`, on a new link.
pub fn new_interface(s: &mut Scenario, k: usize) -> InterfaceSpec {
    let (role, n, taken): (Role, u32, Vec<String>) = match s.hosts.get(k) {
        Some(h) => (
            h.role,
            h.count.unwrap_or(1),
            h.interfaces.iter().map(|i| i.name.clone()).collect(),
        ),
        None => (Role::Initiator, 1, Vec::new()),
    };
    let name = (0..)
        .map(|j| format!("eth{j}"))
        .find(|c| !taken.contains(c))
        .unwrap_or_else(|| "eth".into());
    let base = match role {
        Role::Initiator => Ipv4Addr::new(192, 0, 2, 10),
        Role::Responder => Ipv4Addr::new(203, 0, 113, 10),
    };
    let address = fresh_address(s, base, n);
    let link = new_link(s);
    InterfaceSpec {
        name,
        label: String::new(),
        address,
        link,
        up: true,
    }
}

/// A new NAT box, in no path yet (drag it onto a link, or pick its link).
pub fn new_nat(s: &Scenario) -> NatSpec {
    let n = s.nats.len() as f64;
    NatSpec {
        id: fresh_id(s, "nat"),
        label: String::new(),
        public_address: fresh_address(s, Ipv4Addr::new(198, 51, 100, 1), 1),
        link: None,
        pos: [265.0 + 60.0 * n, 275.0],
        preset: None,
        mapping: None,
        filtering: None,
        mapping_timeout: None,
        inbound_refresh: None,
        port_preservation: None,
        hairpinning: None,
        port_range: None,
        forward: Vec::new(),
    }
}

/// A new event: the first link breaks, a second after the last event.
pub fn new_event(s: &Scenario) -> TimelineEvent {
    let at = s
        .timeline
        .iter()
        .map(|e| e.at.0)
        .max()
        .map_or(10_000_000, |t| t + 1_000_000);
    let mut e = TimelineEvent {
        at: Dur(at),
        ..TimelineEvent::default()
    };
    e.break_link = Some(s.links.first().map_or(String::new(), |l| l.id.clone()));
    e
}

/// The "host.interface" names the draft has (a group's first copies).
pub fn interface_names(s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    for h in &s.hosts {
        let ids: Vec<String> = match h.count {
            None => vec![h.id.clone()],
            Some(n) => (1..=n.min(20)).map(|k| format!("{}-{k}", h.id)).collect(),
        };
        for id in ids {
            out.extend(h.interfaces.iter().map(|i| format!("{id}.{}", i.name)));
        }
    }
    out
}

/// What the action names first by default.
fn first_target(s: &Scenario, target: Target) -> String {
    let first = |role: Role| {
        s.hosts
            .iter()
            .find(|h| h.role == role)
            .map_or(String::new(), |h| h.id.clone())
    };
    match target {
        Target::Link => s.links.first().map_or(String::new(), |l| l.id.clone()),
        Target::Interface => interface_names(s).into_iter().next().unwrap_or_default(),
        Target::Nat | Target::NatAt => s.nats.first().map_or(String::new(), |n| n.id.clone()),
        Target::Responder => first(Role::Responder),
        Target::Host => s.hosts.first().map_or(String::new(), |h| h.id.clone()),
        Target::Hint => "icmp".into(),
    }
}

/// The event doing `action` instead: its target the first candidate, the
/// modifiers that go with the new action kept and the required ones set.
pub fn with_action(e: &TimelineEvent, action: &str, s: &Scenario) -> Result<TimelineEvent, String> {
    let info = ACTIONS
        .iter()
        .find(|a| a.key == action)
        .ok_or_else(|| format!("unknown action {action:?}"))?;
    let mut table = to_table(e)?;
    let modifiers: Vec<&str> = ACTIONS
        .iter()
        .flat_map(|a| a.modifiers.iter().copied())
        .collect();
    table.retain(|k, _| {
        let k: &str = k;
        let is_action = ACTIONS.iter().any(|a| a.key == k);
        let foreign = modifiers.contains(&k) && !info.modifiers.contains(&k);
        !is_action && !foreign
    });
    let string = |v: String| toml::Value::String(v);
    table.insert(info.key.into(), string(first_target(s, info.target)));
    let fresh = || fresh_address(s, Ipv4Addr::new(192, 0, 2, 200), 1).to_string();
    match info.key {
        "nat_address_change" | "add_address" if !table.contains_key("address") => {
            table.insert("address".into(), string(fresh()));
        }
        "move_clients" if !table.contains_key("to") => {
            let to = s
                .hosts
                .iter()
                .find(|h| h.role == Role::Responder)
                .and_then(|h| h.interfaces.last())
                .map_or_else(fresh, |i| i.address.to_string());
            table.insert("to".into(), string(to));
        }
        "spoof_update" if !table.contains_key("target") => {
            table.insert("target".into(), string(first_target(s, Target::Responder)));
        }
        "hint" if !table.contains_key("host") => {
            let host = s
                .hosts
                .iter()
                .find(|h| h.role == Role::Initiator)
                .map_or(String::new(), |h| h.id.clone());
            table.insert("host".into(), string(host));
        }
        "configure_nat" if !NAT_FIELDS.iter().any(|k| table.contains_key(*k)) => {
            table.insert("preset".into(), string("restricted_cone".into()));
        }
        _ => {}
    }
    read(toml::Value::Table(table))
}

/// The event with its action naming `target` (a `move_nat` keeps its link).
pub fn with_target(e: &TimelineEvent, target: &str) -> Result<TimelineEvent, String> {
    let info = action_of(e).ok_or("the event has no action")?;
    let mut table = to_table(e)?;
    let value = match info.target {
        Target::NatAt => match onto_of(e).as_str() {
            "" => target.to_string(),
            link => format!("{target}@{link}"),
        },
        _ => target.trim().to_string(),
    };
    table.insert(info.key.into(), toml::Value::String(value));
    read(toml::Value::Table(table))
}

/// A `move_nat` onto `link` ("" takes the NAT out of every path).
pub fn with_onto(e: &TimelineEvent, link: &str) -> Result<TimelineEvent, String> {
    let nat = target_of(e);
    let mut out = e.clone();
    out.move_nat = Some(match link {
        "" => nat,
        l => format!("{nat}@{l}"),
    });
    Ok(out)
}

/// `value` with host id `old` renamed to `new`; with `counted`, the ids
/// of a group's copies ("old-3") and patterns ("old-*") too.
fn renamed(value: &str, old: &str, new: &str, counted: bool) -> Option<String> {
    if value == old {
        return Some(new.to_string());
    }
    let rest = value.strip_prefix(old)?.strip_prefix('-')?;
    let copy = rest == "*" || (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()));
    (counted && copy).then(|| format!("{new}-{rest}"))
}

/// Applies `f` to every "host.interface" reference of the timeline.
fn each_interface_ref(s: &mut Scenario, mut f: impl FnMut(&str, &str) -> Option<String>) {
    for e in &mut s.timeline {
        for v in [
            &mut e.interface_down,
            &mut e.interface_up,
            &mut e.add_address,
            &mut e.remove_address,
        ]
        .into_iter()
        .flatten()
        {
            if let Some((h, i)) = v.split_once('.')
                && let Some(new) = f(h, i)
            {
                *v = new;
            }
        }
    }
}

pub fn rename_host(s: &mut Scenario, old: &str, new: &str, counted: bool) {
    each_interface_ref(s, |h, i| {
        renamed(h, old, new, counted).map(|h| format!("{h}.{i}"))
    });
    let fix = |v: &mut Option<String>| {
        if let Some(x) = v.as_deref().and_then(|x| renamed(x, old, new, counted)) {
            *v = Some(x);
        }
    };
    for e in &mut s.timeline {
        fix(&mut e.move_clients);
        fix(&mut e.spoof_update);
        fix(&mut e.target);
        fix(&mut e.host);
    }
    if let Some(p) = &mut s.ping {
        for v in [&mut p.from, &mut p.to] {
            if let Some(x) = renamed(v, old, new, counted) {
                *v = x;
            }
        }
    }
    for x in &mut s.expectations {
        fix(&mut x.host);
    }
    for x in &mut s.steps {
        fix(&mut x.host);
    }
}

pub fn rename_interface(s: &mut Scenario, host: &str, old: &str, new: &str) {
    each_interface_ref(s, |h, i| {
        let ours = h == host || renamed(h, host, host, true).is_some();
        (ours && i == old).then(|| format!("{h}.{new}"))
    });
}

pub fn rename_link(s: &mut Scenario, old: &str, new: &str) {
    for h in &mut s.hosts {
        for i in &mut h.interfaces {
            if i.link == old {
                i.link = new.to_string();
            }
        }
    }
    for n in &mut s.nats {
        if n.link.as_deref() == Some(old) {
            n.link = Some(new.to_string());
        }
    }
    for e in &mut s.timeline {
        for v in [
            &mut e.break_link,
            &mut e.restore_link,
            &mut e.route_down,
            &mut e.route_up,
            &mut e.set_link,
        ]
        .into_iter()
        .flatten()
        {
            if v == old {
                *v = new.to_string();
            }
        }
        if let Some(v) = &mut e.move_nat
            && let Some((nat, l)) = v.split_once('@')
            && l == old
        {
            *v = format!("{nat}@{new}");
        }
    }
}

pub fn rename_nat(s: &mut Scenario, old: &str, new: &str) {
    for e in &mut s.timeline {
        for v in [
            &mut e.nat_reboot,
            &mut e.nat_address_change,
            &mut e.configure_nat,
        ]
        .into_iter()
        .flatten()
        {
            if v == old {
                *v = new.to_string();
            }
        }
        if let Some(v) = &mut e.move_nat {
            let (nat, rest) = match v.split_once('@') {
                Some((n, l)) => (n.to_string(), format!("@{l}")),
                None => (v.clone(), String::new()),
            };
            if nat == old {
                *v = format!("{new}{rest}");
            }
        }
    }
}

/// Does event `e` name host `id` (or, `counted`, one of its copies)?
fn names_host(e: &TimelineEvent, id: &str, counted: bool) -> bool {
    let is = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|x| renamed(x, id, id, counted).is_some())
    };
    let iface = [
        &e.interface_down,
        &e.interface_up,
        &e.add_address,
        &e.remove_address,
    ]
    .into_iter()
    .flatten()
    .any(|v| {
        v.split_once('.')
            .is_some_and(|(h, _)| renamed(h, id, id, counted).is_some())
    });
    iface || is(&e.move_clients) || is(&e.spoof_update) || is(&e.target) || is(&e.host)
}

/// Removes `element` and the events that name it; returns how many events
/// went with it.
pub fn remove(s: &mut Scenario, element: &Element) -> usize {
    let before = s.timeline.len();
    match *element {
        Element::Host(k) if k < s.hosts.len() => {
            let h = s.hosts.remove(k);
            let counted = h.count.is_some();
            s.timeline.retain(|e| !names_host(e, &h.id, counted));
            let named = |v: &str| renamed(v, &h.id, &h.id, counted).is_some();
            if s.ping
                .as_ref()
                .is_some_and(|p| named(&p.from) || named(&p.to))
            {
                s.ping = None;
            }
            s.expectations
                .retain(|x| !x.host.as_deref().is_some_and(named));
            for x in &mut s.steps {
                if x.host.as_deref().is_some_and(named) {
                    x.host = None;
                }
            }
        }
        Element::Interface(k, j) if k < s.hosts.len() && j < s.hosts[k].interfaces.len() => {
            let h = &mut s.hosts[k];
            let i = h.interfaces.remove(j);
            let (host, counted) = (h.id.clone(), h.count.is_some());
            s.timeline.retain(|e| {
                ![
                    &e.interface_down,
                    &e.interface_up,
                    &e.add_address,
                    &e.remove_address,
                ]
                .into_iter()
                .flatten()
                .any(|v| {
                    v.split_once('.').is_some_and(|(h, n)| {
                        n == i.name && renamed(h, &host, &host, counted).is_some()
                    })
                })
            });
        }
        Element::Link(k) if k < s.links.len() => {
            let l = s.links.remove(k);
            for n in &mut s.nats {
                if n.link.as_deref() == Some(l.id.as_str()) {
                    n.link = None;
                }
            }
            s.timeline.retain(|e| {
                let named = [
                    &e.break_link,
                    &e.restore_link,
                    &e.route_down,
                    &e.route_up,
                    &e.set_link,
                ]
                .into_iter()
                .flatten()
                .any(|v| *v == l.id);
                let moved_onto = e
                    .move_nat
                    .as_deref()
                    .and_then(|v| v.split_once('@'))
                    .is_some_and(|(_, x)| x == l.id);
                !named && !moved_onto
            });
        }
        Element::Nat(k) if k < s.nats.len() => {
            let n = s.nats.remove(k);
            s.timeline.retain(|e| {
                let named = [&e.nat_reboot, &e.nat_address_change, &e.configure_nat]
                    .into_iter()
                    .flatten()
                    .any(|v| *v == n.id);
                let moved = e
                    .move_nat
                    .as_deref()
                    .is_some_and(|v| v.split('@').next() == Some(n.id.as_str()));
                !named && !moved
            });
        }
        Element::Event(k) if k < s.timeline.len() => {
            s.timeline.remove(k);
            return 0;
        }
        Element::Ping => s.ping = None,
        _ => {}
    }
    before - s.timeline.len()
}
