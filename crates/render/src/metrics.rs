//! Figures of a run, from its trace alone: ping traffic through the tunnel
//! (sent, answered, lost, the longest outage), ESP and IKE packets and
//! octets, for the whole run, per client and per host, and for each trigger
//! (an intervention of the timeline or the user) how long each client took
//! to have a working path again.
//!
//! A *client* is a host that sent an IKE_SA_INIT request (the original
//! initiator of an IKE SA, RFC 7296 §2.2); every ESP packet belongs to the
//! client of the IKE SA whose Child SA carries it, whichever side sent it.

use mobike_protocol::{Event, IpProtocol, Time};
use mobike_sim::shared::Name;
use mobike_sim::{Trace, TraceKind};
use mobike_wire::header::HeaderPacket;
use mobike_wire::registry::ExchangeType;
use mobike_wire::udp::{UdpPayload, classify};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// Pings sent later than this before the end of the trace may still be on
/// their way: they count neither as answered nor as lost.
const IN_FLIGHT: Time = 1_000_000;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub pings_sent: u32,
    pub pings_answered: u32,
    /// Requests whose reply never came (within the run).
    pub pings_lost: u32,
    /// Requests sent while no IPsec SA existed to carry them.
    pub pings_not_carried: u32,
    /// The longest outage of any client: see [`ClientMetrics::longest_gap`].
    pub longest_gap: Time,
    pub esp_packets: u32,
    pub esp_lost: u32,
    pub ike_messages: u32,
    pub ike_octets: u64,
    pub ike_lost: u32,
    pub keepalives: u32,
    /// ESP packets sent and lost, by the SPI they carried (one direction
    /// of one Child SA each): the traffic panel's rows per Child SA.
    #[serde(skip)]
    pub esp_by_spi: BTreeMap<u32, (u32, u32)>,
    /// Each client, in the order of its first IKE_SA_INIT request.
    pub clients: Vec<ClientMetrics>,
    /// What each host sent, in the order of its first packet.
    pub hosts: Vec<HostMetrics>,
    /// Each intervention, with each client's time to a working path.
    pub triggers: Vec<Trigger>,
}

/// One client's traffic.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClientMetrics {
    pub node: String,
    pub pings_sent: u32,
    pub pings_answered: u32,
    pub pings_lost: u32,
    pub pings_not_carried: u32,
    /// The longest outage: the longest time between the send times of two
    /// consecutive answered requests (the ping interval when nothing is
    /// lost), counting from the first request and up to the end of the run.
    /// Microseconds.
    pub longest_gap: Time,
    /// ESP packets of this client's Child SAs, both directions.
    pub esp_packets: u32,
    pub esp_lost: u32,
}

/// What one host sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HostMetrics {
    pub node: String,
    /// IKE messages sent (retransmissions included) and their octets (the
    /// IKE message, without the non-ESP marker).
    pub ike_messages: u32,
    pub ike_octets: u64,
    /// Of those, lost on the way.
    pub ike_lost: u32,
    pub esp_packets: u32,
    pub esp_lost: u32,
    pub keepalives: u32,
}

/// An intervention and what it cost each client.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trigger {
    pub time: Time,
    pub text: String,
    pub by_user: bool,
    pub recoveries: Vec<Recovery>,
}

/// How long after a trigger a client had a working path again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recovery {
    pub client: String,
    /// From the trigger until the IPsec SAs of the client's IKE SA had moved
    /// on both ends: the later of the first `IpsecPathChanged` after the
    /// trigger at the client and at its peer (RFC 4555 §3.5). `None`: they
    /// did not both move.
    pub path_changed_after: Option<Time>,
    /// From the trigger until the first reply to a ping sent at or after it
    /// came back to the client. `None`: none came.
    pub ping_answered_after: Option<Time>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ike,
    Esp,
    Keepalive,
    Other,
}

/// One echo request of the ping generator.
#[derive(Clone)]
struct PingRecord {
    /// The host that sent it (the client, or its peer pinging the client).
    node: Name,
    sent: Time,
    carried: bool,
    /// The client whose tunnel carried it, once known.
    client: Option<usize>,
    /// When the reply came back.
    answered: Option<Time>,
}

/// Computes the figures of a trace, up to its last event (see
/// [`compute_at`]). A request counts as answered when its
/// reply came back to the host that sent it. A ping belongs to the client
/// that sent it, or, when a client's peer sends it, to the client whose
/// Child SA carried it (the ESP packet the sender emits at the same
/// instant), so the outage is the client's whichever side pings.
pub fn compute(trace: &Trace) -> Metrics {
    compute_at(trace, trace.last_time().unwrap_or(0))
}

/// The figures of a run as they stood at `end`: only the events at or
/// before `end` count, and `end` is where the run is taken to stop (the
/// last outage runs up to it; a ping sent within a second of it is still
/// in flight, neither answered nor lost).
///
/// So the figures at a moment do not depend on how far the simulation has
/// gone past it: `compute_at(w.trace(), t)` is the same for a world run to
/// `t` (`World::run_until(t)`, as `mobike compare --until t` does) and for
/// one run further, because the simulator records every event at the
/// virtual time it happens and events at or before `t` never depend on
/// later ones. It is what a page showing two runs at one clock needs.
/// `compute(trace)` of a world run to `t` is `compute_at(trace, e)` with
/// `e` the time of the last event, which may be earlier than `t` (the
/// longest outage then ends at `e`).
pub fn compute_at(trace: &Trace, end: Time) -> Metrics {
    let mut b = MetricsBuilder::default();
    for e in trace.iter().take_while(|e| e.time <= end) {
        b.feed(&e);
    }
    b.metrics(end)
}

/// The figures of a growing trace, kept up to date event by event: what
/// [`compute`] finds by reading the whole trace, at the cost of the events
/// added since the last [`MetricsBuilder::update`] (the page's traffic panel
/// follows a run this way, so a tick does not reread an hour of trace).
#[derive(Clone, Default)]
pub struct MetricsBuilder {
    /// How many of the trace's events were read.
    done: usize,
    /// The time of the last event read.
    last: Time,
    /// Per packet under way: its kind, sending host, client and ESP SPI.
    kind_of: HashMap<u64, (Kind, usize, Option<usize>, Option<u32>)>,
    esp_by_spi: BTreeMap<u32, (u32, u32)>,
    hosts: Vec<HostMetrics>,
    clients: Vec<ClientMetrics>,
    pings: Vec<PingRecord>,
    /// The latest request of each (sender, seq).
    ping_of: HashMap<(Name, u16), usize>,
    /// The client of the last ESP packet each host sent.
    last_client: HashMap<Name, usize>,
    /// IKE SA (initiator SPI) -> client; ESP SPI -> IKE SA.
    client_of_sa: HashMap<u64, usize>,
    sa_of_esp: HashMap<u32, u64>,
    /// Per IKE SA: (node, time) of each IpsecPathChanged.
    path_changes: HashMap<u64, Vec<(String, Time)>>,
    interventions: Vec<(Time, String, bool)>,
    /// Hosts and clients in order of first appearance, with an index by
    /// name so each lookup is one hash probe, not a scan of every host.
    host_at: HashMap<String, usize>,
    client_at: HashMap<String, usize>,
}

fn index<T>(
    v: &mut Vec<T>,
    at: &mut HashMap<String, usize>,
    node: &str,
    new: impl Fn() -> T,
) -> usize {
    if let Some(&i) = at.get(node) {
        return i;
    }
    v.push(new());
    at.insert(node.to_string(), v.len() - 1);
    v.len() - 1
}

fn client_index(
    clients: &mut Vec<ClientMetrics>,
    client_at: &mut HashMap<String, usize>,
    node: &str,
) -> usize {
    index(clients, client_at, node, || ClientMetrics {
        node: node.to_string(),
        ..Default::default()
    })
}

impl MetricsBuilder {
    /// Reads the events `trace` gained since the last call. The trace must
    /// be the same run's, grown (a new builder for another).
    pub fn update(&mut self, trace: &Trace) {
        self.update_to(trace, trace.len());
    }

    /// [`MetricsBuilder::update`], up to the trace's first `end` events.
    pub fn update_to(&mut self, trace: &Trace, end: usize) {
        let end = end.min(trace.len());
        for e in trace
            .iter_from(self.done)
            .take(end.saturating_sub(self.done))
        {
            self.feed(&e);
        }
        self.done = self.done.max(end);
    }

    /// The figures up to the last event read (as [`compute`] gives them).
    pub fn current(&self) -> Metrics {
        self.metrics(self.last)
    }

    fn feed(&mut self, e: &mobike_sim::TraceEvent) {
        self.last = e.time;
        match &e.kind {
            TraceKind::PingSent {
                node,
                seq,
                reply: false,
                carried,
            } => {
                let client = self.client_at.get(node.as_str()).copied();
                self.ping_of.insert((node.clone(), *seq), self.pings.len());
                self.pings.push(PingRecord {
                    node: node.clone(),
                    sent: e.time,
                    carried: *carried,
                    client,
                    answered: None,
                });
            }
            TraceKind::PingReceived {
                node,
                seq,
                reply: true,
            } => {
                if let Some(&i) = self.ping_of.get(&(node.clone(), *seq)) {
                    self.pings[i].answered.get_or_insert(e.time);
                }
            }
            TraceKind::Sent {
                packet,
                node,
                src,
                payload,
                protocol,
                ..
            } => {
                let h = index(&mut self.hosts, &mut self.host_at, node, || HostMetrics {
                    node: node.to_string(),
                    ..Default::default()
                });
                let mut esp: Option<&[u8]> = None;
                let kind = if *protocol == IpProtocol::Esp {
                    esp = Some(payload);
                    Kind::Esp
                } else {
                    match classify(payload, src.port()) {
                        UdpPayload::Ike(b) => {
                            self.hosts[h].ike_messages += 1;
                            self.hosts[h].ike_octets += b.len() as u64;
                            if let Ok(hdr) = HeaderPacket::new_checked(b)
                                && hdr.exchange() == ExchangeType::IKE_SA_INIT
                                && !hdr.flags().response()
                            {
                                let c = client_index(&mut self.clients, &mut self.client_at, node);
                                self.client_of_sa.insert(hdr.spi_i(), c);
                            }
                            Kind::Ike
                        }
                        UdpPayload::Esp(b) => {
                            esp = Some(b);
                            Kind::Esp
                        }
                        UdpPayload::Keepalive => {
                            self.hosts[h].keepalives += 1;
                            Kind::Keepalive
                        }
                        UdpPayload::Invalid => Kind::Other,
                    }
                };
                let mut client = None;
                let spi = esp.and_then(|b| mobike_wire::esp::spi(b).ok());
                if let Some(spi) = spi {
                    self.esp_by_spi.entry(spi).or_default().0 += 1;
                }
                if esp.is_some() {
                    self.hosts[h].esp_packets += 1;
                    client = spi
                        .and_then(|spi| self.sa_of_esp.get(&spi))
                        .and_then(|sa| self.client_of_sa.get(sa))
                        .copied();
                    if let Some(c) = client {
                        self.clients[c].esp_packets += 1;
                        self.last_client.insert(node.clone(), c);
                        // The request the sender just handed to this SA.
                        for p in self.pings.iter_mut().rev() {
                            if p.sent != e.time {
                                break;
                            }
                            if p.node == *node && p.client.is_none() {
                                p.client = Some(c);
                            }
                        }
                    }
                }
                self.kind_of.insert(*packet, (kind, h, client, spi));
            }
            // A packet's last event: delivered or dropped. What was kept
            // of it goes, so the map holds only the packets under way
            // (it held every packet of the run: a million in a
            // 1,000-client hour).
            TraceKind::Delivered { packet, .. } => {
                self.kind_of.remove(packet);
            }
            TraceKind::Dropped { packet, .. } => {
                if let Some((kind, h, client, spi)) = self.kind_of.remove(packet) {
                    match kind {
                        Kind::Ike => self.hosts[h].ike_lost += 1,
                        Kind::Esp => {
                            self.hosts[h].esp_lost += 1;
                            if let Some(spi) = spi {
                                self.esp_by_spi.entry(spi).or_default().1 += 1;
                            }
                            if let Some(c) = client {
                                self.clients[c].esp_lost += 1;
                            }
                        }
                        Kind::Keepalive | Kind::Other => {}
                    }
                }
            }
            TraceKind::Protocol { node, event } => match &**event {
                Event::ChildSa {
                    spi_i,
                    initiator_to_responder: i2r,
                    responder_to_initiator: r2i,
                } => {
                    self.sa_of_esp.insert(i2r.0, *spi_i);
                    self.sa_of_esp.insert(r2i.0, *spi_i);
                }
                Event::IpsecPathChanged { spi_i, .. } => {
                    self.path_changes
                        .entry(*spi_i)
                        .or_default()
                        .push((node.to_string(), e.time));
                }
                _ => {}
            },
            TraceKind::Intervention { text, by_user } => {
                self.interventions.push((e.time, text.clone(), *by_user));
            }
            _ => {}
        }
    }

    /// The figures as they stood at `end` (see [`compute_at`]), from the
    /// events read so far.
    pub fn metrics(&self, end: Time) -> Metrics {
        let mut m = Metrics::default();
        let mut clients = self.clients.clone();
        let mut client_at = self.client_at.clone();
        let (last_client, client_of_sa, path_changes) =
            (&self.last_client, &self.client_of_sa, &self.path_changes);
        let hosts = self.hosts.clone();
        let interventions = self.interventions.clone();
        // Requests no SA carried: the client the sender's tunnel last served,
        // the only client, or the sender itself. (Read in place: the page
        // asks for the figures on every tick, and the requests are many.)
        let client_of: Vec<usize> = self
            .pings
            .iter()
            .map(|p| match p.client {
                Some(c) => c,
                None => match last_client.get(p.node.as_str()) {
                    Some(&c) => c,
                    None if clients.len() == 1 => 0,
                    None => client_index(&mut clients, &mut client_at, &p.node),
                },
            })
            .collect();

        let mut replies: Vec<Vec<(Time, Time)>> = vec![Vec::new(); clients.len()];
        // Each client's pings, in the order sent (one pass, not one per client).
        let mut of_client: Vec<Vec<&PingRecord>> = vec![Vec::new(); clients.len()];
        for (p, &c) in self.pings.iter().zip(&client_of) {
            if let Some(v) = of_client.get_mut(c) {
                v.push(p);
            }
        }
        for ((i, c), mine) in clients.iter_mut().enumerate().zip(of_client) {
            let mut first = None;
            let mut answered: Vec<Time> = Vec::new();
            for p in mine {
                c.pings_sent += 1;
                first = Some(first.map_or(p.sent, |f: Time| f.min(p.sent)));
                if !p.carried {
                    c.pings_not_carried += 1;
                }
                match p.answered {
                    Some(got) => {
                        c.pings_answered += 1;
                        answered.push(p.sent);
                        replies[i].push((p.sent, got));
                    }
                    None if p.sent + IN_FLIGHT < end => c.pings_lost += 1,
                    None => {}
                }
            }
            answered.sort_unstable();
            let mut prev = first;
            for t in answered.into_iter().chain(std::iter::once(end)) {
                if let Some(pr) = prev {
                    c.longest_gap = c.longest_gap.max(t.saturating_sub(pr));
                }
                prev = Some(t);
            }
        }

        // Each client's IKE SAs' path changes, gathered once.
        let mut changes_of: Vec<Vec<&Vec<(String, Time)>>> = vec![Vec::new(); clients.len()];
        for (sa, &c) in client_of_sa {
            if let (Some(v), Some(ch)) = (changes_of.get_mut(c), path_changes.get(sa)) {
                v.push(ch);
            }
        }
        m.triggers = interventions
            .into_iter()
            .map(|(time, text, by_user)| Trigger {
                time,
                text,
                by_user,
                recoveries: clients
                    .iter()
                    .enumerate()
                    .map(|(c, client)| Recovery {
                        client: client.node.clone(),
                        path_changed_after: path_changed_after(
                            time,
                            &client.node,
                            changes_of[c].iter().copied(),
                        ),
                        ping_answered_after: replies[c]
                            .iter()
                            .filter(|(sent, _)| *sent >= time)
                            .map(|(_, got)| got - time)
                            .min(),
                    })
                    .collect(),
            })
            .collect();

        for c in &clients {
            m.pings_sent += c.pings_sent;
            m.pings_answered += c.pings_answered;
            m.pings_lost += c.pings_lost;
            m.pings_not_carried += c.pings_not_carried;
            m.longest_gap = m.longest_gap.max(c.longest_gap);
        }
        for h in &hosts {
            m.esp_packets += h.esp_packets;
            m.esp_lost += h.esp_lost;
            m.ike_messages += h.ike_messages;
            m.ike_octets += h.ike_octets;
            m.ike_lost += h.ike_lost;
            m.keepalives += h.keepalives;
        }
        m.clients = clients;
        m.hosts = hosts;
        m.esp_by_spi = self.esp_by_spi.clone();
        m
    }
}

/// The earliest time after `t` at which some IKE SA of `client` had seen
/// an IpsecPathChanged after `t` at the client and at another host.
fn path_changed_after<'a>(
    t: Time,
    client: &str,
    sas: impl Iterator<Item = &'a Vec<(String, Time)>>,
) -> Option<Time> {
    sas.filter_map(|changes| {
        let mine = changes
            .iter()
            .filter(|(n, at)| n == client && *at >= t)
            .map(|(_, at)| *at)
            .min()?;
        let peer = changes
            .iter()
            .filter(|(n, at)| n != client && *at >= t)
            .map(|(_, at)| *at)
            .min()?;
        Some(mine.max(peer) - t)
    })
    .min()
}

/// "+1.234s", or "-" for nothing.
fn after(t: Option<Time>) -> String {
    t.map_or("-".into(), |t| format!("+{}", crate::fmt_time(t)))
}

impl Metrics {
    /// A compact report for the command line (at most 72 columns): one
    /// table per client, per host, and per trigger.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(s.trim_end());
            out.push('\n');
        };
        if !self.clients.is_empty() {
            line(format!(
                "{:<16} {:>6} {:>6} {:>5} {:>6} {:>10} {:>6} {:>5}",
                "client", "pings", "answ.", "lost", "no SA", "outage", "ESP", "lost"
            ));
            for c in &self.clients {
                line(format!(
                    "{:<16} {:>6} {:>6} {:>5} {:>6} {:>10} {:>6} {:>5}",
                    clip(&c.node, 16),
                    c.pings_sent,
                    c.pings_answered,
                    c.pings_lost,
                    c.pings_not_carried,
                    crate::fmt_time(c.longest_gap),
                    c.esp_packets,
                    c.esp_lost
                ));
            }
            line(String::new());
        }
        line(format!(
            "{:<16} {:>8} {:>8} {:>5} {:>6} {:>5} {:>10}",
            "host", "IKE sent", "octets", "lost", "ESP", "lost", "keepalives"
        ));
        let row = |name: &str, ike: u32, oct: u64, il: u32, esp: u32, el: u32, ka: u32| {
            format!(
                "{:<16} {:>8} {:>8} {:>5} {:>6} {:>5} {:>10}",
                clip(name, 16),
                ike,
                oct,
                il,
                esp,
                el,
                ka
            )
        };
        for h in &self.hosts {
            line(row(
                &h.node,
                h.ike_messages,
                h.ike_octets,
                h.ike_lost,
                h.esp_packets,
                h.esp_lost,
                h.keepalives,
            ));
        }
        line(row(
            "total",
            self.ike_messages,
            self.ike_octets,
            self.ike_lost,
            self.esp_packets,
            self.esp_lost,
            self.keepalives,
        ));
        if self.triggers.iter().any(|t| !t.recoveries.is_empty()) {
            line(String::new());
            line(format!(
                "{:<8}  {:<30} {:<12} {:>9} {:>8}",
                "trigger", "", "client", "SAs moved", "ping ok"
            ));
            for t in &self.triggers {
                for (i, r) in t.recoveries.iter().enumerate() {
                    let (when, what) = if i == 0 {
                        (crate::fmt_time(t.time), clip(&t.text, 30))
                    } else {
                        (String::new(), String::new())
                    };
                    line(format!(
                        "{:>8}  {:<30} {:<12} {:>9} {:>8}",
                        when,
                        what,
                        clip(&r.client, 12),
                        after(r.path_changed_after),
                        after(r.ping_answered_after)
                    ));
                }
            }
        }
        out
    }
}

/// At most `n` characters, with "~" at the end when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(n - 1).collect();
        c.push('~');
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The builder keeps what it needs of a packet only while the packet
    /// is under way: after a run, its map holds exactly the packets sent
    /// and neither delivered nor dropped, and the losses still count.
    #[test]
    fn only_the_packets_under_way_are_kept() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/wifi-to-lte.toml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let scenario = mobike_sim::Scenario::from_toml(&text).unwrap();
        let mut world = mobike_sim::World::new(&scenario);
        world.run_until(scenario.until.micros());
        let mut b = MetricsBuilder::default();
        b.update(world.trace());
        let mut under_way = std::collections::BTreeSet::new();
        for e in world.trace().iter() {
            match e.kind {
                TraceKind::Sent { packet, .. } => {
                    under_way.insert(packet);
                }
                TraceKind::Delivered { packet, .. } | TraceKind::Dropped { packet, .. } => {
                    under_way.remove(&packet);
                }
                _ => {}
            }
        }
        let kept: std::collections::BTreeSet<u64> = b.kind_of.keys().copied().collect();
        assert_eq!(kept, under_way);
        assert!(kept.len() < 10, "{kept:?}");
        // The run loses IKE and ESP packets on the broken Wi-Fi.
        let m = b.current();
        assert!(m.ike_lost > 0 && m.esp_lost > 0, "{m:?}");
    }
}
