//! A run observed on a real network rather than simulated: datagrams seen
//! at one place (our own sockets, or a capture) and the protocol events of
//! the endpoint that ran there, written into the same [`Trace`] a simulated
//! run makes. Every view of the playground (the chart, the JSON document,
//! the pcap and Wireshark's key files) is derived from the trace, so a real
//! run shows as a simulated one does.
//!
//! The parties become hosts of a small scenario ([`Observed::scenario`]):
//! each with one interface per address it was seen with, each interface on
//! a link of its own named by [`link_id`].
//! That scenario only names the lanes of the chart; it is never simulated.

use crate::scenario::Scenario;
use crate::shared::{Addr, Bytes, Name};
use crate::trace::{PacketId, Trace, TraceKind};
use crate::vocab::reason::DropReason;
use mobike_protocol::{Event, IpProtocol, Role, Time};
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The link of party `party`'s `k`th address (and its interface `if<k>`).
pub fn link_id(party: &str, k: usize) -> String {
    format!("{party}-link{k}")
}

/// A party of an observed run.
#[derive(Clone, Debug, PartialEq)]
pub struct Party {
    /// Its id in the chart and the trace ("local", "peer", …).
    pub id: String,
    pub label: String,
    pub role: Role,
    /// Its IKE identity, when known.
    pub identity: Option<String>,
    /// Every address it was seen with, in the order first seen.
    pub addresses: Vec<IpAddr>,
}

/// A datagram as it was seen: addresses and octets (UDP payload, or the
/// ESP packet).
#[derive(Clone, Copy, Debug)]
pub struct Seen<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: &'a [u8],
    pub protocol: IpProtocol,
}

impl<'a> Seen<'a> {
    /// A UDP datagram.
    pub fn udp(src: SocketAddr, dst: SocketAddr, payload: &'a [u8]) -> Seen<'a> {
        Seen {
            src,
            dst,
            payload,
            protocol: IpProtocol::Udp,
        }
    }
}

/// The record of an observed run (see the module's documentation).
#[derive(Clone)]
pub struct Observed {
    pub title: String,
    pub description: String,
    parties: Vec<Party>,
    names: Vec<Name>,
    trace: Trace,
    next_packet: PacketId,
    last: Time,
}

impl Observed {
    /// A record of these parties, none of whom has sent anything yet.
    pub fn new(title: &str, parties: Vec<Party>) -> Observed {
        Observed {
            title: title.to_string(),
            description: String::new(),
            names: parties.iter().map(|p| Name::from(p.id.as_str())).collect(),
            parties,
            trace: Trace::default(),
            next_packet: 0,
            last: 0,
        }
    }

    pub fn parties(&self) -> &[Party] {
        &self.parties
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The party that has had this address, if any.
    pub fn owner(&self, addr: IpAddr) -> Option<usize> {
        self.parties
            .iter()
            .position(|p| p.addresses.contains(&addr))
    }

    /// Gives party `who` an address it was seen with (or announced).
    pub fn add_address(&mut self, who: usize, addr: IpAddr) {
        if self.owner(addr).is_none()
            && let Some(p) = self.parties.get_mut(who)
        {
            p.addresses.push(addr);
        }
    }

    /// Where `addr` is among party `who`'s addresses (its interface's
    /// number); past the end when it has no such address.
    fn address_index(&self, who: usize, addr: IpAddr) -> usize {
        let p = &self.parties[who];
        p.addresses
            .iter()
            .position(|a| *a == addr)
            .unwrap_or(p.addresses.len())
    }

    /// The link a datagram from party `who`'s address `addr` leaves on.
    fn link_of(&self, who: usize, addr: IpAddr) -> Name {
        Name::from(link_id(
            &self.parties[who].id,
            self.address_index(who, addr),
        ))
    }

    /// Times never go backwards in a trace: a clock step back (or a capture
    /// out of order) is recorded at the last time seen.
    fn at(&mut self, time: Time) -> Time {
        self.last = self.last.max(time);
        self.last
    }

    /// A datagram from party `from` to party `to`, seen at `time`: it is
    /// recorded as sent and, when `to` is known, delivered at that moment
    /// (the observer sees one instant of its flight). Returns its number.
    pub fn datagram(&mut self, time: Time, from: usize, to: Option<usize>, d: Seen) -> PacketId {
        let Seen {
            src,
            dst,
            payload,
            protocol,
        } = d;
        let time = self.at(time);
        self.add_address(from, src.ip());
        if let Some(to) = to {
            self.add_address(to, dst.ip());
        }
        let packet = self.next_packet;
        self.next_packet += 1;
        self.trace.push(
            time,
            TraceKind::Sent {
                packet,
                node: self.names[from].clone(),
                link: self.link_of(from, src.ip()),
                src: Addr::from(src),
                dst: Addr::from(dst),
                payload: Bytes::from(payload),
                protocol,
            },
        );
        if let Some(to) = to {
            self.trace.push(
                time,
                TraceKind::Delivered {
                    packet,
                    node: self.names[to].clone(),
                    src: Addr::from(src),
                    dst: Addr::from(dst),
                },
            );
        }
        packet
    }

    /// What party `who`'s IKE daemon reported at `time`. The addresses a
    /// peer announces (RFC 4555 §3.6) become that peer's.
    pub fn event(&mut self, time: Time, who: usize, event: Event) {
        let time = self.at(time);
        if let Event::PeerAddresses { addresses, .. } = &event
            && let Some(other) = (0..self.parties.len()).find(|&i| i != who)
        {
            for a in addresses {
                self.add_address(other, *a);
            }
        }
        self.trace.push(
            time,
            TraceKind::Protocol {
                node: self.names[who].clone(),
                event: Arc::new(event),
            },
        );
    }

    /// Party `who` gained or lost an address (the OS said so).
    pub fn address(&mut self, time: Time, who: usize, address: IpAddr, present: bool) {
        let time = self.at(time);
        if present {
            self.add_address(who, address);
        }
        self.trace.push(
            time,
            TraceKind::Address {
                node: self.names[who].clone(),
                interface: format!("if{}", self.address_index(who, address)),
                address,
                present,
                announced: true,
            },
        );
    }

    /// Datagram `packet` never left party `who` (or was lost there), and why.
    pub fn dropped(&mut self, time: Time, packet: PacketId, who: usize, reason: DropReason) {
        let time = self.at(time);
        self.trace.push(
            time,
            TraceKind::Dropped {
                packet,
                at: self.names[who].clone(),
                reason: Box::new(reason),
            },
        );
    }

    /// Something that happened that no other kind records, in words.
    pub fn remark(&mut self, time: Time, text: String) {
        let time = self.at(time);
        self.trace.push(
            time,
            TraceKind::Intervention {
                text,
                by_user: false,
            },
        );
    }

    /// The last moment recorded.
    pub fn end(&self) -> Time {
        self.last
    }

    /// The scenario naming the parties: each a host with one interface per
    /// address, each on a link of its own (see the module's documentation).
    pub fn scenario_toml(&self) -> String {
        let mut t = String::new();
        let quote = |s: &str| toml_string(s);
        let _ = writeln!(t, "version = 1");
        let _ = writeln!(t, "title = {}", quote(&self.title));
        if !self.description.is_empty() {
            let _ = writeln!(t, "description = {}", quote(&self.description));
        }
        // A scenario's durations stop at 10^15 µs (about 31 years); a run
        // with damaged timestamps may claim more.
        let until = self.last.clamp(1, 999_999_999_999_999);
        let _ = writeln!(t, "until = \"{until}us\"");
        for p in &self.parties {
            for k in 0..p.addresses.len() {
                let _ = writeln!(
                    t,
                    "\n[[link]]\nid = {}\nlabel = \"real\"\ndelay = \"0ms\"",
                    quote(&link_id(&p.id, k))
                );
            }
        }
        let first_responder = self
            .parties
            .iter()
            .find(|p| p.role == Role::Responder)
            .and_then(|p| p.addresses.first().copied());
        // A party never seen (a peer that never answered) has no lane.
        for (i, p) in self
            .parties
            .iter()
            .filter(|p| !p.addresses.is_empty())
            .enumerate()
        {
            let _ = writeln!(t, "\n[[host]]");
            let _ = writeln!(t, "id = {}", quote(&p.id));
            let _ = writeln!(t, "label = {}", quote(&p.label));
            let _ = writeln!(t, "pos = [{}, 160]", 110 + 510 * i);
            match p.role {
                Role::Initiator => {
                    let _ = writeln!(t, "role = \"initiator\"");
                    // An initiator names a peer: the first responder
                    // address, or, when no responder has one of its own
                    // (each address belongs to the party first seen with
                    // it), its own first address: the scenario only draws
                    // the capture, it is never run.
                    if let Some(peer) = first_responder.or_else(|| p.addresses.first().copied()) {
                        let _ = writeln!(t, "peer = \"{peer}\"");
                    }
                }
                Role::Responder => {
                    let _ = writeln!(t, "role = \"responder\"");
                }
            }
            if let Some(id) = &p.identity {
                let _ = writeln!(t, "identity = {}", quote(id));
            }
            for (k, a) in p.addresses.iter().enumerate() {
                let _ = writeln!(
                    t,
                    "\n[[host.interface]]\nname = \"if{k}\"\naddress = \"{a}\"\nlink = {}",
                    quote(&link_id(&p.id, k))
                );
            }
        }
        t
    }

    /// [`Observed::scenario_toml`], read.
    pub fn scenario(&self) -> Result<Scenario, crate::ScenarioError> {
        Scenario::from_toml(&self.scenario_toml())
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Observed {
        Observed::new(
            "a \"real\" run",
            vec![
                Party {
                    id: "local".into(),
                    label: "mobike".into(),
                    role: Role::Initiator,
                    identity: Some("client.example".into()),
                    addresses: vec!["192.0.2.10".parse().unwrap()],
                },
                Party {
                    id: "peer".into(),
                    label: "charon".into(),
                    role: Role::Responder,
                    identity: None,
                    addresses: vec![],
                },
            ],
        )
    }

    #[test]
    fn a_datagram_is_sent_and_delivered_and_gives_addresses() {
        let mut o = two();
        let src: SocketAddr = "192.0.2.10:500".parse().unwrap();
        let dst: SocketAddr = "203.0.113.10:500".parse().unwrap();
        let id = o.datagram(1_000, 0, Some(1), Seen::udp(src, dst, &[1, 2, 3]));
        assert_eq!(id, 0);
        assert_eq!(o.trace().len(), 2);
        assert_eq!(o.owner(dst.ip()), Some(1));
        assert_eq!(o.trace().sent_payload(0), Some(&[1u8, 2, 3][..]));
        // A clock that steps back does not reorder the trace.
        o.datagram(500, 1, Some(0), Seen::udp(dst, src, &[4]));
        assert_eq!(o.trace().last_time(), Some(1_000));
    }

    /// A responder no initiator ever reached: the lane of the one seen.
    #[test]
    fn a_party_never_seen_has_no_lane() {
        let mut o = two();
        o.parties[0].role = Role::Responder;
        o.parties[1].role = Role::Initiator;
        let s = o
            .scenario()
            .unwrap_or_else(|e| panic!("{e}: {}", o.scenario_toml()));
        assert_eq!(s.hosts.len(), 1);
        assert_eq!(s.hosts[0].id, "local");
    }

    #[test]
    fn announced_addresses_become_the_other_partys() {
        let mut o = two();
        let extra: IpAddr = "198.51.100.20".parse().unwrap();
        o.event(
            5,
            0,
            Event::PeerAddresses {
                spi_i: 1,
                addresses: vec![extra],
            },
        );
        assert_eq!(o.owner(extra), Some(1));
    }

    #[test]
    fn the_scenario_names_both_parties_with_their_addresses() {
        let mut o = two();
        o.datagram(
            2_000_000,
            0,
            Some(1),
            Seen::udp(
                "192.0.2.10:500".parse().unwrap(),
                "203.0.113.10:500".parse().unwrap(),
                &[0; 8],
            ),
        );
        let s = o
            .scenario()
            .unwrap_or_else(|e| panic!("{e}: {}", o.scenario_toml()));
        assert_eq!(s.title, "a \"real\" run");
        assert_eq!(s.hosts.len(), 2);
        assert_eq!(s.hosts[1].interfaces[0].address.to_string(), "203.0.113.10");
        assert_eq!(s.until.micros(), 2_000_000);
    }
}
