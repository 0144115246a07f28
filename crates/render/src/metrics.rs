//! Figures of a run, from its trace: ping traffic through the tunnel (sent,
//! answered, lost, the longest outage), ESP and IKE packets and octets.

use mobike_protocol::Time;
use mobike_sim::{Trace, TraceKind};
use mobike_wire::udp::{UdpPayload, classify};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub pings_sent: u32,
    pub pings_answered: u32,
    /// Requests whose reply never came (within the run).
    pub pings_lost: u32,
    /// Requests sent while no IPsec SA existed to carry them.
    pub pings_not_carried: u32,
    /// The longest time between the send times of two consecutive answered
    /// requests (the ping interval when nothing is lost; more during an
    /// outage), in microseconds.
    pub longest_gap: Time,
    pub esp_packets: u32,
    pub esp_lost: u32,
    pub ike_messages: u32,
    pub ike_octets: u64,
    pub ike_lost: u32,
    pub keepalives: u32,
}

/// Computes the figures of a trace. A request counts as answered when its
/// reply came back to the host that sent it.
pub fn compute(trace: &Trace) -> Metrics {
    let mut m = Metrics::default();
    let mut requests: BTreeMap<u16, Time> = BTreeMap::new();
    let mut answered: BTreeMap<u16, Time> = BTreeMap::new();
    let mut kind_of: HashMap<u64, u8> = HashMap::new(); // 0 IKE, 1 ESP, 2 keepalive
    for e in &trace.events {
        match &e.kind {
            TraceKind::PingSent {
                seq,
                reply: false,
                carried,
                ..
            } => {
                m.pings_sent += 1;
                requests.insert(*seq, e.time);
                if !carried {
                    m.pings_not_carried += 1;
                }
            }
            TraceKind::PingReceived {
                seq, reply: true, ..
            } => {
                if let Some(t) = requests.get(seq) {
                    answered.entry(*seq).or_insert(*t);
                }
            }
            TraceKind::Sent {
                packet,
                src,
                dst,
                payload,
                protocol,
                ..
            } => {
                let k = if *protocol == mobike_protocol::IpProtocol::Esp {
                    1
                } else {
                    match classify(payload, src.port(), dst.port()) {
                        UdpPayload::Ike(b) => {
                            m.ike_messages += 1;
                            m.ike_octets += b.len() as u64;
                            0
                        }
                        UdpPayload::Esp(_) => 1,
                        UdpPayload::Keepalive => {
                            m.keepalives += 1;
                            2
                        }
                        UdpPayload::Invalid => 3,
                    }
                };
                if k == 1 {
                    m.esp_packets += 1;
                }
                kind_of.insert(*packet, k);
            }
            TraceKind::Dropped { packet, .. } => match kind_of.get(packet) {
                Some(0) => m.ike_lost += 1,
                Some(1) => m.esp_lost += 1,
                _ => {}
            },
            _ => {}
        }
    }
    m.pings_answered = answered.len() as u32;
    // Requests sent in the last second may still be on their way.
    let end = trace.events.last().map_or(0, |e| e.time);
    m.pings_lost = requests
        .iter()
        .filter(|(s, t)| !answered.contains_key(s) && **t + 1_000_000 < end)
        .count() as u32;
    let mut times: Vec<Time> = answered.values().copied().collect();
    times.sort_unstable();
    let first = requests.values().next().copied();
    let mut prev = first;
    for t in times.iter().copied().chain(std::iter::once(end)) {
        if let Some(p) = prev {
            m.longest_gap = m.longest_gap.max(t.saturating_sub(p));
        }
        prev = Some(t);
    }
    m
}

impl Metrics {
    /// A short report for the command line.
    pub fn report(&self) -> String {
        format!(
            "pings: {} sent, {} answered, {} lost, {} with no IPsec SA; longest gap between answered pings {}\n\
             ESP: {} packets, {} lost; IKE: {} messages ({} octets), {} lost; {} NAT-keepalives\n",
            self.pings_sent,
            self.pings_answered,
            self.pings_lost,
            self.pings_not_carried,
            crate::fmt_time(self.longest_gap),
            self.esp_packets,
            self.esp_lost,
            self.ike_messages,
            self.ike_octets,
            self.ike_lost,
            self.keepalives
        )
    }
}
