//! The simulated network: hosts with interfaces on links, links to a central
//! internet, NAT boxes that sit on a link between its host and the internet.
//!
//! A packet from a host crosses its interface's link to the internet (the
//! NAT on that link, if any, translates it on the way), then the internet
//! routes it by destination address to the link that owns it (a host
//! interface address or a NAT's public address) and it crosses that link.

use crate::scenario::{NatSpec, Scenario};
use crate::trace::{PacketId, Trace, TraceKind};
use mobike_protocol::{Endpoint, EndpointConfig, IpProtocol, Role, SaSnapshot, Time};
use mobike_wire::ip::Ping;
use mobike_wire::udp::{IKE_PORT, NATT_PORT};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;
use std::net::{IpAddr, SocketAddr};

/// A change to the network, by the timeline or by the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Intervention {
    /// Packets on the link vanish from now on; nobody is told.
    BreakLink(String),
    RestoreLink(String),
    /// The interface goes down or up and the OS tells the IKE daemon.
    SetInterface {
        host: String,
        interface: String,
        up: bool,
    },
    /// Put a NAT box on a link (it then translates that link's traffic), or
    /// take it out of every path with `None`.
    PlaceNat {
        nat: String,
        link: Option<String>,
    },
}

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
    Start {
        host: usize,
    },
    Scheduled(Intervention),
}

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

struct Host {
    endpoint: Endpoint,
    iface_up: Vec<bool>,
    timer_at: Option<Time>,
}

struct Mapping {
    internal: SocketAddr,
    external_port: u16,
    /// Remote addresses the inside has sent to (address-dependent filtering).
    permits: Vec<IpAddr>,
    expires: Time,
}

struct Nat {
    link: Option<usize>,
    mappings: Vec<Mapping>,
}

/// A host as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostView {
    pub id: String,
    pub label: String,
    pub role: Role,
    pub interfaces: Vec<(String, String, IpAddr, String, bool)>,
    pub sas: Vec<SaSnapshot>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkView {
    pub id: String,
    pub label: String,
    pub up: bool,
    pub delay: Time,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MappingView {
    pub internal: SocketAddr,
    pub external: SocketAddr,
    pub permits: Vec<IpAddr>,
    /// Remaining lifetime.
    pub expires_in: Time,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NatView {
    pub id: String,
    pub label: String,
    pub public_address: IpAddr,
    pub link: Option<String>,
    pub mappings: Vec<MappingView>,
}

/// A running scenario.
pub struct World {
    scenario: Scenario,
    now: Time,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    hosts: Vec<Host>,
    link_up: Vec<bool>,
    nats: Vec<Nat>,
    next_packet: PacketId,
    trace: Trace,
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
        let settings = scenario.settings.to_settings();
        let hosts = scenario
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let config = EndpointConfig {
                    role: h.role,
                    id: h
                        .identity
                        .clone()
                        .unwrap_or_else(|| format!("{}.example", h.id)),
                    psk: scenario.settings.psk.as_bytes().to_vec(),
                    settings: settings.clone(),
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
                    timer_at: None,
                }
            })
            .collect();
        let nats = scenario
            .nats
            .iter()
            .map(|n| Nat {
                link: n
                    .link
                    .as_ref()
                    .and_then(|l| scenario.links.iter().position(|x| &x.id == l)),
                mappings: Vec::new(),
            })
            .collect();
        let mut w = World {
            scenario: scenario.clone(),
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            hosts,
            link_up: scenario.links.iter().map(|l| l.up).collect(),
            nats,
            next_packet: 0,
            trace: Trace::default(),
        };
        for (i, h) in scenario.hosts.iter().enumerate() {
            if h.role == Role::Initiator {
                w.schedule(h.start_at.micros(), Ev::Start { host: i });
            }
        }
        if let Some(p) = &scenario.ping
            && let Some(h) = scenario.hosts.iter().position(|x| x.id == p.from)
        {
            w.schedule(p.start.micros(), Ev::Ping { host: h, seq: 1 });
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
                if let Some(peer) = self.scenario.hosts[host].peer {
                    let now = self.now;
                    self.hosts[host].endpoint.connect(now, peer);
                    self.after_host(host);
                }
            }
            Ev::Scheduled(action) => self.apply_inner(action, false),
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
            Intervention::BreakLink(l) | Intervention::RestoreLink(l) => {
                let up = matches!(action, Intervention::RestoreLink(_));
                let Some(i) = self.link_index(l) else { return };
                if self.link_up[i] == up {
                    return;
                }
                self.link_up[i] = up;
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
                    },
                );
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
                self.nats[n].mappings.clear();
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

    fn usable_addresses(&self, h: usize) -> Vec<IpAddr> {
        self.scenario.hosts[h]
            .interfaces
            .iter()
            .zip(&self.hosts[h].iface_up)
            .filter(|(_, up)| **up)
            .map(|(f, _)| f.address)
            .collect()
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
            Role::Initiator => Some(Ipv4Addr::new(10, 99, 0, 2 + h as u8)),
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
        let iface = spec.interfaces.iter().position(|f| f.address == src.ip());
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
        let (Some(f), Some(link)) = (iface, link) else {
            self.drop_packet(
                id,
                &spec.id.clone(),
                format!("{} has no interface with address {}", spec.id, src.ip()),
            );
            return;
        };
        if !self.hosts[h].iface_up[f] {
            let name = format!("{}.{}", spec.id, spec.interfaces[f].name);
            self.drop_packet(id, &name.clone(), format!("interface {name} is down"));
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

    fn enter_link(&mut self, link: usize, packet: Packet, outbound: bool) {
        if !self.link_up[link] {
            let label = self.link_label(link);
            self.drop_packet(
                packet.id,
                &self.scenario.links[link].id.clone(),
                format!("link {label} is broken"),
            );
            return;
        }
        let at = self.now + self.scenario.links[link].delay.micros();
        let ev = if outbound {
            Ev::AtInternet { link, packet }
        } else {
            Ev::AtHost { link, packet }
        };
        self.schedule(at, ev);
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

    fn at_internet(&mut self, link: usize, mut packet: Packet) {
        if !self.link_up[link] {
            let label = self.link_label(link);
            self.drop_packet(
                packet.id,
                &self.scenario.links[link].id.clone(),
                format!("link {label} broke while the packet was on it"),
            );
            return;
        }
        if let Some(n) = self.nat_on(link) {
            if packet.protocol == IpProtocol::Esp {
                // A NAPT box rewrites ports; plain ESP has none, so it cannot
                // pass (which is why NAT traversal encapsulates it in UDP).
                let label = self.nat_label(n);
                let id = self.scenario.nats[n].id.clone();
                self.drop_packet(
                    packet.id,
                    &id,
                    format!("NAT {label} cannot translate plain ESP (no ports)"),
                );
                return;
            }
            packet.src = self.nat_outbound(n, packet.src, packet.dst);
            self.trace.push(
                self.now,
                TraceKind::Translated {
                    packet: packet.id,
                    nat: self.scenario.nats[n].id.clone(),
                    src: packet.src,
                    dst: packet.dst,
                },
            );
        }
        // Route by destination: a host interface or a NAT's public address.
        let dst = packet.dst.ip();
        let to = self
            .scenario
            .hosts
            .iter()
            .flat_map(|h| h.interfaces.iter())
            .find(|f| f.address == dst)
            .and_then(|f| self.link_index(&f.link))
            .or_else(|| {
                self.scenario
                    .nats
                    .iter()
                    .zip(&self.nats)
                    .find(|(s, _)| s.public_address == dst)
                    .and_then(|(_, n)| n.link)
            });
        match to {
            Some(l) => self.enter_link(l, packet, false),
            None => self.drop_packet(packet.id, "internet", format!("no route to {dst}")),
        }
    }

    fn at_host(&mut self, link: usize, mut packet: Packet) {
        let now = self.now;
        if !self.link_up[link] {
            let label = self.link_label(link);
            self.drop_packet(
                packet.id,
                &self.scenario.links[link].id.clone(),
                format!("link {label} broke while the packet was on it"),
            );
            return;
        }
        if let Some(n) = self.nat_on(link)
            && packet.dst.ip() == self.scenario.nats[n].public_address
        {
            match self.nat_inbound(n, packet.src, packet.dst) {
                Ok(internal) => {
                    packet.dst = internal;
                    self.trace.push(
                        now,
                        TraceKind::Translated {
                            packet: packet.id,
                            nat: self.scenario.nats[n].id.clone(),
                            src: packet.src,
                            dst: packet.dst,
                        },
                    );
                }
                Err(reason) => {
                    let id = self.scenario.nats[n].id.clone();
                    self.drop_packet(packet.id, &id, reason);
                    return;
                }
            }
        }
        let link_id = self.scenario.links[link].id.clone();
        let found = self
            .scenario
            .hosts
            .iter()
            .enumerate()
            .find_map(|(h, spec)| {
                spec.interfaces
                    .iter()
                    .position(|f| f.address == packet.dst.ip() && f.link == link_id)
                    .map(|f| (h, f))
            });
        let Some((h, f)) = found else {
            self.drop_packet(
                packet.id,
                &link_id,
                format!("nobody on link {link_id} has address {}", packet.dst.ip()),
            );
            return;
        };
        let node = self.scenario.hosts[h].id.clone();
        if !self.hosts[h].iface_up[f] {
            let name = format!("{node}.{}", self.scenario.hosts[h].interfaces[f].name);
            self.drop_packet(
                packet.id,
                &name.clone(),
                format!("interface {name} is down"),
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

    /// Endpoint-independent mapping with port preservation where free
    /// (RFC 4787 REQ-1, §4.2.1); the timer is refreshed by outbound traffic
    /// (REQ-6).
    fn nat_outbound(&mut self, n: usize, src: SocketAddr, dst: SocketAddr) -> SocketAddr {
        let now = self.now;
        let public = self.scenario.nats[n].public_address;
        let timeout = self.scenario.nats[n].mapping_timeout.micros();
        let nat = &mut self.nats[n];
        nat.mappings.retain(|m| m.expires > now);
        if let Some(m) = nat.mappings.iter_mut().find(|m| m.internal == src) {
            m.expires = now + timeout;
            if !m.permits.contains(&dst.ip()) {
                m.permits.push(dst.ip());
            }
            return SocketAddr::new(public, m.external_port);
        }
        let mut port = src.port();
        while nat.mappings.iter().any(|m| m.external_port == port) {
            port = if port == u16::MAX { 1024 } else { port + 1 };
        }
        nat.mappings.push(Mapping {
            internal: src,
            external_port: port,
            permits: vec![dst.ip()],
            expires: now + timeout,
        });
        let external = SocketAddr::new(public, port);
        self.trace.push(
            now,
            TraceKind::NatMapping {
                nat: self.scenario.nats[n].id.clone(),
                internal: src,
                external,
            },
        );
        external
    }

    /// Address-dependent filtering (RFC 4787 §5): only from addresses the
    /// inside has sent to.
    fn nat_inbound(
        &mut self,
        n: usize,
        src: SocketAddr,
        dst: SocketAddr,
    ) -> Result<SocketAddr, String> {
        let now = self.now;
        let label = self.nat_label(n);
        let nat = &mut self.nats[n];
        let Some(m) = nat
            .mappings
            .iter()
            .find(|m| m.external_port == dst.port() && m.expires > now)
        else {
            return Err(format!("NAT {label}: no mapping for port {}", dst.port()));
        };
        if !m.permits.contains(&src.ip()) {
            return Err(format!(
                "NAT {label}: filtered, the inside never sent to {}",
                src.ip()
            ));
        }
        Ok(m.internal)
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
                sas: h.endpoint.snapshots(),
            })
            .collect()
    }

    pub fn links(&self) -> Vec<LinkView> {
        self.scenario
            .links
            .iter()
            .zip(&self.link_up)
            .map(|(l, up)| LinkView {
                id: l.id.clone(),
                label: label_or_id(&l.label, &l.id),
                up: *up,
                delay: l.delay.micros(),
            })
            .collect()
    }

    pub fn nats(&self) -> Vec<NatView> {
        self.scenario
            .nats
            .iter()
            .zip(&self.nats)
            .map(|(s, n)| NatView {
                id: s.id.clone(),
                label: label_or_id(&s.label, &s.id),
                public_address: s.public_address,
                link: n.link.map(|l| self.scenario.links[l].id.clone()),
                mappings: n
                    .mappings
                    .iter()
                    .filter(|m| m.expires > self.now)
                    .map(|m| MappingView {
                        internal: m.internal,
                        external: SocketAddr::new(s.public_address, m.external_port),
                        permits: m.permits.clone(),
                        expires_in: m.expires - self.now,
                    })
                    .collect(),
            })
            .collect()
    }
}
