//! The simulated network: hosts with interfaces on links, links to a central
//! internet, NAT boxes that sit on a link between its host and the internet.
//!
//! A packet from a host crosses its interface's link to the internet (the
//! NAT on that link, if any, translates it on the way), then the internet
//! routes it by destination address to the link that owns it (a host
//! interface address or a NAT's public address) and it crosses that link.
//! Each crossing may lose, duplicate or delay a packet (link.rs); each NAT
//! translates and filters per RFC 4787 (nat.rs).
//!
//! The parts: [`queue`] orders the events and [`step`] runs them;
//! [`routing`] moves packets; [`interventions`] changes the network;
//! [`traffic`] collects what the hosts send (and their pings); [`views`]
//! is what the UI shows; [`attacker`] is the on-path observer that
//! learns from every datagram crossing the internet core.

mod attacker;
mod interventions;
mod queue;
mod record;
mod routing;
mod step;
mod traffic;
pub(crate) mod views;

use crate::link::LinkState;
use crate::nat::NatBox;
use crate::trace::{Bytes, Name, PacketId, Trace};
use crate::vocab::intervention::Intervention;
use crate::vocab::settings::{HostSettings, SettingsLayer};
use crate::vocab::spec::{NatSpec, Scenario};
use attacker::Attacker;
use mobike_protocol::{Endpoint, EndpointConfig, IpProtocol, Role, Time};
use queue::Queue;
use std::net::{IpAddr, SocketAddr};

/// A datagram on its way; its addresses change as NATs translate it.
#[derive(Clone, Debug)]
struct Packet {
    id: PacketId,
    src: SocketAddr,
    dst: SocketAddr,
    payload: Bytes,
    protocol: IpProtocol,
    /// Sent by the attacker: she does not learn from her own packets.
    injected: bool,
}

/// What the queue holds. Indices are `u32` so an event is 16 bytes (and a
/// queued entry 32): a 10,000-client run keeps some 50,000 queued, and
/// the queue moves each entry several times between its buckets.
#[derive(Clone, Debug)]
enum Ev {
    /// The packet crossed `link` from its host to the internet.
    AtInternet {
        link: u32,
        packet: InFlight,
    },
    /// The packet crossed `link` from the internet to its host side.
    AtHost {
        link: u32,
        packet: InFlight,
    },
    /// The ping generator's next request.
    Ping {
        host: u32,
        seq: u16,
    },
    Timer {
        host: u32,
    },
    /// Mapping `id` of NAT `nat` may have run out.
    NatExpiry {
        nat: u32,
        id: u64,
    },
    Start {
        host: u32,
    },
    Scheduled(Box<Intervention>),
    /// A user's change (from the page, saved with the scenario): it comes
    /// at the end of its instant and the chart marks it "(by you)".
    User(Box<Intervention>),
}

#[derive(Clone)]
struct Host {
    endpoint: Endpoint,
    iface_up: Vec<bool>,
    /// Per interface: its addresses, the configured one first. A removed
    /// address stays listed (not present) so packets still sent from or to
    /// it can be dropped with a reason.
    addrs: Vec<Vec<Addr>>,
    timer_at: Option<Time>,
}

#[derive(Clone, Copy, Debug)]
struct Addr {
    ip: IpAddr,
    present: bool,
}

/// A running scenario.
#[derive(Clone)]
pub struct World {
    scenario: Scenario,
    now: Time,
    queue: Queue<Ev>,
    hosts: Vec<Host>,
    links: Vec<LinkState>,
    /// Withdrawn routes of the internet: (link, prefix) pairs between
    /// which packets vanish.
    routes_down: Vec<(usize, mobike_protocol::Subnet)>,
    nats: Vec<NatBox>,
    next_packet: PacketId,
    trace: Trace,
    /// Address -> (host, interface) that have (or had) it, in order.
    owners: rustc_hash::FxHashMap<IpAddr, Vec<(usize, usize)>>,
    /// What [`World::owner_of`] answers, per address: read for every
    /// packet (its source and destination), kept up to date where an
    /// address comes or goes (see [`World::refile_owner`]).
    owner: rustc_hash::FxHashMap<IpAddr, (u32, u32, bool)>,
    /// The on-path observer that `spoof_update` acts as.
    attacker: Attacker,
    /// The ids of hosts, links and NATs, shared by every trace event that
    /// names them.
    names: Names,
    /// Per host and interface: the index of its link.
    iface_link: Vec<Vec<Option<usize>>>,
    /// The one octet of every NAT-keepalive, shared by all of them (a
    /// client behind a NAT sends one every 20 s or so).
    keepalive: Bytes,
    /// The packets crossing a link, which queued events name by number
    /// (one allocation for them all, not one per packet and hop).
    in_flight: Vec<Option<Packet>>,
    /// Numbers in `in_flight` free for the next packet.
    free_slots: Vec<u32>,
    /// Room for what a host's endpoint sends at once (see `after_host`).
    sends: Vec<mobike_protocol::Transmit>,
    /// Files datagrams and protocol events into `trace` (see [`record`]).
    filer: record::Filer,
    /// Where events go instead while a long run files them in the
    /// background (natively: the page's wasm has one thread).
    #[cfg(not(target_arch = "wasm32"))]
    sink: record::SinkSlot,
    /// See [`World::file_in_background_after`].
    #[cfg(not(target_arch = "wasm32"))]
    background_after: u64,
}

/// A packet crossing a link: its number in [`World::in_flight`].
#[derive(Clone, Copy, Debug)]
struct InFlight(u32);

/// The ids of a scenario's elements, by index.
#[derive(Clone, Default)]
struct Names {
    hosts: Vec<Name>,
    links: Vec<Name>,
    nats: Vec<Name>,
}

impl World {
    /// Builds the network of a scenario at time 0 with its timeline queued.
    pub fn new(scenario: &Scenario) -> World {
        // Hosts made with `count` share their settings table: resolve each
        // table once.
        let mut resolved: Option<(Option<&SettingsLayer>, HostSettings)> = None;
        let hosts = scenario
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                // The global settings with this host's exceptions (checked
                // when the file was read).
                let own = h.settings.as_ref();
                let spec = match &resolved {
                    Some((layer, spec)) if *layer == own => spec.clone(),
                    _ => {
                        let spec = h.settings(&scenario.settings).unwrap_or_default();
                        resolved = Some((own, spec.clone()));
                        spec
                    }
                };
                let config = EndpointConfig {
                    role: h.role,
                    id: h
                        .identity
                        .clone()
                        .unwrap_or_else(|| format!("{}.example", h.id)),
                    psk: spec.psk.as_bytes().to_vec(),
                    peer_id: h.peer_identity.clone(),
                    settings: spec.engine,
                };
                let addrs = h
                    .interfaces
                    .iter()
                    .filter(|f| f.up)
                    .map(|f| f.address)
                    .collect();
                // Each host draws from its own stream of the scenario seed.
                let seed = scenario
                    .seed
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .wrapping_add(i as u64 + 1);
                Host {
                    endpoint: Endpoint::new(config, addrs, seed),
                    iface_up: h.interfaces.iter().map(|f| f.up).collect(),
                    addrs: h
                        .interfaces
                        .iter()
                        .map(|f| {
                            vec![Addr {
                                ip: f.address,
                                present: true,
                            }]
                        })
                        .collect(),
                    timer_at: None,
                }
            })
            .collect();
        let nats = scenario
            .nats
            .iter()
            .map(|n| {
                let link = n
                    .link
                    .as_ref()
                    .and_then(|l| scenario.links.iter().position(|x| &x.id == l));
                let mut nat = NatBox::new(n.behaviour(), n.public_address, link);
                nat.forwards = n.forward.clone();
                nat
            })
            .collect();
        let names = Names {
            hosts: scenario.hosts.iter().map(|h| Name::from(&h.id)).collect(),
            links: scenario.links.iter().map(|l| Name::from(&l.id)).collect(),
            nats: scenario.nats.iter().map(|n| Name::from(&n.id)).collect(),
        };
        let mut w = World {
            filer: record::Filer::new(&names),
            #[cfg(not(target_arch = "wasm32"))]
            sink: record::SinkSlot::default(),
            #[cfg(not(target_arch = "wasm32"))]
            background_after: record::BACKGROUND_AFTER,
            in_flight: Vec::new(),
            free_slots: Vec::new(),
            sends: Vec::new(),
            scenario: scenario.clone(),
            now: 0,
            queue: Queue::new(),
            hosts,
            links: scenario
                .links
                .iter()
                .enumerate()
                .map(|(i, l)| LinkState::new(l, i, scenario.seed))
                .collect(),
            routes_down: Vec::new(),
            nats,
            next_packet: 0,
            trace: Trace::default(),
            owners: rustc_hash::FxHashMap::default(),
            owner: rustc_hash::FxHashMap::default(),
            attacker: Attacker::default(),
            names,
            keepalive: Bytes::from(&mobike_wire::udp::KEEPALIVE[..]),
            iface_link: scenario
                .hosts
                .iter()
                .map(|h| {
                    h.interfaces
                        .iter()
                        .map(|f| scenario.links.iter().position(|l| l.id == f.link))
                        .collect()
                })
                .collect(),
        };
        for (h, spec) in scenario.hosts.iter().enumerate() {
            for (f, i) in spec.interfaces.iter().enumerate() {
                w.owners.entry(i.address).or_default().push((h, f));
            }
        }
        let addresses: Vec<IpAddr> = w.owners.keys().copied().collect();
        for ip in addresses {
            w.refile_owner(ip);
        }
        for (i, h) in scenario.hosts.iter().enumerate() {
            if h.role == Role::Initiator {
                w.schedule(h.start_at.micros(), Ev::Start { host: i as u32 });
            }
        }
        if let Some(p) = &scenario.ping {
            let prefix = format!("{}-", p.from);
            let from: Vec<usize> = scenario
                .hosts
                .iter()
                .enumerate()
                .filter(|(_, x)| {
                    x.id == p.from
                        || (p.from == "*" && x.role == Role::Initiator)
                        || x.id
                            .strip_prefix(&prefix)
                            .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
                })
                .map(|(i, _)| i)
                .collect();
            // Several senders are spread over the interval.
            let n = from.len().max(1) as u64;
            for (k, h) in from.into_iter().enumerate() {
                let at = p.start.micros() + p.interval.micros() * k as u64 / n;
                w.schedule(
                    at,
                    Ev::Ping {
                        host: h as u32,
                        seq: 1,
                    },
                );
            }
        }
        for e in &scenario.timeline {
            if let Ok(action) = e.action() {
                if e.user == Some(true) {
                    w.queue.push_late(e.at.micros(), Ev::User(Box::new(action)));
                } else {
                    w.schedule(e.at.micros(), Ev::Scheduled(Box::new(action)));
                }
            }
        }
        w
    }

    /// A world that shows a run recorded elsewhere (a real capture, a real
    /// peer; see [`crate::observed`]): `trace` is its record and nothing is
    /// scheduled, so running it adds nothing. Its clock stands at the
    /// record's end.
    pub fn recorded(scenario: &Scenario, trace: Trace) -> World {
        let mut w = World::new(scenario);
        w.queue = Queue::new();
        w.now = trace.last_time().unwrap_or(0);
        w.set_trace(trace);
        w
    }

    /// The scenario it runs.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The current virtual time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Everything that has happened so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Takes the trace out, leaving an empty one: a copy of the world made
    /// then carries its state without the (append-only, often large)
    /// record of how it got there. Put it back with [`World::set_trace`].
    pub fn take_trace(&mut self) -> Trace {
        self.filer.forget_rows();
        std::mem::take(&mut self.trace)
    }

    /// Gives the world a trace: the one taken with [`World::take_trace`],
    /// or, for a copy of an earlier moment, the same run's trace cut back
    /// to the length it had then.
    pub fn set_trace(&mut self, trace: Trace) {
        self.filer.forget_rows();
        self.trace = trace;
    }

    fn link_index(&self, id: &str) -> Option<usize> {
        self.scenario.links.iter().position(|l| l.id == id)
    }

    fn nat_index(&self, id: &str) -> Option<usize> {
        self.scenario.nats.iter().position(|x| x.id == id)
    }

    fn interface_index(&self, host: &str, interface: &str) -> Option<(usize, usize)> {
        let h = self.scenario.hosts.iter().position(|x| x.id == host)?;
        let f = self.scenario.hosts[h]
            .interfaces
            .iter()
            .position(|x| x.name == interface)?;
        Some((h, f))
    }

    fn link_label(&self, i: usize) -> String {
        let l = &self.scenario.links[i];
        l.name().to_string()
    }

    fn nat_label(&self, n: usize) -> String {
        let s: &NatSpec = &self.scenario.nats[n];
        s.name().to_string()
    }

    /// The addresses of the interfaces that are up, in interface order.
    fn usable_addresses(&self, h: usize) -> Vec<IpAddr> {
        let host = &self.hosts[h];
        host.addrs
            .iter()
            .zip(&host.iface_up)
            .filter(|(_, up)| **up)
            .flat_map(|(a, _)| a.iter().filter(|a| a.present).map(|a| a.ip))
            .collect()
    }

    /// The host and interface an address belongs (or belonged) to: the one
    /// that has it now, or the first in scenario order if none does.
    fn owner_of(&self, ip: IpAddr) -> Option<(usize, usize, bool)> {
        let &(h, f, present) = self.owner.get(&ip)?;
        Some((h as usize, f as usize, present))
    }

    /// Works out [`World::owner_of`] for `ip` anew: after it was added to
    /// or removed from an interface.
    fn refile_owner(&mut self, ip: IpAddr) {
        // An address removed from one interface may be added to another
        // later: the interface that has it now is its owner.
        let mut first = None;
        for &(h, f) in self.owners.get(&ip).into_iter().flatten() {
            let Some(a) = self.hosts[h].addrs[f].iter().find(|a| a.ip == ip) else {
                continue;
            };
            let o = (h as u32, f as u32, a.present);
            if a.present {
                first = Some(o);
                break;
            }
            first.get_or_insert(o);
        }
        match first {
            Some(o) => self.owner.insert(ip, o),
            None => self.owner.remove(&ip),
        };
    }

    /// The NATs on `link`, from the host outwards: a link may carry a
    /// chain of them (a home router behind a carrier's NAT), in the order
    /// the scenario lists them.
    fn nats_on(&self, link: usize) -> Vec<usize> {
        (0..self.nats.len())
            .filter(|&n| self.nats[n].link == Some(link))
            .collect()
    }

    /// Whether NAT `n` is on `link` and translates packets of `address`'s
    /// IP version: a NAT box translates only its own family (a carrier's
    /// NAT44 on a dual-stack link routes IPv6 untouched; an IPv6 path has
    /// a NAT only when a scenario puts one with an IPv6 public address
    /// there).
    fn translates(&self, n: usize, link: usize, address: IpAddr) -> bool {
        let nat = &self.nats[n];
        nat.link == Some(link) && nat.public.is_ipv4() == address.is_ipv4()
    }

    /// The next NAT of `link`'s chain for `address` from the host outwards,
    /// at index `from` or after (no allocation: every packet asks).
    fn nat_outwards(&self, link: usize, address: IpAddr, from: usize) -> Option<usize> {
        (from..self.nats.len()).find(|&n| self.translates(n, link, address))
    }

    /// The next NAT of `link`'s chain for `address` from the internet
    /// inwards, before index `before`.
    fn nat_inwards(&self, link: usize, address: IpAddr, before: usize) -> Option<usize> {
        (0..before)
            .rev()
            .find(|&n| self.translates(n, link, address))
    }
}

#[cfg(test)]
mod sizes {
    /// Every packet goes through the queue, and a large run keeps some
    /// 50,000 entries there, each moved several times: each stays at 32
    /// bytes (time, order and a 16-byte event).
    #[test]
    fn a_queued_event_is_32_bytes() {
        assert_eq!(super::queue::entry_size::<super::Ev>(), 32);
    }
}
