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

/// A client's pings added up as they come in, so the figures at any
/// moment cost the clients and the triggers, not every request of the run
/// (the page asks for them on every tick of a run where a thousand clients
/// ping every second). What depends on the moment asked for (a request
/// still in flight or lost, the outage up to the end) is read off it then.
#[derive(Clone, Default)]
struct PingTally {
    /// Its requests, by index in `pings` (in the order sent).
    pings: Vec<usize>,
    sent: u32,
    not_carried: u32,
    first: Option<Time>,
    /// Its unanswered requests, in the order sent: lost once sent more
    /// than [`IN_FLIGHT`] before the end.
    unanswered: Vec<usize>,
    /// (sent, answered) of its answered requests, by the time sent.
    answered: Vec<(Time, Time)>,
    /// The longest time between the send times of two consecutive
    /// answered requests.
    gap: Time,
    /// Per trigger: the earliest reply after it to a request sent at or
    /// after it, as time from the trigger.
    recovered: Vec<Option<Time>>,
}

impl PingTally {
    fn add(&mut self, i: usize, p: &PingRecord, triggers: &[(Time, String, bool)]) {
        insert_sorted(&mut self.pings, i);
        self.sent += 1;
        if !p.carried {
            self.not_carried += 1;
        }
        self.first = Some(self.first.map_or(p.sent, |f| f.min(p.sent)));
        match p.answered {
            Some(got) => self.answer(p.sent, got, triggers),
            None => insert_sorted(&mut self.unanswered, i),
        }
    }

    /// Request `i` of this client, unanswered so far, got its reply.
    fn answered(&mut self, i: usize, p: &PingRecord, triggers: &[(Time, String, bool)]) {
        if let (Ok(k), Some(got)) = (self.unanswered.binary_search(&i), p.answered) {
            self.unanswered.remove(k);
            self.answer(p.sent, got, triggers);
        }
    }

    fn answer(&mut self, sent: Time, got: Time, triggers: &[(Time, String, bool)]) {
        let a = &mut self.answered;
        let at = a.partition_point(|&(s, _)| s <= sent);
        match (at.checked_sub(1).map(|k| a[k].0), a.get(at).map(|x| x.0)) {
            // In the order sent (the common case): one new gap.
            (Some(prev), None) => self.gap = self.gap.max(sent - prev),
            (None, Some(next)) => self.gap = self.gap.max(next - sent),
            // Between two: their gap splits in two shorter ones, so the
            // longest is found again only when it was that one.
            (Some(prev), Some(next)) if next - prev == self.gap => {
                a.insert(at, (sent, got));
                self.gap = a.windows(2).map(|w| w[1].0 - w[0].0).max().unwrap_or(0);
                self.recover(sent, got, triggers);
                return;
            }
            _ => {}
        }
        a.insert(at, (sent, got));
        self.recover(sent, got, triggers);
    }

    fn recover(&mut self, sent: Time, got: Time, triggers: &[(Time, String, bool)]) {
        self.recovered.resize(triggers.len(), None);
        for (r, &(t, ..)) in self.recovered.iter_mut().zip(triggers) {
            if sent >= t {
                *r = Some(r.map_or(got - t, |r| r.min(got - t)));
            }
        }
    }

    /// A new trigger at `t` (the last of `triggers`): the requests sent at
    /// or after it and answered already (at the same instant) count.
    fn triggered(&mut self, t: Time, n: usize) {
        let best = self
            .answered
            .iter()
            .rev()
            .take_while(|&&(s, _)| s >= t)
            .map(|&(_, got)| got - t)
            .min();
        self.recovered.resize(n, None);
        self.recovered[n - 1] = best;
    }

    /// Its ping figures as they stood at `end` (those of [`client_pings`]).
    fn figures(&self, pings: &[PingRecord], end: Time, c: &mut ClientMetrics) {
        c.pings_sent = self.sent;
        c.pings_not_carried = self.not_carried;
        c.pings_answered = self.answered.len() as u32;
        c.pings_lost = self
            .unanswered
            .partition_point(|&i| pings[i].sent + IN_FLIGHT < end) as u32;
        c.longest_gap = match (self.first, self.answered.first(), self.answered.last()) {
            (None, ..) => 0,
            (Some(f), Some(&(a0, _)), Some(&(a1, _))) => {
                self.gap.max(a0 - f).max(end.saturating_sub(a1))
            }
            (Some(f), ..) => end.saturating_sub(f),
        };
    }
}

/// `v` sorted, with `x` in its place (at the end, mostly).
fn insert_sorted(v: &mut Vec<usize>, x: usize) {
    match v.last() {
        Some(&l) if l > x => {
            let at = v.partition_point(|&y| y < x);
            v.insert(at, x);
        }
        _ => v.push(x),
    }
}

/// The ping figures of the client whose requests are `mine` (in the order
/// sent), as they stood at `end`, and its (sent, answered) replies: the
/// figures read off all its requests at once, for a client given requests
/// only when the figures are asked for.
fn client_pings<'a>(
    mine: impl Iterator<Item = &'a PingRecord>,
    end: Time,
    c: &mut ClientMetrics,
) -> Vec<(Time, Time)> {
    let mut replies = Vec::new();
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
                replies.push((p.sent, got));
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
    replies
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
    /// Per client, its pings added up as they come (see [`PingTally`]).
    tallies: Vec<PingTally>,
    /// The requests no client is known for yet (by index in `pings`): the
    /// figures give each to a client when they are asked for.
    unresolved: Vec<usize>,
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

    /// Request `i` belongs to client `c`.
    fn tally(&mut self, c: usize, i: usize) {
        if self.tallies.len() <= c {
            self.tallies.resize_with(c + 1, || PingTally {
                recovered: vec![None; self.interventions.len()],
                ..PingTally::default()
            });
        }
        self.tallies[c].add(i, &self.pings[i], &self.interventions);
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
                let i = self.pings.len();
                self.ping_of.insert((node.clone(), *seq), i);
                self.pings.push(PingRecord {
                    node: node.clone(),
                    sent: e.time,
                    carried: *carried,
                    client,
                    answered: None,
                });
                match client {
                    Some(c) => self.tally(c, i),
                    None => self.unresolved.push(i),
                }
            }
            TraceKind::PingReceived {
                node,
                seq,
                reply: true,
            } => {
                if let Some(&i) = self.ping_of.get(&(node.clone(), *seq))
                    && self.pings[i].answered.is_none()
                {
                    let p = &mut self.pings[i];
                    p.answered = Some(e.time);
                    if let Some(t) = p.client.and_then(|c| self.tallies.get_mut(c)) {
                        t.answered(i, &self.pings[i], &self.interventions);
                    }
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
                        let mut now_known = Vec::new();
                        for (i, p) in self.pings.iter_mut().enumerate().rev() {
                            if p.sent != e.time {
                                break;
                            }
                            if p.node == *node && p.client.is_none() {
                                p.client = Some(c);
                                now_known.push(i);
                            }
                        }
                        for i in now_known {
                            self.unresolved.retain(|&u| u != i);
                            self.tally(c, i);
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
                for t in &mut self.tallies {
                    t.triggered(e.time, self.interventions.len());
                }
            }
            _ => {}
        }
    }

    /// The figures as they stood at `end` (see [`compute_at`]), from the
    /// events read so far. They cost the clients and the triggers: each
    /// client's requests were added up as they came (see [`PingTally`]).
    pub fn metrics(&self, end: Time) -> Metrics {
        let mut clients = self.clients.clone();
        // Requests no SA carried: the client the sender's tunnel last
        // served, the only client, or the sender itself, as things stand.
        let mut client_at = None;
        let mut extra: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &i in &self.unresolved {
            let p = &self.pings[i];
            let c = match self.last_client.get(p.node.as_str()) {
                Some(&c) => c,
                None if clients.len() == 1 => 0,
                None => client_index(
                    &mut clients,
                    client_at.get_or_insert_with(|| self.client_at.clone()),
                    &p.node,
                ),
            };
            extra.entry(c).or_default().push(i);
        }
        // A client given requests just now has its figures read off all
        // of its requests; the others' come from their tallies.
        let mut replies: Vec<Option<Vec<(Time, Time)>>> = vec![None; clients.len()];
        for (c, client) in clients.iter_mut().enumerate() {
            let tally = self.tallies.get(c);
            match extra.get(&c) {
                None => {
                    if let Some(t) = tally {
                        t.figures(&self.pings, end, client);
                    }
                }
                Some(more) => {
                    let mut all = tally.map_or(Vec::new(), |t| t.pings.clone());
                    all.extend(more);
                    all.sort_unstable();
                    let mine = all.iter().map(|&i| &self.pings[i]);
                    replies[c] = Some(client_pings(mine, end, client));
                }
            }
        }
        self.assemble(clients, |k, time, c| match &replies[c] {
            Some(r) => r
                .iter()
                .filter(|(sent, _)| *sent >= time)
                .map(|(_, got)| got - time)
                .min(),
            None => self
                .tallies
                .get(c)
                .and_then(|t| t.recovered.get(k).copied().flatten()),
        })
    }

    /// [`MetricsBuilder::metrics`] read off every request of the run, as
    /// it was before the tallies: what the tallies must give.
    #[cfg(test)]
    fn metrics_by_rescan(&self, end: Time) -> Metrics {
        let mut clients = self.clients.clone();
        let mut client_at = self.client_at.clone();
        let client_of: Vec<usize> = self
            .pings
            .iter()
            .map(|p| match p.client {
                Some(c) => c,
                None => match self.last_client.get(p.node.as_str()) {
                    Some(&c) => c,
                    None if clients.len() == 1 => 0,
                    None => client_index(&mut clients, &mut client_at, &p.node),
                },
            })
            .collect();
        let replies: Vec<Vec<(Time, Time)>> = clients
            .iter_mut()
            .enumerate()
            .map(|(c, client)| {
                let mine = self.pings.iter().zip(&client_of).filter(|p| *p.1 == c);
                client_pings(mine.map(|p| p.0), end, client)
            })
            .collect();
        self.assemble(clients, |_, time, c| {
            replies[c]
                .iter()
                .filter(|(sent, _)| *sent >= time)
                .map(|(_, got)| got - time)
                .min()
        })
    }

    /// The figures from each client's (ping figures filled in): the
    /// triggers, with `answered_after(trigger, its time, client)`, and the
    /// totals.
    fn assemble(
        &self,
        clients: Vec<ClientMetrics>,
        answered_after: impl Fn(usize, Time, usize) -> Option<Time>,
    ) -> Metrics {
        let mut m = Metrics::default();
        let (client_of_sa, path_changes) = (&self.client_of_sa, &self.path_changes);
        let hosts = self.hosts.clone();
        // Each client's IKE SAs' path changes, gathered once.
        let mut changes_of: Vec<Vec<&Vec<(String, Time)>>> = vec![Vec::new(); clients.len()];
        for (sa, &c) in client_of_sa {
            if let (Some(v), Some(ch)) = (changes_of.get_mut(c), path_changes.get(sa)) {
                v.push(ch);
            }
        }
        m.triggers = self
            .interventions
            .iter()
            .enumerate()
            .map(|(k, (time, text, by_user))| Trigger {
                time: *time,
                text: text.clone(),
                by_user: *by_user,
                recoveries: clients
                    .iter()
                    .enumerate()
                    .map(|(c, client)| Recovery {
                        client: client.node.clone(),
                        path_changed_after: path_changed_after(
                            *time,
                            &client.node,
                            changes_of[c].iter().copied(),
                        ),
                        ping_answered_after: answered_after(k, *time, c),
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
    use mobike_sim::TraceEvent;

    /// The figures from the tallies are those read off every request, at
    /// every moment of every example that pings, and a second and a half
    /// later (requests in flight then count as lost). The examples have
    /// pings answered and lost, requests no SA carried, a gateway that
    /// pings its clients and triggers.
    #[test]
    fn the_tallies_give_the_figures_of_every_request() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        names.sort();
        let (mut checked, mut lost, mut triggers) = (0, 0, 0);
        for path in names {
            let text = std::fs::read_to_string(&path).unwrap();
            let scenario = mobike_sim::Scenario::from_toml(&text).unwrap();
            if scenario.ping.is_none() {
                continue;
            }
            let mut world = mobike_sim::World::new(&scenario);
            let mut b = MetricsBuilder::default();
            let mut t = 0;
            while t < scenario.until.micros() {
                t += 300_000;
                world.run_until(t);
                b.update(world.trace());
                for end in [b.last, b.last + 1_500_000] {
                    let m = b.metrics(end);
                    assert_eq!(m, b.metrics_by_rescan(end), "{path:?} at {t} us");
                    lost += m.pings_lost;
                    checked += 1;
                }
            }
            triggers += b.interventions.len();
        }
        let seen = (checked, lost, triggers);
        assert!(checked > 1000 && lost > 0 && triggers > 0, "{seen:?}");
    }

    fn at(time: Time, kind: TraceKind) -> TraceEvent {
        TraceEvent { time, kind }
    }

    /// An IKE_SA_INIT request from `node`, which makes it a client.
    fn init_request(packet: u64, node: &str) -> TraceKind {
        let mut ike = vec![0u8; 28];
        ike[0] = 1; // initiator SPI
        ike[17] = 0x20; // version 2.0
        ike[18] = 34; // IKE_SA_INIT
        ike[19] = 0x08; // the original initiator
        ike[27] = 28;
        let addr = |ip: [u8; 4]| std::net::SocketAddr::from((ip, 500)).into();
        TraceKind::Sent {
            packet,
            node: node.into(),
            link: "l".into(),
            src: addr([192, 0, 2, 1]),
            dst: addr([198, 51, 100, 1]),
            payload: ike.into(),
            protocol: IpProtocol::Udp,
        }
    }

    fn ping(node: &str, seq: u16, reply: bool) -> (Name, u16, bool) {
        (node.into(), seq, reply)
    }

    /// Replies out of the order sent (the gap between two answered
    /// requests that one answered later splits), duplicates, a trigger
    /// with a reply at its own instant: the tallies against every request.
    #[test]
    fn replies_out_of_order_split_the_longest_gap() {
        let mut b = MetricsBuilder::default();
        let mut events = vec![at(0, init_request(1, "c"))];
        let sent = |t: Time, seq: u16| {
            let (node, seq, _) = ping("c", seq, false);
            at(
                t,
                TraceKind::PingSent {
                    node,
                    seq,
                    reply: false,
                    carried: true,
                },
            )
        };
        let got = |t: Time, seq: u16| {
            let (node, seq, reply) = ping("c", seq, true);
            at(t, TraceKind::PingReceived { node, seq, reply })
        };
        let s = 1_000_000;
        events.extend([sent(s, 1), sent(2 * s, 2), sent(3 * s, 3), sent(9 * s, 4)]);
        // 1 and 4 answered first: one gap of 8 s; then 3, then 2.
        events.extend([got(9 * s + 5, 1), got(9 * s + 6, 4)]);
        events.push(at(
            9 * s + 6,
            TraceKind::Intervention {
                text: "move".into(),
                by_user: false,
            },
        ));
        events.extend([sent(9 * s + 6, 5), got(9 * s + 6, 5)]);
        // After the trigger, replies out of order: the earliest counts.
        events.extend([sent(9 * s + 10, 7), sent(9 * s + 20, 8)]);
        events.extend([got(9 * s + 30, 8), got(9 * s + 40, 7), got(10 * s, 3)]);
        events.extend([got(11 * s, 2), got(12 * s, 2), sent(12 * s, 6)]);
        for (k, e) in events.iter().enumerate() {
            b.feed(e);
            for end in [e.time, e.time + 2 * s, e.time + 20 * s] {
                assert_eq!(b.metrics(end), b.metrics_by_rescan(end), "after event {k}");
            }
        }
        let m = b.metrics(12 * s);
        assert_eq!((m.pings_sent, m.pings_answered, m.pings_lost), (8, 7, 0));
        // 1, 2, 3 answered after 4: the longest gap is between 3 (at 3 s)
        // and 4 (at 9 s).
        assert_eq!(m.longest_gap, 6 * s);
        assert_eq!(m.triggers[0].recoveries[0].ping_answered_after, Some(0));
        assert_eq!(b.metrics(30 * s).clients[0].pings_lost, 1);
        // A host that is no client pings with no SA to carry it: the only
        // client's request, as long as there is one client; its own once
        // there are two (given out each time the figures are asked for).
        let gateway = |t: Time, seq: u16, reply: bool| {
            let (node, seq, reply) = ping("g", seq, reply);
            at(
                t,
                match reply {
                    false => TraceKind::PingSent {
                        node,
                        seq,
                        reply,
                        carried: false,
                    },
                    true => TraceKind::PingReceived { node, seq, reply },
                },
            )
        };
        let more = [
            gateway(13 * s, 1, false),
            gateway(13 * s + 1, 1, true),
            gateway(14 * s, 2, false),
            at(15 * s, init_request(2, "d")),
            gateway(16 * s, 3, false),
        ];
        for (k, e) in more.iter().enumerate() {
            if k == 3 {
                let m = b.metrics(e.time);
                assert_eq!((m.clients.len(), m.clients[0].pings_sent), (1, 10));
            }
            b.feed(e);
            for end in [e.time, e.time + 2 * s] {
                assert_eq!(b.metrics(end), b.metrics_by_rescan(end), "gateway {k}");
            }
        }
        assert_eq!(b.unresolved.len(), 3);
        let m = b.metrics(20 * s);
        let sent: Vec<_> = m.clients.iter().map(|c| (&*c.node, c.pings_sent)).collect();
        assert_eq!(sent, [("c", 8), ("d", 0), ("g", 3)]);
    }

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
