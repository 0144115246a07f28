//! The two-endpoint harness (after quinn's `Pair`) of the integration tests:
//! virtual time, a tiny network between an initiator and a responder, and
//! the means to misbehave on purpose: black holes in both directions or
//! one, a NAT box that rewrites the initiator's addresses and ports (and can
//! reboot), rules that drop, delay, duplicate or rewrite a chosen datagram
//! (`Net::on`, `Net::rewrite` with a `Match`), and injection of hand-made
//! datagrams.
//!
//! Every datagram an endpoint sends is logged with where and when it
//! arrived (after translation), so tests assert what is observable on the
//! wire: addresses, ports, bytes, and the decrypted payloads (decrypted with
//! the keys from `Event::KeysDerived`).
#![allow(dead_code)]

use mobike_protocol::{
    DeleteReason, Dur, Endpoint, EndpointConfig, Event, IpProtocol, MS, Role, SEC, SaSnapshot,
    Settings, Time,
};
use mobike_wire::crypto::{GcmKey, IkeKeys};
use mobike_wire::header::{HEADER_LEN, Header};
use mobike_wire::message::{Message, decrypt};
use mobike_wire::payload::{GENERIC_HEADER_LEN, walk_chain};
use mobike_wire::registry::{ExchangeType, NotifyType, PayloadType};
use mobike_wire::udp::{UdpPayload, classify, frame_ike};
use mobike_wire::{Payload, WireError};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

pub const I1: &str = "192.0.2.10";
pub const I2: &str = "198.51.100.10";
pub const I3: &str = "192.0.2.30";
pub const I6: &str = "2001:db8:1::10";
pub const R1: &str = "203.0.113.10";
pub const R2: &str = "203.0.113.20";
/// The NAT box's public address.
pub const NAT_EXT: &str = "198.18.0.1";
/// An address behind the NAT.
pub const IPRIV: &str = "10.0.0.2";

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn sa(s: &str, port: u16) -> SocketAddr {
    SocketAddr::new(ip(s), port)
}

/// The exchange most tests are about.
pub const INFO: ExchangeType = ExchangeType::INFORMATIONAL;

/// Harness settings: the defaults with a 5 s liveness interval.
pub fn settings() -> Settings {
    Settings {
        liveness: true,
        liveness_interval: Dur(5 * SEC),
        ..Settings::default()
    }
}

/// Harness settings without liveness checks.
pub fn no_liveness() -> Settings {
    Settings {
        liveness: false,
        ..settings()
    }
}

/// Harness settings without NAT traversal.
pub fn no_natt() -> Settings {
    Settings {
        nat_traversal: false,
        ..settings()
    }
}

pub fn config(role: Role, id: &str, settings: Settings) -> EndpointConfig {
    EndpointConfig {
        role,
        id: id.into(),
        psk: b"playground-psk".to_vec(),
        peer_id: None,
        settings,
    }
}

/// A datagram on its way out of an endpoint, as the rules see it.
#[derive(Clone, Debug)]
pub struct Datagram {
    pub from: Role,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: Vec<u8>,
    pub protocol: IpProtocol,
}

/// The IKE header of a datagram, if it carries an IKE message.
fn ike_header(protocol: IpProtocol, payload: &[u8], src: SocketAddr) -> Option<Header> {
    if protocol != IpProtocol::Udp {
        return None;
    }
    match classify(payload, src.port()) {
        UdpPayload::Ike(b) => Header::parse(b).ok(),
        _ => None,
    }
}

impl Datagram {
    /// The IKE header, if this is an IKE message.
    pub fn ike(&self) -> Option<Header> {
        ike_header(self.protocol, &self.payload, self.src)
    }
    pub fn is_request(&self, exchange: ExchangeType) -> bool {
        self.ike()
            .is_some_and(|h| h.exchange == exchange && !h.flags.response())
    }
    pub fn is_response(&self, exchange: ExchangeType) -> bool {
        self.ike()
            .is_some_and(|h| h.exchange == exchange && h.flags.response())
    }
    /// Opens a protected IKE message with the IKE SA's keys, lets `edit`
    /// change its inner payloads, and seals it again as its sender would
    /// (same header and ports, the given IV): a forgery only a holder of
    /// the keys can make.
    pub fn reseal(
        &mut self,
        keys: Option<&IkeKeys>,
        iv: [u8; 8],
        edit: impl FnOnce(&mut Vec<Payload>),
    ) {
        let keys = keys.expect("the IKE SA's keys");
        let header = self.ike().expect("an IKE message");
        let mut inner = self.inner(Some(keys)).expect("a protected message");
        edit(&mut inner);
        let (sp, dp) = (self.src.port(), self.dst.port());
        self.payload = forge(keys, self.from, header, &inner, iv, sp, dp);
    }
    /// The decrypted payloads of a protected IKE message.
    pub fn inner(&self, keys: Option<&IkeKeys>) -> Option<Vec<Payload>> {
        let h = self.ike()?;
        let UdpPayload::Ike(b) = classify(&self.payload, self.src.port()) else {
            return None;
        };
        let k = keys?;
        decrypt(
            b,
            if h.flags.initiator() {
                &k.sk_ei
            } else {
                &k.sk_er
            },
        )
        .ok()
    }
}

/// What a rule decides for a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Not this rule's business: the next rule decides.
    Pass,
    Drop,
    /// Delivered twice, the copy `Time` after the original.
    Twice(Time),
    /// Delivered this much later than normal.
    Delay(Time),
}

/// A rule sees (and may rewrite) every datagram an endpoint sends.
pub type Rule = Box<dyn FnMut(&mut Datagram, Option<&IkeKeys>) -> Fate>;

/// Which datagrams a rule (`Net::on`, `Net::rewrite`) applies to: what they
/// carry, narrowed down by sender, destination, message ID, and which one
/// of those that match (counted from the rule's installation on):
///
/// ```text
/// n.on(Match::response(INFO).from(Role::Initiator), Fate::Delay(500 * MS));
/// n.on(Match::request(INFO).from(Role::Responder).nth(0), Fate::Drop);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Match {
    carries: Carries,
    from: Option<Role>,
    to: Option<IpAddr>,
    mid: Option<u32>,
    nth: Option<usize>,
}

#[derive(Clone, Copy, Debug)]
enum Carries {
    /// An IKE message of the exchange: only responses (`Some(true)`), only
    /// requests (`Some(false)`), or both.
    Ike {
        exchange: ExchangeType,
        response: Option<bool>,
    },
    /// ESP in its own IP protocol (50), not UDP-encapsulated.
    PlainEsp,
}

impl Match {
    fn carrying(carries: Carries) -> Match {
        Match {
            carries,
            from: None,
            to: None,
            mid: None,
            nth: None,
        }
    }
    /// Requests of `exchange`.
    pub fn request(exchange: ExchangeType) -> Match {
        Match::carrying(Carries::Ike {
            exchange,
            response: Some(false),
        })
    }
    /// Responses of `exchange`.
    pub fn response(exchange: ExchangeType) -> Match {
        Match::carrying(Carries::Ike {
            exchange,
            response: Some(true),
        })
    }
    /// Requests and responses of `exchange`.
    pub fn exchange(exchange: ExchangeType) -> Match {
        Match::carrying(Carries::Ike {
            exchange,
            response: None,
        })
    }
    /// ESP in IP protocol 50 (UDP-encapsulated ESP does not match).
    pub fn plain_esp() -> Match {
        Match::carrying(Carries::PlainEsp)
    }
    /// Only datagrams `role` sends.
    pub fn from(self, role: Role) -> Match {
        Match {
            from: Some(role),
            ..self
        }
    }
    /// Only datagrams sent to `addr`.
    pub fn to(self, addr: IpAddr) -> Match {
        Match {
            to: Some(addr),
            ..self
        }
    }
    /// Only IKE messages with this message ID.
    pub fn mid(self, mid: u32) -> Match {
        Match {
            mid: Some(mid),
            ..self
        }
    }
    /// Only the `n`-th (from 0, as `Iterator::nth`) of the datagrams that
    /// match.
    pub fn nth(self, n: usize) -> Match {
        Match {
            nth: Some(n),
            ..self
        }
    }
    /// Whether `d` is of the kind described (`nth` aside).
    pub fn matches(&self, d: &Datagram) -> bool {
        let carries = match self.carries {
            Carries::Ike { exchange, response } => d.ike().is_some_and(|h| {
                h.exchange == exchange
                    && response.is_none_or(|r| h.flags.response() == r)
                    && self.mid.is_none_or(|m| h.message_id == m)
            }),
            Carries::PlainEsp => d.protocol == IpProtocol::Esp && self.mid.is_none(),
        };
        carries && self.from.is_none_or(|r| d.from == r) && self.to.is_none_or(|a| d.dst.ip() == a)
    }
    /// A predicate that counts the datagrams that match and, with `nth`,
    /// holds for the n-th one only.
    fn counted(self) -> impl FnMut(&Datagram) -> bool {
        let mut seen = 0usize;
        move |d| {
            if !self.matches(d) {
                return false;
            }
            seen += 1;
            self.nth.is_none_or(|n| seen == n + 1)
        }
    }
}

/// A NAT box in front of the initiator's `inside` addresses: endpoint
/// independent mapping and filtering (RFC 4787 "full cone"), ports allocated
/// from `next_port` upwards. Plain ESP has no ports and is dropped (RFC 4555
/// §3.3 is why MOBIKE peers use UDP 4500).
#[derive(Clone, Debug)]
pub struct Nat {
    pub inside: BTreeSet<IpAddr>,
    pub external: IpAddr,
    pub next_port: u16,
    /// A basic NAT (RFC 4555 §3.9 tests): the address is rewritten, the
    /// port kept.
    pub keep_ports: bool,
    pub map: BTreeMap<SocketAddr, SocketAddr>,
}

impl Nat {
    pub fn new(inside: &[&str], external: &str, first_port: u16) -> Nat {
        Nat {
            inside: inside.iter().map(|a| ip(a)).collect(),
            external: ip(external),
            next_port: first_port,
            keep_ports: false,
            map: BTreeMap::new(),
        }
    }
    /// An address translator that keeps ports (reference §7.3 `basic-nat`).
    pub fn basic(inside: &[&str], external: &str) -> Nat {
        Nat {
            keep_ports: true,
            ..Nat::new(inside, external, 0)
        }
    }
    fn outbound(&mut self, src: SocketAddr) -> SocketAddr {
        if let Some(m) = self.map.get(&src) {
            return *m;
        }
        let m = if self.keep_ports {
            SocketAddr::new(self.external, src.port())
        } else {
            self.next_port += 1;
            SocketAddr::new(self.external, self.next_port - 1)
        };
        self.map.insert(src, m);
        m
    }
    fn inbound(&self, dst: SocketAddr) -> Option<SocketAddr> {
        self.map
            .iter()
            .find(|(_, ext)| **ext == dst)
            .map(|(int, _)| *int)
    }
    /// The mapping table is lost; new mappings start at `first_port`.
    pub fn reboot(&mut self, first_port: u16) {
        self.map.clear();
        self.next_port = first_port;
    }
    /// The external address:port of an internal one, if mapped.
    pub fn mapped(&self, internal: SocketAddr) -> Option<SocketAddr> {
        self.map.get(&internal).copied()
    }
}

/// Where and how a datagram arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub at: Time,
    pub to: Role,
    /// Addresses as the receiver saw them (after translation).
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// One datagram sent by an endpoint (or injected by the test).
#[derive(Clone, Debug)]
pub struct Sent {
    pub at: Time,
    /// `None` for a datagram the test injected.
    pub from: Option<Role>,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: Vec<u8>,
    pub protocol: IpProtocol,
    pub arrivals: Vec<Arrival>,
}

impl Sent {
    pub fn delivered(&self) -> bool {
        !self.arrivals.is_empty()
    }
    pub fn is_keepalive(&self) -> bool {
        self.protocol == IpProtocol::Udp
            && classify(&self.payload, self.src.port()) == UdpPayload::Keepalive
    }
    pub fn is_esp(&self) -> bool {
        self.protocol == IpProtocol::Esp
            || matches!(classify(&self.payload, self.src.port()), UdpPayload::Esp(_))
                && self.protocol == IpProtocol::Udp
    }
    /// The IKE header, if this is an IKE message.
    pub fn ike(&self) -> Option<Header> {
        ike_header(self.protocol, &self.payload, self.src)
    }
    pub fn is_request(&self, exchange: ExchangeType) -> bool {
        self.ike()
            .is_some_and(|h| h.exchange == exchange && !h.flags.response())
    }
    pub fn is_response(&self, exchange: ExchangeType) -> bool {
        self.ike()
            .is_some_and(|h| h.exchange == exchange && h.flags.response())
    }
    pub fn ike_bytes(&self) -> Option<&[u8]> {
        if self.protocol != IpProtocol::Udp {
            return None;
        }
        match classify(&self.payload, self.src.port()) {
            UdpPayload::Ike(b) => Some(b),
            _ => None,
        }
    }
}

/// One IKE message from the log, parsed and (when protected) decrypted.
#[derive(Clone, Debug)]
pub struct Msg {
    /// Index in `Net::log`.
    pub idx: usize,
    pub at: Time,
    pub from: Option<Role>,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub header: Header,
    /// The IKE message (without the non-ESP marker).
    pub ike: Vec<u8>,
    /// Outer payloads for IKE_SA_INIT, decrypted inner payloads otherwise
    /// (empty if it could not be decrypted).
    pub payloads: Vec<Payload>,
    pub decrypted: bool,
    pub arrivals: Vec<Arrival>,
}

impl Msg {
    pub fn mid(&self) -> u32 {
        self.header.message_id
    }
    pub fn exchange(&self) -> ExchangeType {
        self.header.exchange
    }
    pub fn is_response(&self) -> bool {
        self.header.flags.response()
    }
    pub fn is_request(&self) -> bool {
        !self.header.flags.response()
    }
    pub fn has(&self, kind: NotifyType) -> bool {
        mobike_wire::message::has_notify(&self.payloads, kind)
    }
    pub fn data(&self, kind: NotifyType) -> Option<&[u8]> {
        mobike_wire::message::notify_data(&self.payloads, kind)
    }
    pub fn info(&self) -> bool {
        self.exchange() == ExchangeType::INFORMATIONAL
    }
    pub fn delivered(&self) -> bool {
        !self.arrivals.is_empty()
    }
    /// The Nonce payload's data (Ni or Nr); a test without one fails.
    pub fn nonce(&self) -> Vec<u8> {
        self.payloads
            .iter()
            .find_map(|p| match p {
                Payload::Nonce(n) => Some(n.clone()),
                _ => None,
            })
            .expect("a Nonce payload")
    }
    /// The TSr payload's selectors; a test without one fails.
    pub fn ts_r(&self) -> Vec<mobike_wire::payload::TrafficSelector> {
        self.payloads
            .iter()
            .find_map(|p| match p {
                Payload::TsR(t) => Some(t.clone()),
                _ => None,
            })
            .expect("a TSr payload")
    }
    /// Notify types in order.
    pub fn notifies(&self) -> Vec<NotifyType> {
        self.payloads
            .iter()
            .filter_map(Payload::as_notify)
            .map(|n| n.kind)
            .collect()
    }
}

struct Flight {
    at: Time,
    seq: u64,
    src: SocketAddr,
    dst: SocketAddr,
    payload: Vec<u8>,
    protocol: IpProtocol,
    log: usize,
}

pub struct Net {
    pub now: Time,
    pub i: Endpoint,
    pub r: Endpoint,
    pub delay: Time,
    /// Addresses whose packets vanish in both directions.
    pub blackholed: BTreeSet<IpAddr>,
    /// One-way cuts: datagrams from the first address to the second vanish.
    pub cut: BTreeSet<(IpAddr, IpAddr)>,
    pub nat: Option<Nat>,
    pub rules: Vec<Rule>,
    flights: Vec<Flight>,
    seq: u64,
    pub log: Vec<Sent>,
    pub events: Vec<(Time, Role, Event)>,
    pub keys: Option<IkeKeys>,
    /// The keys of every IKE SA, by SPIi (after a redirect or a retry
    /// there are several).
    pub all_keys: Vec<(u64, IkeKeys)>,
    /// Inner packets each side received through its Child SA.
    pub data_i: Vec<Vec<u8>>,
    pub data_r: Vec<Vec<u8>>,
}

impl Net {
    pub fn new(i_addrs: &[&str], r_addrs: &[&str]) -> Net {
        Net::with(i_addrs, r_addrs, settings(), settings())
    }

    pub fn with(i_addrs: &[&str], r_addrs: &[&str], si: Settings, sr: Settings) -> Net {
        Net {
            now: 0,
            i: Endpoint::new(
                config(Role::Initiator, "laptop.example", si),
                i_addrs.iter().map(|a| ip(a)).collect(),
                1,
            ),
            r: Endpoint::new(
                config(Role::Responder, "gw.example", sr),
                r_addrs.iter().map(|a| ip(a)).collect(),
                2,
            ),
            delay: 10 * MS,
            blackholed: BTreeSet::new(),
            cut: BTreeSet::new(),
            nat: None,
            rules: Vec::new(),
            flights: Vec::new(),
            seq: 0,
            log: Vec::new(),
            events: Vec::new(),
            keys: None,
            all_keys: Vec::new(),
            data_i: Vec::new(),
            data_r: Vec::new(),
        }
    }

    /// The initiator connects to the responder's first address and the
    /// network runs for one second.
    pub fn established(i_addrs: &[&str], r_addrs: &[&str]) -> Net {
        let mut n = Net::new(i_addrs, r_addrs);
        n.connect();
        n.run(SEC);
        n
    }

    pub fn connect(&mut self) {
        let peer = self.r.local_addresses()[0];
        self.i.connect(self.now, peer);
        self.drain();
    }

    pub fn ep(&mut self, role: Role) -> &mut Endpoint {
        match role {
            Role::Initiator => &mut self.i,
            Role::Responder => &mut self.r,
        }
    }

    /// Adds a rule of any kind; `on` and `rewrite` cover the usual ones.
    pub fn add_rule(
        &mut self,
        rule: impl FnMut(&mut Datagram, Option<&IkeKeys>) -> Fate + 'static,
    ) {
        self.rules.push(Box::new(rule));
    }

    /// From now on, the datagrams that match `m` meet `fate`; the others
    /// go on to the next rule.
    pub fn on(&mut self, m: Match, fate: Fate) {
        let mut hit = m.counted();
        self.add_rule(move |d, _| if hit(d) { fate } else { Fate::Pass });
    }

    /// From now on, `edit` rewrites the datagrams that match `m` (it gets
    /// the IKE SA's keys, for re-sealing); all go on to the next rule, so a
    /// later `on` can still drop or delay the rewritten datagram.
    pub fn rewrite(
        &mut self,
        m: Match,
        mut edit: impl FnMut(&mut Datagram, Option<&IkeKeys>) + 'static,
    ) {
        let mut hit = m.counted();
        self.add_rule(move |d, keys| {
            if hit(d) {
                edit(d, keys);
            }
            Fate::Pass
        });
    }

    /// Moves what the endpoints queued onto the network (and into the log).
    pub fn drain(&mut self) {
        for role in [Role::Initiator, Role::Responder] {
            while let Some(e) = self.ep(role).poll_event() {
                if let Event::KeysDerived { keys, spi_i, .. } = &e {
                    self.keys = Some((**keys).clone());
                    self.all_keys.push((*spi_i, (**keys).clone()));
                }
                self.events.push((self.now, role, e));
            }
            while let Some(p) = self.ep(role).poll_data() {
                match role {
                    Role::Initiator => self.data_i.push(p),
                    Role::Responder => self.data_r.push(p),
                }
            }
            while let Some(t) = self.ep(role).poll_transmit() {
                let d = Datagram {
                    from: role,
                    src: t.src,
                    dst: t.dst,
                    payload: t.payload,
                    protocol: t.protocol,
                };
                self.send(Some(role), d);
            }
        }
    }

    fn send(&mut self, from: Option<Role>, mut d: Datagram) {
        let mut fate = Fate::Pass;
        if from.is_some() {
            for rule in &mut self.rules {
                fate = rule(&mut d, self.keys.as_ref());
                if fate != Fate::Pass {
                    break;
                }
            }
        }
        let idx = self.log.len();
        self.log.push(Sent {
            at: self.now,
            from,
            src: d.src,
            dst: d.dst,
            payload: d.payload.clone(),
            protocol: d.protocol,
            arrivals: Vec::new(),
        });
        if fate == Fate::Drop {
            return;
        }
        let Some((src, dst)) = self.route(d.src, d.dst, d.protocol) else {
            return;
        };
        let mut times = vec![self.now + self.delay];
        match fate {
            Fate::Twice(extra) => times.push(self.now + self.delay + extra),
            Fate::Delay(extra) => times[0] += extra,
            _ => {}
        }
        for at in times {
            self.seq += 1;
            self.flights.push(Flight {
                at,
                seq: self.seq,
                src,
                dst,
                payload: d.payload.clone(),
                protocol: d.protocol,
                log: idx,
            });
        }
    }

    /// Black holes and the NAT box. Returns the addresses as the receiver
    /// will see them, or `None` if the datagram is lost on the way.
    fn route(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        protocol: IpProtocol,
    ) -> Option<(SocketAddr, SocketAddr)> {
        if self.blackholed.contains(&src.ip())
            || self.blackholed.contains(&dst.ip())
            || self.cut.contains(&(src.ip(), dst.ip()))
        {
            return None;
        }
        let (mut s, mut d) = (src, dst);
        if let Some(nat) = &mut self.nat {
            let from_inside = nat.inside.contains(&s.ip());
            let to_inside = nat.inside.contains(&d.ip());
            if from_inside && !to_inside {
                if protocol == IpProtocol::Esp {
                    return None;
                }
                s = nat.outbound(s);
            } else if to_inside && !from_inside {
                // Private addresses cannot be reached from outside.
                return None;
            }
            if d.ip() == nat.external {
                if protocol == IpProtocol::Esp {
                    return None;
                }
                d = nat.inbound(d)?;
            }
        }
        if self.blackholed.contains(&d.ip()) {
            return None;
        }
        Some((s, d))
    }

    /// Delivers a hand-made datagram to whoever owns `dst`, `delay` from now
    /// (no rules, no NAT). It is logged with `from: None`.
    pub fn inject(&mut self, src: SocketAddr, dst: SocketAddr, payload: Vec<u8>) {
        let d = Datagram {
            from: Role::Initiator,
            src,
            dst,
            payload,
            protocol: IpProtocol::Udp,
        };
        let idx = self.log.len();
        self.log.push(Sent {
            at: self.now,
            from: None,
            src,
            dst,
            payload: d.payload.clone(),
            protocol: d.protocol,
            arrivals: Vec::new(),
        });
        self.seq += 1;
        self.flights.push(Flight {
            at: self.now + self.delay,
            seq: self.seq,
            src,
            dst,
            payload: d.payload,
            protocol: IpProtocol::Udp,
            log: idx,
        });
    }

    fn owner(&self, dst: IpAddr) -> Option<Role> {
        if self.i.local_addresses().contains(&dst) {
            Some(Role::Initiator)
        } else if self.r.local_addresses().contains(&dst) {
            Some(Role::Responder)
        } else {
            None
        }
    }

    /// Processes the next packet arrival or timer at or before `until`.
    /// Returns false when there is none.
    pub fn step(&mut self, until: Time) -> bool {
        let next_pkt = self.flights.iter().map(|f| (f.at, f.seq)).min();
        let next_timer = [self.i.poll_timeout(), self.r.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let t = match (next_pkt, next_timer) {
            (Some((p, _)), Some(tm)) => p.min(tm),
            (Some((p, _)), None) => p,
            (None, Some(tm)) => tm,
            (None, None) => return false,
        };
        if t > until {
            return false;
        }
        self.now = self.now.max(t);
        if let Some((p, seq)) = next_pkt
            && p == t
        {
            let idx = self.flights.iter().position(|f| f.seq == seq).unwrap();
            let f = self.flights.remove(idx);
            if let Some(to) = self.owner(f.dst.ip()) {
                self.log[f.log].arrivals.push(Arrival {
                    at: self.now,
                    to,
                    src: f.src,
                    dst: f.dst,
                });
                let now = self.now;
                let ep = self.ep(to);
                if f.protocol == IpProtocol::Esp {
                    ep.handle_esp(now, f.src, f.dst, &f.payload);
                } else {
                    ep.handle_datagram(now, f.src, f.dst, &f.payload);
                }
            }
        } else {
            let now = self.now;
            self.i.handle_timeout(now);
            self.r.handle_timeout(now);
        }
        self.drain();
        true
    }

    /// Runs until `until`, delivering packets and firing timers in time order.
    pub fn run(&mut self, until: Time) {
        self.drain();
        let mut guard = 0u32;
        while self.step(until) {
            guard += 1;
            assert!(guard < 1_000_000, "the network does not settle");
        }
        self.now = self.now.max(until);
    }

    /// Runs until `pred` holds (checked after every step) or `until` passes.
    /// Returns whether `pred` held.
    pub fn run_until(&mut self, until: Time, mut pred: impl FnMut(&Net) -> bool) -> bool {
        self.drain();
        if pred(self) {
            return true;
        }
        let mut guard = 0u32;
        while self.step(until) {
            if pred(self) {
                return true;
            }
            guard += 1;
            assert!(guard < 1_000_000, "the network does not settle");
        }
        self.now = self.now.max(until);
        false
    }

    /// Decrypted IKE messages in send order.
    pub fn messages(&self) -> Vec<Msg> {
        self.log
            .iter()
            .enumerate()
            .filter_map(|(idx, s)| {
                let b = s.ike_bytes()?;
                let m = Message::parse(b).ok()?;
                let (payloads, decrypted) = if m.header.exchange == ExchangeType::IKE_SA_INIT {
                    (m.payloads.clone(), true)
                } else {
                    let keys = self
                        .all_keys
                        .iter()
                        .rev()
                        .find(|(spi, _)| *spi == m.header.spi_i)
                        .map(|(_, k)| k);
                    match keys.map(|k| {
                        decrypt(
                            b,
                            if m.header.flags.initiator() {
                                &k.sk_ei
                            } else {
                                &k.sk_er
                            },
                        )
                    }) {
                        Some(Ok(p)) => (p, true),
                        _ => (Vec::new(), false),
                    }
                };
                Some(Msg {
                    idx,
                    at: s.at,
                    from: s.from,
                    src: s.src,
                    dst: s.dst,
                    header: m.header,
                    ike: b[..m.header.length as usize].to_vec(),
                    payloads,
                    decrypted,
                    arrivals: s.arrivals.clone(),
                })
            })
            .collect()
    }

    /// Messages sent by `role` (not injected ones).
    pub fn sent_by(&self, role: Role) -> Vec<Msg> {
        self.messages()
            .into_iter()
            .filter(|m| m.from == Some(role))
            .collect()
    }

    pub fn snap(&self, role: Role) -> SaSnapshot {
        match role {
            Role::Initiator => self.i.snapshots().remove(0),
            Role::Responder => self.r.snapshots().remove(0),
        }
    }

    pub fn events_of(&self, role: Role) -> Vec<(Time, Event)> {
        self.events
            .iter()
            .filter(|(_, r, _)| *r == role)
            .map(|(t, _, e)| (*t, e.clone()))
            .collect()
    }

    /// When and why `role` deleted an IKE SA first.
    pub fn deleted(&self, role: Role) -> Option<(Time, DeleteReason)> {
        self.events.iter().find_map(|(t, r, e)| match e {
            Event::Deleted { reason, .. } if *r == role => Some((*t, reason.clone())),
            _ => None,
        })
    }

    /// Sends one inner packet through `role`'s Child SA and returns the
    /// datagram it produced (not yet on the network: it is logged and sent
    /// by the next `drain`/`run`).
    pub fn send_data(&mut self, role: Role) -> Option<Sent> {
        let (laptop, gateway) = ("10.99.0.2".parse().unwrap(), "10.1.0.1".parse().unwrap());
        self.send_ping(role, laptop, gateway)
    }

    /// Sends one echo (`role`: the initiator's request or the responder's
    /// answer) from `src` to `dst` inside the tunnel, as
    /// [`Net::send_data`] does.
    pub fn send_ping(
        &mut self,
        role: Role,
        src: std::net::Ipv4Addr,
        dst: std::net::Ipv4Addr,
    ) -> Option<Sent> {
        let ping = mobike_wire::ip::Ping {
            src,
            dst,
            reply: role == Role::Responder,
            ident: 7,
            seq: self.log.len() as u16,
        };
        let now = self.now;
        if !self.ep(role).send_data(now, &ping.to_packet()) {
            return None;
        }
        let before = self.log.len();
        self.drain();
        self.log[before..].iter().find(|s| s.is_esp()).cloned()
    }
}

/// The keys of the messages an endpoint sends.
pub fn key_of(keys: &IkeKeys, role: Role) -> &GcmKey {
    match role {
        Role::Initiator => &keys.sk_ei,
        Role::Responder => &keys.sk_er,
    }
}

/// Builds a protected message as `role` would send it (a forgery made with
/// the real keys), framed as sent from `src_port` (the destination port is
/// the receiver's and does not change the framing).
pub fn forge(
    keys: &IkeKeys,
    role: Role,
    header: Header,
    inner: &[Payload],
    iv: [u8; 8],
    src_port: u16,
    _dst_port: u16,
) -> Vec<u8> {
    let ike = Message::emit_encrypted(header, inner, key_of(keys, role), iv).unwrap();
    frame_ike(&ike, src_port)
}

/// Applies `edit` to the data of every notify of type `kind` in `payloads`.
pub fn edit_notify(payloads: &mut [Payload], kind: NotifyType, mut edit: impl FnMut(&mut Vec<u8>)) {
    for p in payloads {
        if let Payload::Notify(n) = p
            && n.kind == kind
        {
            edit(&mut n.data);
        }
    }
}

/// The inner payloads of a protected message as raw octets (generic header
/// included), for byte-level checks.
pub fn raw_inner(ike: &[u8], key: &GcmKey) -> Result<Vec<(PayloadType, Vec<u8>)>, WireError> {
    let header = Header::parse(ike)?;
    let bytes = &ike[..header.length as usize];
    let body = &bytes[HEADER_LEN..];
    let raw = walk_chain(header.next_payload, body)?;
    let sk = raw
        .iter()
        .find(|r| r.kind == PayloadType::SK)
        .ok_or(WireError::Malformed("no SK"))?;
    let aad_end = HEADER_LEN + sk.range.start + GENERIC_HEADER_LEN;
    let sk_body = &bytes[aad_end..HEADER_LEN + sk.range.end];
    let mut iv = [0u8; 8];
    iv.copy_from_slice(&sk_body[..8]);
    let ct_end = sk_body.len() - 16;
    let mut icv = [0u8; 16];
    icv.copy_from_slice(&sk_body[ct_end..]);
    let mut plain = sk_body[8..ct_end].to_vec();
    key.open(&iv, &bytes[..aad_end], &mut plain, &icv)?;
    let pad = *plain.last().unwrap() as usize;
    plain.truncate(plain.len() - pad - 1);
    let inner = walk_chain(sk.next, &plain)?;
    Ok(inner
        .into_iter()
        .map(|r| (r.kind, plain[r.range].to_vec()))
        .collect())
}

/// The raw outer payloads of an unprotected message (IKE_SA_INIT).
pub fn raw_outer(ike: &[u8]) -> Vec<(PayloadType, Vec<u8>)> {
    let header = Header::parse(ike).unwrap();
    let body = &ike[HEADER_LEN..header.length as usize];
    walk_chain(header.next_payload, body)
        .unwrap()
        .into_iter()
        .map(|r| (r.kind, body[r.range].to_vec()))
        .collect()
}

/// Checks that no endpoint ever has more than one request of its own
/// outstanding (window size 1, RFC 7296 §2.3): a request with a new message
/// ID is only sent once the previous one's response has arrived. Returns the
/// violations found.
pub fn window_violations(net: &Net) -> Vec<String> {
    let msgs = net.messages();
    let mut bad = Vec::new();
    for role in [Role::Initiator, Role::Responder] {
        // (mid, first send time) of this side's requests, and the arrival
        // time of the first response to each.
        let mut firsts: BTreeMap<u32, Time> = BTreeMap::new();
        for m in msgs
            .iter()
            .filter(|m| m.from == Some(role) && m.is_request())
        {
            firsts.entry(m.mid()).or_insert(m.at);
        }
        let answered = |mid: u32| -> Option<Time> {
            msgs.iter()
                .filter(|m| m.from != Some(role) && m.is_response() && m.mid() == mid)
                .flat_map(|m| m.arrivals.iter())
                .filter(|a| a.to == role)
                .map(|a| a.at)
                .min()
        };
        let mut order: Vec<(Time, u32)> = firsts.iter().map(|(m, t)| (*t, *m)).collect();
        order.sort();
        for w in order.windows(2) {
            let (_, prev) = w[0];
            let (t, next) = w[1];
            match answered(prev) {
                Some(a) if a <= t => {}
                other => bad.push(format!(
                    "{role:?} sent request {next} at {t} while {prev} was unanswered (answer {other:?})"
                )),
            }
        }
    }
    bad
}

/// A one-line description of every logged datagram, for failure messages.
pub fn trace(net: &Net) -> String {
    let msgs = net.messages();
    let mut out = String::new();
    for (idx, s) in net.log.iter().enumerate() {
        let what = if let Some(m) = msgs.iter().find(|m| m.idx == idx) {
            let names: Vec<String> = m
                .payloads
                .iter()
                .map(|p| mobike_wire::payload::notation(p, m.header.flags.initiator()))
                .collect();
            format!(
                "{} mid={} {} {{{}}}",
                m.exchange(),
                m.mid(),
                if m.is_response() { "resp" } else { "req" },
                names.join(", ")
            )
        } else if s.is_keepalive() {
            "keepalive".to_string()
        } else if s.is_esp() {
            format!("ESP ({:?})", s.protocol)
        } else {
            "?".to_string()
        };
        let arr: Vec<String> = s
            .arrivals
            .iter()
            .map(|a| format!("@{}ms {}->{}", a.at / MS, a.src, a.dst))
            .collect();
        out.push_str(&format!(
            "{:>8}ms {:?} {} -> {} {} [{}]\n",
            s.at / MS,
            s.from,
            s.src,
            s.dst,
            what,
            if arr.is_empty() {
                "LOST".into()
            } else {
                arr.join(" ")
            }
        ));
    }
    for (t, r, e) in &net.events {
        out.push_str(&format!("{:>8}ms {:?} {:?}\n", t / MS, r, short(e)));
    }
    out
}

fn short(e: &Event) -> String {
    match e {
        Event::KeysDerived { .. } => "KeysDerived".into(),
        Event::ChildSa { .. } => "ChildSa".into(),
        other => format!("{other:?}"),
    }
}

// ------------------------------------------ attackers (tests/security.rs, tests/props.rs)

/// An off-path attacker's address: owned by neither endpoint, so what is
/// sent there is logged and lost.
pub const ATTACKER: &str = "192.0.2.66";
/// A third party's address (RFC 4555 §5.2 "third-party bombing"): owned by
/// neither endpoint; it never answers.
pub const VICTIM: &str = "198.51.100.99";

/// The established IKE SA's SPIs, from the IKE_AUTH request.
pub fn ike_sa_spis(net: &Net) -> (u64, u64) {
    let m = net
        .messages()
        .into_iter()
        .find(|m| m.exchange() == ExchangeType::IKE_AUTH)
        .expect("IKE_AUTH");
    (m.header.spi_i, m.header.spi_r)
}

/// The message ID of the next new request `to` expects from its peer: one
/// past the highest request ID the peer has sent so far (RFC 7296 §2.2).
pub fn next_request_mid(net: &Net, to: Role) -> u32 {
    let from = match to {
        Role::Initiator => Role::Responder,
        Role::Responder => Role::Initiator,
    };
    net.messages()
        .iter()
        .filter(|m| m.from == Some(from) && m.is_request())
        .map(|m| m.mid() + 1)
        .max()
        .unwrap_or(0)
}

/// The header of a request on the IKE SA as `from` would send it.
pub fn request_header(spis: (u64, u64), from: Role, exchange: ExchangeType, mid: u32) -> Header {
    Header {
        spi_i: spis.0,
        spi_r: spis.1,
        next_payload: PayloadType::None,
        exchange,
        flags: mobike_wire::header::Flags::new(from == Role::Initiator, false),
        message_id: mid,
        length: 0,
    }
}

/// A key that is not the IKE SA's: what an attacker who does not know SK_e*
/// seals its forgeries with.
pub fn wrong_key() -> GcmKey {
    GcmKey::from_keymat(&[0x42; 20]).unwrap()
}

/// Datagrams sent by `role` (not injected) towards `addr`: (IKE count, ESP
/// count, octets of both). What a host at `addr` would receive.
pub fn sent_towards(net: &Net, role: Role, addr: IpAddr) -> (usize, usize, usize) {
    let mut ike = 0;
    let mut esp = 0;
    let mut octets = 0;
    for s in net
        .log
        .iter()
        .filter(|s| s.from == Some(role) && s.dst.ip() == addr)
    {
        if s.is_esp() {
            esp += 1;
        } else {
            ike += 1;
        }
        octets += s.payload.len();
    }
    (ike, esp, octets)
}

/// `role`'s notes, in order.
pub fn notes(n: &Net, role: Role) -> Vec<mobike_protocol::Note> {
    n.events_of(role)
        .into_iter()
        .filter_map(|(_, e)| match e {
            Event::Note { note, .. } => Some(*note),
            _ => None,
        })
        .collect()
}
