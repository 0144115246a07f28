//! The simulated network: hosts with interfaces on links, links to a central
//! internet, NAT boxes that sit on a link between its host and the internet.
//!
//! A packet from a host crosses its interface's link to the internet (the
//! NAT on that link, if any, translates it on the way), then the internet
//! routes it by destination address to the link that owns it (a host
//! interface address or a NAT's public address) and it crosses that link.
//! Each crossing may lose, duplicate or delay a packet (link.rs); each NAT
//! translates and filters per RFC 4787 (nat.rs).

use crate::link::{Crossing, LinkState};
use crate::nat::{NatBox, Permit};
use crate::trace::{PacketId, Trace, TraceKind};
use crate::vocab::direction::Direction;
use crate::vocab::intervention::{Intervention, MoveBy};
use crate::vocab::nat::NatBehaviour;
use crate::vocab::spec::{NatSpec, Scenario};
use mobike_protocol::{Endpoint, EndpointConfig, IpProtocol, Role, SaSnapshot, Time};
use mobike_wire::ip::Ping;
use mobike_wire::udp::{IKE_PORT, NATT_PORT};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;
use std::net::{IpAddr, SocketAddr};

#[derive(Clone, Debug)]
struct Packet {
    id: PacketId,
    src: SocketAddr,
    dst: SocketAddr,
    payload: Vec<u8>,
    protocol: IpProtocol,
}

#[derive(Clone, Debug)]
enum Ev {
    /// The packet crossed `link` from its host to the internet.
    AtInternet {
        link: usize,
        packet: Packet,
    },
    /// The packet crossed `link` from the internet to its host side.
    AtHost {
        link: usize,
        packet: Packet,
    },
    /// The ping generator's next request.
    Ping {
        host: usize,
        seq: u16,
    },
    Timer {
        host: usize,
    },
    /// Mapping `id` of NAT `nat` may have run out.
    NatExpiry {
        nat: usize,
        id: u64,
    },
    Start {
        host: usize,
    },
    Scheduled(Intervention),
}

#[derive(Clone)]
struct Queued {
    time: Time,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.time, self.seq) == (o.time, o.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.time, self.seq).cmp(&(o.time, o.seq))
    }
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

/// A host as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostView {
    pub id: String,
    pub label: String,
    pub role: Role,
    pub interfaces: Vec<(String, String, IpAddr, String, bool)>,
    /// Every address an interface has had: (interface, address, present).
    /// Added addresses appear here; removed ones stay, not present.
    pub addresses: Vec<(String, IpAddr, bool)>,
    pub sas: Vec<SaSnapshot>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkView {
    pub id: String,
    pub label: String,
    /// Both directions work.
    pub up: bool,
    /// From the host towards the internet.
    pub uplink: bool,
    /// From the internet towards the host.
    pub downlink: bool,
    pub delay: Time,
    pub jitter: Time,
    pub loss: f64,
    pub duplicate: f64,
}

/// One row of a NAT's mapping table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MappingView {
    pub internal: SocketAddr,
    pub external: SocketAddr,
    /// The destination the mapping is for (address-dependent and
    /// address-and-port-dependent mapping); `None` for every destination.
    pub remote: Option<SocketAddr>,
    /// Who may send in through it (by the NAT's filtering).
    pub permits: Vec<Permit>,
    /// Remaining lifetime.
    pub expires_in: Time,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NatView {
    pub id: String,
    pub label: String,
    /// The current public address.
    pub public_address: IpAddr,
    pub link: Option<String>,
    pub behaviour: NatBehaviour,
    pub mappings: Vec<MappingView>,
}

/// A running scenario.
#[derive(Clone)]
pub struct World {
    scenario: Scenario,
    now: Time,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    hosts: Vec<Host>,
    links: Vec<LinkState>,
    nats: Vec<NatBox>,
    next_packet: PacketId,
    trace: Trace,
    /// Address -> (host, interface) that have (or had) it, in order.
    owners: std::collections::HashMap<IpAddr, Vec<(usize, usize)>>,
}

/// A node's label, or its id when it has none.
fn label_or_id(label: &str, id: &str) -> String {
    if label.is_empty() { id } else { label }.to_string()
}

fn is_ike_port(p: u16) -> bool {
    p == IKE_PORT || p == NATT_PORT
}

impl World {
    /// Builds the network of a scenario at time 0 with its timeline queued.
    pub fn new(scenario: &Scenario) -> World {
        let hosts = scenario
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                // The global settings with this host's exceptions.
                let spec = h.settings(&scenario.settings);
                let config = EndpointConfig {
                    role: h.role,
                    id: h
                        .identity
                        .clone()
                        .unwrap_or_else(|| format!("{}.example", h.id)),
                    psk: spec.psk.as_bytes().to_vec(),
                    settings: spec.to_settings(),
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
                NatBox::new(n.behaviour(), n.public_address, link)
            })
            .collect();
        let mut w = World {
            scenario: scenario.clone(),
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            hosts,
            links: scenario
                .links
                .iter()
                .enumerate()
                .map(|(i, l)| LinkState::new(l, i, scenario.seed))
                .collect(),
            nats,
            next_packet: 0,
            trace: Trace::default(),
            owners: std::collections::HashMap::new(),
        };
        for (h, spec) in scenario.hosts.iter().enumerate() {
            for (f, i) in spec.interfaces.iter().enumerate() {
                w.owners.entry(i.address).or_default().push((h, f));
            }
        }
        for (i, h) in scenario.hosts.iter().enumerate() {
            if h.role == Role::Initiator {
                w.schedule(h.start_at.micros(), Ev::Start { host: i });
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
                w.schedule(at, Ev::Ping { host: h, seq: 1 });
            }
        }
        for e in &scenario.timeline {
            if let Ok(action) = e.action() {
                w.schedule(e.at.micros(), Ev::Scheduled(action));
            }
        }
        w
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn now(&self) -> Time {
        self.now
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    fn schedule(&mut self, time: Time, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            time,
            seq: self.seq,
            ev,
        }));
    }

    /// Time of the next queued event.
    pub fn next_event_time(&self) -> Option<Time> {
        self.queue.peek().map(|q| q.0.time)
    }

    /// Processes every event up to and including `until`; time then stands at `until`.
    pub fn run_until(&mut self, until: Time) {
        while self.next_event_time().is_some_and(|t| t <= until) {
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Processes the next event. Returns false when nothing is queued.
    pub fn step(&mut self) -> bool {
        let Some(Reverse(q)) = self.queue.pop() else {
            return false;
        };
        self.now = q.time;
        match q.ev {
            Ev::AtInternet { link, packet } => self.at_internet(link, packet),
            Ev::AtHost { link, packet } => self.at_host(link, packet),
            Ev::Timer { host } => {
                if self.hosts[host].timer_at == Some(self.now) {
                    self.hosts[host].timer_at = None;
                    let now = self.now;
                    self.hosts[host].endpoint.handle_timeout(now);
                    self.after_host(host);
                }
            }
            Ev::Start { host } => {
                let spec = &self.scenario.hosts[host];
                if let Some(peer) = spec.peer {
                    let peers: Vec<IpAddr> = std::iter::once(peer)
                        .chain(spec.fallback_peers.iter().copied())
                        .collect();
                    let now = self.now;
                    self.hosts[host].endpoint.connect_any(now, &peers);
                    self.after_host(host);
                }
            }
            Ev::Scheduled(action) => self.apply_inner(action, false),
            Ev::NatExpiry { nat, id } => {
                self.nat_expire(nat);
                // Refreshed meanwhile: look again when the new timer runs out.
                if let Some(t) = self.nats[nat].expiry_of(id) {
                    self.schedule(t, Ev::NatExpiry { nat, id });
                }
            }
            Ev::Ping { host, seq } => {
                self.send_ping(host, seq);
                if let Some(p) = &self.scenario.ping {
                    let next = self.now + p.interval.micros();
                    self.schedule(
                        next,
                        Ev::Ping {
                            host,
                            seq: seq.wrapping_add(1),
                        },
                    );
                }
            }
        }
        true
    }

    /// The ping generator: one echo request through the tunnel.
    fn send_ping(&mut self, h: usize, seq: u16) {
        let now = self.now;
        let Some(p) = self.scenario.ping.clone() else {
            return;
        };
        let to = self.scenario.hosts.iter().position(|x| x.id == p.to);
        let (Some(src), Some(dst)) = (
            self.inner_address(h),
            to.and_then(|t| self.inner_address(t)),
        ) else {
            return;
        };
        let ping = Ping {
            src,
            dst,
            reply: false,
            ident: 0x4d42,
            seq,
        };
        let carried = self.hosts[h].endpoint.send_data(now, &ping.to_packet());
        self.trace.push(
            now,
            TraceKind::PingSent {
                node: self.scenario.hosts[h].id.clone(),
                seq,
                reply: false,
                carried,
            },
        );
        self.after_host(h);
    }

    /// Applies a user's intervention now.
    pub fn apply(&mut self, action: Intervention) {
        self.apply_inner(action, true);
    }

    fn link_index(&self, id: &str) -> Option<usize> {
        self.scenario.links.iter().position(|l| l.id == id)
    }

    fn apply_inner(&mut self, action: Intervention, by_user: bool) {
        let now = self.now;
        match &action {
            Intervention::BreakLink { link: l } | Intervention::RestoreLink { link: l } => {
                let up = matches!(action, Intervention::RestoreLink { .. });
                let Some(i) = self.link_index(l) else { return };
                let mut changed = false;
                for d in Direction::both() {
                    changed |= self.links[i].set(d, up);
                }
                if !changed {
                    return;
                }
                let label = self.link_label(i);
                self.trace.push(
                    now,
                    TraceKind::Intervention {
                        text: format!("{} link {label}", if up { "restore" } else { "break" }),
                        by_user,
                    },
                );
                self.trace.push(
                    now,
                    TraceKind::Link {
                        link: l.clone(),
                        up,
                        direction: None,
                    },
                );
            }
            Intervention::SetLinkDirection {
                link,
                direction,
                up,
            } => {
                let Some(i) = self.link_index(link) else {
                    return;
                };
                if !self.links[i].set(*direction, *up) {
                    return;
                }
                let label = self.link_label(i);
                self.trace.push(
                    now,
                    TraceKind::Intervention {
                        text: format!(
                            "{} link {label}, {direction} only",
                            if *up { "restore" } else { "break" }
                        ),
                        by_user,
                    },
                );
                self.trace.push(
                    now,
                    TraceKind::Link {
                        link: link.clone(),
                        up: *up,
                        direction: Some(*direction),
                    },
                );
            }
            Intervention::RebootNat { nat } => {
                let Some(n) = self.nat_index(nat) else { return };
                let lost = self.nats[n].reboot(now);
                let label = self.nat_label(n);
                self.trace.push(
                    now,
                    TraceKind::Intervention {
                        text: format!(
                            "NAT {label} reboots: {} mapping{} lost",
                            lost.len(),
                            if lost.len() == 1 { "" } else { "s" }
                        ),
                        by_user,
                    },
                );
                self.trace.push(
                    now,
                    TraceKind::NatRebooted {
                        nat: nat.clone(),
                        mappings_lost: lost.len(),
                    },
                );
            }
            Intervention::ChangeNatAddress { nat, address } => {
                let Some(n) = self.nat_index(nat) else { return };
                if self.nats[n].public == *address {
                    return;
                }
                self.nats[n].public = *address;
                let label = self.nat_label(n);
                self.trace.push(
                    now,
                    TraceKind::Intervention {
                        text: format!("NAT {label}'s public address becomes {address}"),
                        by_user,
                    },
                );
                self.trace.push(
                    now,
                    TraceKind::NatAddress {
                        nat: nat.clone(),
                        address: *address,
                    },
                );
            }
            Intervention::AddAddress {
                host,
                interface,
                address,
                announce,
            } => {
                let Some((h, f)) = self.interface_index(host, interface) else {
                    return;
                };
                let addrs = &mut self.hosts[h].addrs[f];
                match addrs.iter_mut().find(|a| a.ip == *address) {
                    Some(a) if a.present => return,
                    Some(a) => a.present = true,
                    None => {
                        addrs.push(Addr {
                            ip: *address,
                            present: true,
                        });
                        let o = self.owners.entry(*address).or_default();
                        o.push((h, f));
                        o.sort_unstable();
                    }
                }
                self.address_changed(h, f, *address, true, *announce, by_user);
            }
            Intervention::RemoveAddress {
                host,
                interface,
                address,
                announce,
            } => {
                let Some((h, f)) = self.interface_index(host, interface) else {
                    return;
                };
                let address = address.unwrap_or(self.scenario.hosts[h].interfaces[f].address);
                let Some(a) = self.hosts[h].addrs[f]
                    .iter_mut()
                    .find(|a| a.ip == address && a.present)
                else {
                    return;
                };
                a.present = false;
                self.address_changed(h, f, address, false, *announce, by_user);
            }
            Intervention::SetInterface {
                host,
                interface,
                up,
            } => {
                let Some(h) = self.scenario.hosts.iter().position(|x| &x.id == host) else {
                    return;
                };
                let Some(f) = self.scenario.hosts[h]
                    .interfaces
                    .iter()
                    .position(|x| &x.name == interface)
                else {
                    return;
                };
                if self.hosts[h].iface_up[f] == *up {
                    return;
                }
                self.hosts[h].iface_up[f] = *up;
                self.trace.push(
                    now,
                    TraceKind::Intervention {
                        text: format!("{host}.{interface} {}", if *up { "up" } else { "down" }),
                        by_user,
                    },
                );
                self.trace.push(
                    now,
                    TraceKind::Interface {
                        node: host.clone(),
                        interface: interface.clone(),
                        up: *up,
                    },
                );
                // The OS announces the change to the IKE daemon at once.
                let addrs = self.usable_addresses(h);
                self.hosts[h].endpoint.handle_local_addresses(now, addrs);
                self.after_host(h);
            }
            Intervention::PlaceNat { nat, link } => {
                let Some(n) = self.scenario.nats.iter().position(|x| &x.id == nat) else {
                    return;
                };
                let li = match link {
                    Some(l) => match self.link_index(l) {
                        Some(i) => Some(i),
                        None => return,
                    },
                    None => None,
                };
                if self.nats[n].link == li {
                    return;
                }
                // A NAT taken out (or moved) forgets its mappings.
                self.nats[n].link = li;
                self.nats[n].clear();
                let text = match li {
                    Some(i) => format!(
                        "put NAT {} on link {}",
                        self.nat_label(n),
                        self.link_label(i)
                    ),
                    None => format!("take NAT {} out of the path", self.nat_label(n)),
                };
                self.trace
                    .push(now, TraceKind::Intervention { text, by_user });
                self.trace.push(
                    now,
                    TraceKind::NatPlaced {
                        nat: nat.clone(),
                        link: link.clone(),
                    },
                );
            }
            Intervention::MoveClients {
                host,
                to,
                by,
                count,
                from,
            } => {
                let (host, to, by, count, from) = (host.clone(), *to, *by, *count, *from);
                let Some(h) = self.scenario.hosts.iter().position(|x| x.id == host) else {
                    return;
                };
                let chosen: Vec<u64> = self.hosts[h]
                    .endpoint
                    .snapshots()
                    .into_iter()
                    .filter(|s| {
                        s.role == Role::Responder
                            && s.state == mobike_protocol::SaState::Established
                            && s.local.ip() != to
                            && from.is_none_or(|f| s.local.ip() == f)
                    })
                    .filter_map(|s| u64::from_str_radix(&s.spi_i, 16).ok())
                    .take(count.map_or(usize::MAX, |c| c as usize))
                    .collect();
                let how = match by {
                    MoveBy::Mobike => "responder MOBIKE",
                    MoveBy::Redirect => "Redirect",
                };
                let label = label_or_id(&self.scenario.hosts[h].label, &host);
                self.trace.push(
                    now,
                    TraceKind::Intervention {
                        text: format!(
                            "{label}: the balancer moves {} client{} to {to} by {how}",
                            chosen.len(),
                            if chosen.len() == 1 { "" } else { "s" }
                        ),
                        by_user,
                    },
                );
                for spi in chosen {
                    match by {
                        MoveBy::Mobike => self.hosts[h].endpoint.move_peer(now, spi, to),
                        MoveBy::Redirect => self.hosts[h].endpoint.redirect(now, spi, to),
                    };
                }
                self.after_host(h);
            }
            Intervention::SpoofUpdate {
                attacker,
                target,
                replay,
            } => {
                let (attacker, target, replay) = (attacker.clone(), target.clone(), *replay);
                self.spoof_update(&attacker, &target, replay, by_user)
            }
            Intervention::Hint { host, kind } => {
                let (host, kind) = (host.clone(), kind.clone());
                let Some(h) = self.scenario.hosts.iter().position(|x| x.id == host) else {
                    return;
                };
                let peer = self.hosts[h]
                    .endpoint
                    .snapshots()
                    .last()
                    .map(|s| s.remote.ip());
                let hint = match (kind.as_str(), peer) {
                    ("icmp", Some(peer)) => mobike_protocol::Hint::Icmp { peer },
                    ("invalid_spi", Some(peer)) => mobike_protocol::Hint::InvalidSpi { peer },
                    ("nat_changed", _) => mobike_protocol::Hint::NatMappingSuspected,
                    _ => return,
                };
                let label = label_or_id(&self.scenario.hosts[h].label, &host);
                let what = match kind.as_str() {
                    "icmp" => "an ICMP error",
                    "invalid_spi" => "an INVALID_SPI report",
                    _ => "a hint that its NAT mapping may have changed",
                };
                self.trace.push(
                    now,
                    TraceKind::Intervention {
                        text: format!("{label} gets {what}"),
                        by_user,
                    },
                );
                self.hosts[h].endpoint.handle_hint(now, hint);
                self.after_host(h);
            }
        }
    }

    /// The attacker's forged or replayed UPDATE_SA_ADDRESSES (RFC 4555
    /// §5.1): it knows the SPIs (it is on the path) but not the keys.
    fn spoof_update(&mut self, attacker: &str, target: &str, replay: bool, by_user: bool) {
        let now = self.now;
        let (Some(a), Some(t)) = (
            self.scenario.hosts.iter().position(|x| x.id == attacker),
            self.scenario.hosts.iter().position(|x| x.id == target),
        ) else {
            return;
        };
        let Some(src_ip) = self.usable_addresses(a).first().copied() else {
            return;
        };
        let Some(sa) = self.hosts[t].endpoint.snapshots().into_iter().last() else {
            return;
        };
        let spi_i = u64::from_str_radix(&sa.spi_i, 16).unwrap_or(0);
        let spi_r = u64::from_str_radix(&sa.spi_r, 16).unwrap_or(0);
        let dst = sa.local;
        let src = SocketAddr::new(src_ip, dst.port());
        let ike = if replay {
            // The newest UPDATE_SA_ADDRESSES the initiator sent, as captured.
            let Some(bytes) = self.trace.last_update_request(spi_i) else {
                return;
            };
            bytes
        } else {
            use mobike_wire::header::{Flags, Header};
            use mobike_wire::registry::{ExchangeType, NotifyType};
            let header = Header {
                spi_i,
                spi_r,
                next_payload: mobike_wire::PayloadType::None,
                exchange: ExchangeType::INFORMATIONAL,
                flags: Flags::new(true, false),
                message_id: self.trace.next_initiator_mid(spi_i),
                length: 0,
            };
            let inner = [mobike_wire::Payload::Notify(
                mobike_wire::payload::Notify::new(NotifyType::UPDATE_SA_ADDRESSES, vec![]),
            )];
            // A key of its own: without SK_ei it cannot make a valid ICV.
            let key = mobike_wire::crypto::GcmKey {
                key: vec![0x66; 16],
                salt: [0x66; 4],
            };
            match mobike_wire::message::Message::emit_encrypted(header, &inner, &key, [7; 8]) {
                Ok(b) => b,
                Err(_) => return,
            }
        };
        let label = label_or_id(&self.scenario.hosts[a].label, attacker);
        self.trace.push(
            now,
            TraceKind::Intervention {
                text: format!(
                    "{label} sends {} UPDATE_SA_ADDRESSES from {src_ip} to {}",
                    if replay { "a replayed" } else { "a forged" },
                    dst
                ),
                by_user,
            },
        );
        let payload = mobike_wire::udp::frame_ike(&ike, src.port(), dst.port());
        self.send_from(a, src, dst, payload, IpProtocol::Udp);
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

    /// Records an address added or removed and, when the OS announces it,
    /// tells the IKE daemon the new list (RFC 4555 §3.5's trigger).
    fn address_changed(
        &mut self,
        h: usize,
        f: usize,
        address: IpAddr,
        present: bool,
        announce: bool,
        by_user: bool,
    ) {
        let now = self.now;
        let node = self.scenario.hosts[h].id.clone();
        let interface = self.scenario.hosts[h].interfaces[f].name.clone();
        self.trace.push(
            now,
            TraceKind::Intervention {
                text: format!(
                    "{node}.{interface} {} {address}{}",
                    if present { "gains" } else { "loses" },
                    if announce {
                        ""
                    } else {
                        " (the IKE daemon is not told)"
                    }
                ),
                by_user,
            },
        );
        self.trace.push(
            now,
            TraceKind::Address {
                node,
                interface,
                address,
                present,
                announced: announce,
            },
        );
        if announce {
            let addrs = self.usable_addresses(h);
            self.hosts[h].endpoint.handle_local_addresses(now, addrs);
            self.after_host(h);
        }
    }

    fn link_label(&self, i: usize) -> String {
        let l = &self.scenario.links[i];
        label_or_id(&l.label, &l.id)
    }

    fn nat_label(&self, n: usize) -> String {
        let s: &NatSpec = &self.scenario.nats[n];
        label_or_id(&s.label, &s.id)
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

    /// The host and interface an address belongs (or belonged) to: the
    /// first in scenario order.
    fn owner_of(&self, ip: IpAddr) -> Option<(usize, usize, bool)> {
        let &(h, f) = self.owners.get(&ip)?.first()?;
        let present = self.hosts[h].addrs[f].iter().find(|a| a.ip == ip)?.present;
        Some((h, f, present))
    }

    /// Collects what a host's endpoint produced and re-arms its timer.
    fn after_host(&mut self, h: usize) {
        let now = self.now;
        let node = self.scenario.hosts[h].id.clone();
        // The endpoint's transmits are taken first (its documented poll
        // order) but its events are recorded before the packets: an event
        // such as KeysDerived explains the packets sent with it.
        let mut sends = Vec::new();
        while let Some(t) = self.hosts[h].endpoint.poll_transmit() {
            sends.push(t);
        }
        while let Some(e) = self.hosts[h].endpoint.poll_event() {
            self.trace.push(
                now,
                TraceKind::Protocol {
                    node: node.clone(),
                    event: e,
                },
            );
        }
        for t in sends {
            self.send_from(h, t.src, t.dst, t.payload, t.protocol);
        }
        // Inner packets out of the tunnel: pings to us are answered.
        while let Some(inner) = self.hosts[h].endpoint.poll_data() {
            let Ok(ping) = Ping::parse(&inner) else {
                continue;
            };
            self.trace.push(
                now,
                TraceKind::PingReceived {
                    node: node.clone(),
                    seq: ping.seq,
                    reply: ping.reply,
                },
            );
            if !ping.reply && Some(ping.dst) == self.inner_address(h) {
                let answer = ping.reply().to_packet();
                let carried = self.hosts[h].endpoint.send_data(now, &answer);
                self.trace.push(
                    now,
                    TraceKind::PingSent {
                        node: node.clone(),
                        seq: ping.seq,
                        reply: true,
                        carried,
                    },
                );
                self.after_host(h);
            }
        }
        if let Some(t) = self.hosts[h].endpoint.poll_timeout() {
            let t = t.max(now);
            if self.hosts[h].timer_at != Some(t) {
                self.hosts[h].timer_at = Some(t);
                self.schedule(t, Ev::Timer { host: h });
            }
        }
    }

    /// The host's address inside the tunnel (what its pings come from).
    fn inner_address(&self, h: usize) -> Option<Ipv4Addr> {
        let spec = &self.scenario.hosts[h];
        spec.inner_address.or(match spec.role {
            // 10.99.0.2, 10.99.0.3, ... (10.99.4.0 for the 1023rd host).
            Role::Initiator => Some(Ipv4Addr::from(
                u32::from(Ipv4Addr::new(10, 99, 0, 2)) + h as u32,
            )),
            Role::Responder => Some(Ipv4Addr::new(10, 1, 0, 1)),
        })
    }

    fn send_from(
        &mut self,
        h: usize,
        src: SocketAddr,
        dst: SocketAddr,
        payload: Vec<u8>,
        protocol: IpProtocol,
    ) {
        let now = self.now;
        self.next_packet += 1;
        let id = self.next_packet;
        let spec = &self.scenario.hosts[h];
        let owned = self.owner_of(src.ip()).filter(|(o, _, _)| *o == h);
        let iface = owned.map(|(_, f, _)| f);
        let link = iface.and_then(|f| self.link_index(&spec.interfaces[f].link));
        self.trace.push(
            now,
            TraceKind::Sent {
                packet: id,
                node: spec.id.clone(),
                link: link
                    .map(|l| self.scenario.links[l].id.clone())
                    .unwrap_or_default(),
                src,
                dst,
                payload: payload.clone(),
                protocol,
            },
        );
        let (Some((_, f, present)), Some(link)) = (owned, link) else {
            self.drop_packet(
                id,
                &spec.id.clone(),
                format!("{} has no interface with address {}", spec.id, src.ip()),
            );
            return;
        };
        let name = format!("{}.{}", spec.id, spec.interfaces[f].name);
        if !self.hosts[h].iface_up[f] {
            self.drop_packet(id, &name.clone(), format!("interface {name} is down"));
            return;
        }
        if !present {
            // Removed without telling the daemon: it still sends from it.
            self.drop_packet(
                id,
                &name.clone(),
                format!("address {} is no longer on {name}", src.ip()),
            );
            return;
        }
        let packet = Packet {
            id,
            src,
            dst,
            payload,
            protocol,
        };
        self.enter_link(link, packet, true);
    }

    /// The packet starts across `link`: towards the internet (`outbound`)
    /// or towards the host. The link decides whether it is lost, how long
    /// it takes and whether a second copy follows.
    fn enter_link(&mut self, link: usize, packet: Packet, outbound: bool) {
        let direction = if outbound {
            Direction::Up
        } else {
            Direction::Down
        };
        let label = self.link_label(link);
        let link_id = self.scenario.links[link].id.clone();
        let delays = match self.links[link].cross(direction) {
            Crossing::Broken => {
                let reason = if self.links[link].is_up(Direction::Up)
                    || self.links[link].is_up(Direction::Down)
                {
                    format!("link {label} is broken ({direction} only)")
                } else {
                    format!("link {label} is broken")
                };
                self.drop_packet(packet.id, &link_id, reason);
                return;
            }
            Crossing::Lost => {
                self.drop_packet(packet.id, &link_id, format!("loss on link {label}"));
                return;
            }
            Crossing::Arrives(d) => d,
        };
        for (i, delay) in delays.into_iter().enumerate() {
            let mut p = packet.clone();
            if i > 0 {
                // The copy is a packet of its own in the trace.
                self.next_packet += 1;
                p.id = self.next_packet;
                self.trace.push(
                    self.now,
                    TraceKind::Duplicated {
                        packet: packet.id,
                        copy: p.id,
                        link: link_id.clone(),
                    },
                );
            }
            let ev = if outbound {
                Ev::AtInternet { link, packet: p }
            } else {
                Ev::AtHost { link, packet: p }
            };
            self.schedule(self.now + delay, ev);
        }
    }

    fn drop_packet(&mut self, packet: PacketId, at: &str, reason: String) {
        self.trace.push(
            self.now,
            TraceKind::Dropped {
                packet,
                at: at.to_string(),
                reason,
            },
        );
    }

    fn nat_on(&self, link: usize) -> Option<usize> {
        self.nats.iter().position(|n| n.link == Some(link))
    }

    /// The packet reached the far end of a link in `direction`: drop it if
    /// that direction broke while it was on the way.
    fn survived(&mut self, link: usize, direction: Direction, packet: PacketId) -> bool {
        if self.links[link].is_up(direction) {
            return true;
        }
        let label = self.link_label(link);
        self.drop_packet(
            packet,
            &self.scenario.links[link].id.clone(),
            format!("link {label} broke while the packet was on it"),
        );
        false
    }

    fn at_internet(&mut self, link: usize, mut packet: Packet) {
        if !self.survived(link, Direction::Up, packet.id) {
            return;
        }
        if let Some(n) = self.nat_on(link) {
            let label = self.nat_label(n);
            let id = self.scenario.nats[n].id.clone();
            if packet.protocol == IpProtocol::Esp {
                // A NAPT box rewrites ports; plain ESP has none, so it cannot
                // pass (which is why NAT traversal encapsulates it in UDP).
                self.drop_packet(
                    packet.id,
                    &id,
                    format!("NAT {label} cannot translate plain ESP (no ports)"),
                );
                return;
            }
            match self.nat_outbound(n, packet.src, packet.dst) {
                Ok(src) => packet.src = src,
                Err(reason) => {
                    self.drop_packet(packet.id, &id, format!("NAT {label}: {reason}"));
                    return;
                }
            }
            self.trace.push(
                self.now,
                TraceKind::Translated {
                    packet: packet.id,
                    nat: id.clone(),
                    src: packet.src,
                    dst: packet.dst,
                },
            );
            if packet.dst.ip() == self.nats[n].public && !self.nats[n].behaviour.hairpinning {
                self.drop_packet(
                    packet.id,
                    &id,
                    format!(
                        "NAT {label} does not hairpin: {} is its own outside address (RFC 4787 §6)",
                        packet.dst
                    ),
                );
                return;
            }
        }
        // Route by destination: a host interface or a NAT's public address.
        // (A NAT's own address comes back down its link: hairpinning, with
        // the sender's outside address as the source, REQ-9a.)
        let dst = packet.dst.ip();
        let to = self
            .owner_of(dst)
            .and_then(|(h, f, _)| self.link_index(&self.scenario.hosts[h].interfaces[f].link))
            .or_else(|| {
                self.nats
                    .iter()
                    .find(|n| n.public == dst)
                    .and_then(|n| n.link)
            });
        match to {
            Some(l) => self.enter_link(l, packet, false),
            None => self.drop_packet(packet.id, "internet", format!("no route to {dst}")),
        }
    }

    fn at_host(&mut self, link: usize, mut packet: Packet) {
        let now = self.now;
        if !self.survived(link, Direction::Down, packet.id) {
            return;
        }
        if let Some(n) = self.nat_on(link) {
            let id = self.scenario.nats[n].id.clone();
            let label = self.nat_label(n);
            if packet.dst.ip() != self.nats[n].public {
                // Behind a NAT only its public address is reachable.
                self.drop_packet(
                    packet.id,
                    &id,
                    format!(
                        "NAT {label}: {} is behind it; from outside only {} is reachable",
                        packet.dst.ip(),
                        self.nats[n].public
                    ),
                );
                return;
            }
            match self.nat_inbound(n, packet.src, packet.dst) {
                Ok(internal) => {
                    packet.dst = internal;
                    self.trace.push(
                        now,
                        TraceKind::Translated {
                            packet: packet.id,
                            nat: id,
                            src: packet.src,
                            dst: packet.dst,
                        },
                    );
                }
                Err(reason) => {
                    self.drop_packet(packet.id, &id, format!("NAT {label}: {reason}"));
                    return;
                }
            }
        }
        let link_id = self.scenario.links[link].id.clone();
        let found = self
            .owner_of(packet.dst.ip())
            .filter(|(h, f, _)| self.scenario.hosts[*h].interfaces[*f].link == link_id);
        let Some((h, f, present)) = found else {
            self.drop_packet(
                packet.id,
                &link_id,
                format!("nobody on link {link_id} has address {}", packet.dst.ip()),
            );
            return;
        };
        let node = self.scenario.hosts[h].id.clone();
        let name = format!("{node}.{}", self.scenario.hosts[h].interfaces[f].name);
        if !self.hosts[h].iface_up[f] {
            self.drop_packet(
                packet.id,
                &name.clone(),
                format!("interface {name} is down"),
            );
            return;
        }
        if !present {
            self.drop_packet(
                packet.id,
                &name.clone(),
                format!("address {} is no longer on {name}", packet.dst.ip()),
            );
            return;
        }
        if packet.protocol == IpProtocol::Udp && !is_ike_port(packet.dst.port()) {
            self.drop_packet(
                packet.id,
                &node,
                format!("port {} unreachable", packet.dst.port()),
            );
            return;
        }
        self.trace.push(
            now,
            TraceKind::Delivered {
                packet: packet.id,
                node,
                src: packet.src,
                dst: packet.dst,
            },
        );
        let ep = &mut self.hosts[h].endpoint;
        match packet.protocol {
            IpProtocol::Udp => ep.handle_datagram(now, packet.src, packet.dst, &packet.payload),
            IpProtocol::Esp => ep.handle_esp(now, packet.src, packet.dst, &packet.payload),
        }
        self.after_host(h);
    }

    /// Removes the NAT's expired mappings, each an event in the trace.
    fn nat_expire(&mut self, n: usize) {
        let now = self.now;
        let public = self.nats[n].public;
        for m in self.nats[n].expire(now) {
            // Each mapping has its check queued at its expiry, so this
            // runs at that very time.
            self.trace.push(
                now,
                TraceKind::NatMappingExpired {
                    nat: self.scenario.nats[n].id.clone(),
                    internal: m.internal,
                    external: SocketAddr::new(public, m.external_port),
                },
            );
        }
    }

    /// Translates an outbound packet's source (RFC 4787 §4); a new mapping
    /// goes into the trace and gets its expiry check queued.
    fn nat_outbound(
        &mut self,
        n: usize,
        src: SocketAddr,
        dst: SocketAddr,
    ) -> Result<SocketAddr, String> {
        self.nat_expire(n);
        let out = self.nats[n].outbound(self.now, src, dst)?;
        if let Some((id, expires)) = out.created {
            self.trace.push(
                self.now,
                TraceKind::NatMapping {
                    nat: self.scenario.nats[n].id.clone(),
                    internal: src,
                    external: out.src,
                },
            );
            self.schedule(expires, Ev::NatExpiry { nat: n, id });
        }
        Ok(out.src)
    }

    /// Finds the inside endpoint for an inbound packet, if the filter lets
    /// it in (RFC 4787 §5).
    fn nat_inbound(
        &mut self,
        n: usize,
        src: SocketAddr,
        dst: SocketAddr,
    ) -> Result<SocketAddr, String> {
        self.nat_expire(n);
        self.nats[n].inbound(self.now, src, dst)
    }

    /// Hosts with their interfaces and IKE SA state, for the UI.
    pub fn hosts(&self) -> Vec<HostView> {
        self.scenario
            .hosts
            .iter()
            .zip(&self.hosts)
            .map(|(s, h)| HostView {
                id: s.id.clone(),
                label: label_or_id(&s.label, &s.id),
                role: s.role,
                interfaces: s
                    .interfaces
                    .iter()
                    .zip(&h.iface_up)
                    .map(|(f, up)| {
                        (
                            f.name.clone(),
                            f.label.clone(),
                            f.address,
                            f.link.clone(),
                            *up,
                        )
                    })
                    .collect(),
                addresses: s
                    .interfaces
                    .iter()
                    .zip(&h.addrs)
                    .flat_map(|(f, a)| a.iter().map(|a| (f.name.clone(), a.ip, a.present)))
                    .collect(),
                sas: h.endpoint.snapshots(),
            })
            .collect()
    }

    pub fn links(&self) -> Vec<LinkView> {
        self.scenario
            .links
            .iter()
            .zip(&self.links)
            .map(|(l, st)| {
                let (uplink, downlink) = (st.is_up(Direction::Up), st.is_up(Direction::Down));
                LinkView {
                    id: l.id.clone(),
                    label: label_or_id(&l.label, &l.id),
                    up: uplink && downlink,
                    uplink,
                    downlink,
                    delay: st.delay,
                    jitter: st.jitter,
                    loss: st.loss,
                    duplicate: st.duplicate,
                }
            })
            .collect()
    }

    /// Each NAT with its behaviour and mapping table as of now: every live
    /// mapping with who may send in and how long it has left.
    pub fn nats(&self) -> Vec<NatView> {
        self.scenario
            .nats
            .iter()
            .zip(&self.nats)
            .map(|(s, n)| NatView {
                id: s.id.clone(),
                label: label_or_id(&s.label, &s.id),
                public_address: n.public,
                link: n.link.map(|l| self.scenario.links[l].id.clone()),
                behaviour: n.behaviour,
                mappings: n
                    .mappings()
                    .iter()
                    .filter(|m| m.expires > self.now)
                    .map(|m| MappingView {
                        internal: m.internal,
                        external: SocketAddr::new(n.public, m.external_port),
                        remote: m.remote,
                        permits: n.permits(m),
                        expires_in: m.expires - self.now,
                    })
                    .collect(),
            })
            .collect()
    }
}
