//! The append-only record of a run: every packet sent, translated, delivered
//! or dropped (with the reason), every protocol event and every change of the
//! network. Views (charts, panels, exports) are derived from it.

use crate::chunked::Chunked;
pub use crate::shared::{Addr, Bytes, Name};
use crate::vocab::direction::Direction;
use crate::vocab::reason::DropReason;
use mobike_protocol::{Event, IpProtocol, Time};
use rustc_hash::FxHashMap;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// A packet's number in the trace, unique within a run.
pub type PacketId = u64;

/// One thing that happened, at a moment of virtual time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEvent {
    pub time: Time,
    #[serde(flatten)]
    pub kind: TraceKind,
}

/// What happened; serialised with its kind as `"type"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceKind {
    /// A host sent a UDP datagram (payload as on the wire, marker included).
    Sent {
        packet: PacketId,
        node: Name,
        link: Name,
        src: Addr,
        dst: Addr,
        payload: Bytes,
        /// UDP, or plain ESP (ports 0).
        #[serde(default)]
        protocol: IpProtocol,
    },
    /// A NAT box rewrote a packet's addresses.
    Translated {
        packet: PacketId,
        nat: Name,
        src: Addr,
        dst: Addr,
    },
    /// A packet reached a host.
    Delivered {
        packet: PacketId,
        node: Name,
        src: Addr,
        dst: Addr,
    },
    /// A packet was lost, and why (serialised as the reason's sentence).
    Dropped {
        packet: PacketId,
        at: Name,
        /// Boxed: rare beside the packets sent and delivered, it would
        /// set every entry's size.
        reason: Box<DropReason>,
    },
    /// What a host's IKE daemon reported (one shared copy, also when the
    /// trace is read back).
    Protocol { node: Name, event: Arc<Event> },
    /// A link went up or down: both directions, or only `direction`.
    Link {
        link: Name,
        up: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        direction: Option<Direction>,
    },
    /// A link delivered a second copy of `packet`, numbered `copy`.
    Duplicated {
        packet: PacketId,
        copy: PacketId,
        link: Name,
    },
    /// An interface went up or down (announced to the IKE daemon).
    Interface {
        node: Name,
        interface: String,
        up: bool,
    },
    /// A NAT box was put on a link or taken out of the path.
    NatPlaced { nat: Name, link: Option<Name> },
    /// A NAT created a mapping.
    NatMapping {
        nat: Name,
        internal: Addr,
        external: Addr,
    },
    /// A NAT mapping's timer ran out (RFC 4787 §4.3): nothing more comes in
    /// through it; the inside's next packet makes a new one.
    NatMappingExpired {
        nat: Name,
        internal: Addr,
        external: Addr,
    },
    /// A NAT rebooted and lost every mapping.
    NatRebooted { nat: Name, mappings_lost: usize },
    /// A NAT's public address changed.
    NatAddress { nat: Name, address: IpAddr },
    /// A NAT was configured anew: its behaviour now, and how many mappings
    /// were flushed.
    NatConfigured {
        nat: Name,
        behaviour: crate::vocab::nat::NatBehaviour,
        mappings_lost: usize,
    },
    /// A link's delay, jitter, loss and duplication are now these.
    LinkProperties {
        link: Name,
        delay: Time,
        jitter: Time,
        loss: f64,
        duplicate: f64,
    },
    /// An interface gained or lost an address; `announced`: the OS told the
    /// IKE daemon.
    Address {
        node: Name,
        interface: String,
        address: IpAddr,
        present: bool,
        announced: bool,
    },
    /// The ping generator (or a host answering) sent an ICMP echo through
    /// the tunnel; `carried` is false when no IPsec SA could take it.
    PingSent {
        node: Name,
        seq: u16,
        reply: bool,
        carried: bool,
    },
    /// A ping came out of the tunnel at a host.
    PingReceived { node: Name, seq: u16, reply: bool },
    /// Something the user or the timeline did, in words.
    Intervention { text: String, by_user: bool },
}

impl TraceKind {
    /// A host's protocol event: the host and the event.
    pub fn protocol(&self) -> Option<(&Name, &Event)> {
        match self {
            TraceKind::Protocol { node, event } => Some((node, event)),
            _ => None,
        }
    }
}

/// The trace of one run: appended to as things happen, never changed
/// (except cut back to an earlier length, for a jump back in time).
///
/// A long run records millions of entries, almost all a datagram sent,
/// translated or delivered. They are kept compact: 32 bytes an entry, with
/// names, addresses and payloads held once in tables and named by number;
/// protocol events are shared. Reading decodes an entry into a
/// [`TraceEvent`] (a name is shared; a payload's octets are copied out of
/// the store).
#[derive(Clone, Default)]
pub struct Trace {
    entries: Chunked<Entry>,
    names: Vec<Name>,
    /// By [`Name::identity`]: clones of one name share a number.
    name_ids: FxHashMap<usize, u32>,
    /// The (node, link) pairs that datagrams were sent on, by name number.
    senders: Vec<(u32, u32)>,
    sender_ids: FxHashMap<(u32, u32), u32>,
    addrs: Vec<Addr>,
    addr_ids: FxHashMap<Addr, u32>,
    /// One per datagram sent, but the NAT-keepalive octet that every
    /// keepalive shares is held once (see `shared_payloads`): where its
    /// bytes lie in `bytes`.
    payloads: Chunked<Span>,
    /// By content (256: none), payloads of at most one octet: the only
    /// ones sent many times over.
    shared_payloads: FxHashMap<u16, u32>,
    /// The payloads' bytes, one after another (one allocation per
    /// megabyte, not one per datagram).
    bytes: ByteStore,
    events: Chunked<Arc<Event>>,
    /// The rare kinds, whole.
    others: Vec<TraceKind>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Sent,
    Translated,
    Delivered,
    Protocol,
    Other,
}

/// One entry: the time split in halves so the entry packs to 32 bytes. For
/// `Sent`, `who` is the (node, link) pair and `index` the payload; for
/// `Translated` the NAT; for `Delivered` the node; for `Protocol` the node,
/// and `index` the event; for `Other`, `index` is the kind in `others`.
#[derive(Clone, Copy, Debug)]
struct Entry {
    time: [u32; 2],
    tag: Tag,
    esp: bool,
    packet: u32,
    who: u32,
    src: u32,
    dst: u32,
    index: u32,
}

impl Entry {
    /// An entry of `tag` at `time`, its numbers still 0.
    fn at(time: Time, tag: Tag) -> Entry {
        Entry {
            time: [time as u32, (time >> 32) as u32],
            tag,
            esp: false,
            packet: 0,
            who: 0,
            src: 0,
            dst: 0,
            index: 0,
        }
    }

    fn time(&self) -> Time {
        Time::from(self.time[0]) | Time::from(self.time[1]) << 32
    }
}

/// Where a payload's bytes lie in the [`ByteStore`].
#[derive(Clone, Copy, Debug, PartialEq)]
struct Span {
    block: u32,
    start: u32,
    len: u32,
}

/// Bytes appended in blocks of about a megabyte; a payload never straddles
/// two (one longer than a block has a block of its own). A full block is
/// shared by the trace's clones, as [`Chunked`]'s chunks are.
#[derive(Clone, Default)]
struct ByteStore {
    full: Vec<Arc<Vec<u8>>>,
    /// The block being filled (block number `full.len()`).
    tail: Vec<u8>,
}

const BLOCK: usize = 1 << 20;

impl ByteStore {
    fn push(&mut self, b: &[u8]) -> Span {
        if self.tail.capacity() - self.tail.len() < b.len() {
            if !self.tail.is_empty() {
                // Shared where it was written, as `Chunked`'s chunks.
                let full = std::mem::take(&mut self.tail);
                self.full.push(Arc::new(full));
            }
            self.tail = Vec::with_capacity(BLOCK.max(b.len()));
        }
        let start = self.tail.len();
        self.tail.extend_from_slice(b);
        Span {
            block: idx(self.full.len()),
            start: idx(start),
            len: idx(b.len()),
        }
    }

    fn get(&self, s: Span) -> &[u8] {
        let block = match self.full.get(s.block as usize) {
            Some(b) => &b[..],
            None => &self.tail[..],
        };
        &block[s.start as usize..][..s.len as usize]
    }

    /// Keeps the bytes up to the end of `last` (none when `None`).
    fn truncate(&mut self, last: Option<Span>) {
        match last {
            None => {
                self.full.clear();
                self.tail.clear();
            }
            Some(s) => {
                let (block, end) = (s.block as usize, (s.start + s.len) as usize);
                if let Some(b) = self.full.get(block) {
                    let mut tail = Vec::with_capacity(BLOCK.max(end));
                    tail.extend_from_slice(&b[..end]);
                    self.tail = tail;
                    self.full.truncate(block);
                } else {
                    self.tail.truncate(end);
                }
            }
        }
    }
}

/// A table index as the entries hold it (tables never reach 2^32 rows:
/// that would take more memory than the machines have).
fn idx(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 rows")
}

/// The row of `key` in `table`, made with `value` the first time.
fn intern<K: std::hash::Hash + Eq, V>(
    ids: &mut FxHashMap<K, u32>,
    table: &mut Vec<V>,
    key: K,
    value: impl FnOnce() -> V,
) -> u32 {
    *ids.entry(key).or_insert_with(|| {
        table.push(value());
        idx(table.len() - 1)
    })
}

/// A datagram that crossed a NAT or reached a host, as the world files it:
/// the NAT's or host's row in the table of names (see [`Trace::name_row`]).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Passed {
    Translated { nat: u32 },
    Delivered { node: u32 },
}

impl Trace {
    /// The row of `name` in the table of names, made the first time: the
    /// world keeps the rows of its hosts, links and NATs, so filing a
    /// datagram looks none of them up (see `world::record`).
    pub(crate) fn name_row(&mut self, name: &Name) -> u32 {
        intern(&mut self.name_ids, &mut self.names, name.identity(), || {
            name.clone()
        })
    }

    /// The row of a (node, link) pair that datagrams are sent on.
    pub(crate) fn sender_row(&mut self, node: u32, link: u32) -> u32 {
        let pair = (node, link);
        intern(&mut self.sender_ids, &mut self.senders, pair, || pair)
    }

    /// Files a datagram sent on sender row `sender`: what [`Trace::push`]
    /// makes of a `Sent` event with a packet number below 2^32, its names
    /// already filed.
    pub(crate) fn push_sent(
        &mut self,
        time: Time,
        packet: u32,
        sender: u32,
        (src, dst): (Addr, Addr),
        payload: &[u8],
        protocol: IpProtocol,
    ) {
        let mut e = Entry::at(time, Tag::Sent);
        e.packet = packet;
        e.who = sender;
        e.src = self.addr(src);
        e.dst = self.addr(dst);
        e.index = self.payload(payload);
        e.esp = protocol == IpProtocol::Esp;
        self.entries.push(e);
    }

    /// Files a datagram that crossed a NAT or reached a host (see
    /// [`Trace::push_sent`]).
    pub(crate) fn push_passed(
        &mut self,
        time: Time,
        packet: u32,
        passed: Passed,
        (src, dst): (Addr, Addr),
    ) {
        let (tag, who) = match passed {
            Passed::Translated { nat } => (Tag::Translated, nat),
            Passed::Delivered { node } => (Tag::Delivered, node),
        };
        let mut e = Entry::at(time, tag);
        e.packet = packet;
        e.who = who;
        e.src = self.addr(src);
        e.dst = self.addr(dst);
        self.entries.push(e);
    }

    /// Files a protocol event of the node at name row `node`.
    pub(crate) fn push_event(&mut self, time: Time, node: u32, event: Arc<Event>) {
        let mut e = Entry::at(time, Tag::Protocol);
        e.who = node;
        e.index = idx(self.events.len());
        self.events.push(event);
        self.entries.push(e);
    }

    /// Records what happened at `time` (never earlier than the last event).
    pub fn push(&mut self, time: Time, kind: TraceKind) {
        let packet = match &kind {
            TraceKind::Sent { packet, .. }
            | TraceKind::Translated { packet, .. }
            | TraceKind::Delivered { packet, .. } => u32::try_from(*packet).ok(),
            _ => None,
        };
        match (kind, packet) {
            (
                TraceKind::Sent {
                    node,
                    link,
                    src,
                    dst,
                    payload,
                    protocol,
                    ..
                },
                Some(p),
            ) => {
                let (node, link) = (self.name_row(&node), self.name_row(&link));
                let sender = self.sender_row(node, link);
                self.push_sent(time, p, sender, (src, dst), &payload, protocol);
            }
            (TraceKind::Translated { nat, src, dst, .. }, Some(p)) => {
                let nat = self.name_row(&nat);
                self.push_passed(time, p, Passed::Translated { nat }, (src, dst));
            }
            (TraceKind::Delivered { node, src, dst, .. }, Some(p)) => {
                let node = self.name_row(&node);
                self.push_passed(time, p, Passed::Delivered { node }, (src, dst));
            }
            (TraceKind::Protocol { node, event }, _) => {
                let node = self.name_row(&node);
                self.push_event(time, node, event);
            }
            (kind, _) => {
                let mut e = Entry::at(time, Tag::Other);
                e.index = idx(self.others.len());
                self.others.push(kind);
                self.entries.push(e);
            }
        }
    }

    fn addr(&mut self, a: Addr) -> u32 {
        // Looked up first: a miss only clones the address.
        if let Some(&i) = self.addr_ids.get(&a) {
            return i;
        }
        intern(&mut self.addr_ids, &mut self.addrs, a.clone(), || a)
    }

    fn payload(&mut self, b: &[u8]) -> u32 {
        if b.len() > 1 {
            self.payloads.push(self.bytes.push(b));
            return idx(self.payloads.len() - 1);
        }
        let key = b.first().map_or(256, |&o| u16::from(o));
        let (payloads, bytes) = (&mut self.payloads, &mut self.bytes);
        *self.shared_payloads.entry(key).or_insert_with(|| {
            payloads.push(bytes.push(b));
            idx(payloads.len() - 1)
        })
    }

    /// The bytes of payload row `i`.
    fn payload_bytes(&self, i: u32) -> &[u8] {
        self.bytes.get(self.payloads[i as usize])
    }

    fn decode(&self, e: &Entry) -> TraceEvent {
        let time = e.time();
        let name = |i: u32| self.names[i as usize].clone();
        let addr = |i: u32| self.addrs[i as usize].clone();
        let kind = match e.tag {
            Tag::Sent => TraceKind::Sent {
                packet: e.packet.into(),
                node: name(self.senders[e.who as usize].0),
                link: name(self.senders[e.who as usize].1),
                src: addr(e.src),
                dst: addr(e.dst),
                payload: Bytes::from(self.payload_bytes(e.index).to_vec()),
                protocol: if e.esp {
                    IpProtocol::Esp
                } else {
                    IpProtocol::Udp
                },
            },
            Tag::Translated => TraceKind::Translated {
                packet: e.packet.into(),
                nat: name(e.who),
                src: addr(e.src),
                dst: addr(e.dst),
            },
            Tag::Delivered => TraceKind::Delivered {
                packet: e.packet.into(),
                node: name(e.who),
                src: addr(e.src),
                dst: addr(e.dst),
            },
            Tag::Protocol => TraceKind::Protocol {
                node: name(e.who),
                event: self.events[e.index as usize].clone(),
            },
            Tag::Other => self.others[e.index as usize].clone(),
        };
        TraceEvent { time, kind }
    }

    /// The event at index `i`.
    pub fn get(&self, i: usize) -> Option<TraceEvent> {
        self.entries.get(i).map(|e| self.decode(e))
    }

    /// The time of the last event.
    pub fn last_time(&self) -> Option<Time> {
        self.entries.last().map(Entry::time)
    }

    /// Every event, in order.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0..self.len())
    }

    /// The events from index `start` on (none past the end).
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        self.range(start.min(self.len())..self.len())
    }

    /// The events before index `end`.
    pub fn iter_to(&self, end: usize) -> Iter<'_> {
        self.range(0..end.min(self.len()))
    }

    fn range(&self, at: std::ops::Range<usize>) -> Iter<'_> {
        Iter { trace: self, at }
    }

    /// Cuts the trace back to its first `len` events (a copy of the world
    /// from that moment carries on from there).
    pub fn truncate(&mut self, len: usize) {
        if len >= self.entries.len() {
            return;
        }
        self.entries.truncate(len);
        // The tables grow in the order of the entries, so each keeps the
        // rows up to the highest one a kept entry names. A shared payload
        // named after the last payload of its own can be higher than it:
        // its first use lies after that one, among the entries scanned.
        let (mut payloads, mut events, mut others) = (None::<usize>, None, None);
        let mut shared_max = 0;
        for e in self.entries.iter().rev() {
            let row = e.index as usize + 1;
            match e.tag {
                Tag::Sent if payloads.is_none() => {
                    if self.payloads[e.index as usize].len > 1 {
                        payloads = Some(row.max(shared_max));
                    } else {
                        shared_max = shared_max.max(row);
                    }
                }
                Tag::Protocol if events.is_none() => events = Some(row),
                Tag::Other if others.is_none() => others = Some(row),
                _ => {}
            }
            if payloads.is_some() && events.is_some() && others.is_some() {
                break;
            }
        }
        let payloads = payloads.unwrap_or(shared_max);
        self.payloads.truncate(payloads);
        self.shared_payloads.retain(|_, i| (*i as usize) < payloads);
        self.bytes.truncate(self.payloads.last().copied());
        self.events.truncate(events.unwrap_or(0));
        self.others.truncate(others.unwrap_or(0));
    }

    /// Where packet `id` was sent: the index of its `Sent` event.
    pub fn sent_index(&self, id: PacketId) -> Option<usize> {
        self.entries.iter().position(|e| match e.tag {
            Tag::Sent => PacketId::from(e.packet) == id,
            Tag::Other => matches!(
                &self.others[e.index as usize],
                TraceKind::Sent { packet, .. } if *packet == id
            ),
            _ => false,
        })
    }

    /// The datagram a packet carried when it was sent.
    pub fn sent_payload(&self, id: PacketId) -> Option<&[u8]> {
        self.entries.iter().find_map(|e| match e.tag {
            Tag::Sent if PacketId::from(e.packet) == id => Some(self.payload_bytes(e.index)),
            Tag::Other => match &self.others[e.index as usize] {
                TraceKind::Sent {
                    packet, payload, ..
                } if *packet == id => Some(payload.as_slice()),
                _ => None,
            },
            _ => None,
        })
    }

    /// The keys logged for an IKE SA (by its initiator SPI).
    pub fn ike_keys(&self, spi_i: u64) -> Option<&mobike_wire::crypto::IkeKeys> {
        self.events.iter().find_map(|e| match &**e {
            Event::KeysDerived { spi_i: s, keys, .. } if *s == spi_i => Some(&**keys),
            _ => None,
        })
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Nothing has happened yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The events of a trace (or of part of one), decoded in turn.
#[derive(Clone)]
pub struct Iter<'a> {
    trace: &'a Trace,
    at: std::ops::Range<usize>,
}

impl Iterator for Iter<'_> {
    type Item = TraceEvent;
    fn next(&mut self) -> Option<TraceEvent> {
        let i = self.at.next()?;
        Some(self.trace.decode(&self.trace.entries[i]))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.at.size_hint()
    }
    fn nth(&mut self, n: usize) -> Option<TraceEvent> {
        let i = self.at.nth(n)?;
        Some(self.trace.decode(&self.trace.entries[i]))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<TraceEvent> {
        let i = self.at.next_back()?;
        Some(self.trace.decode(&self.trace.entries[i]))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Trace {
    type Item = TraceEvent;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl PartialEq for Trace {
    fn eq(&self, o: &Trace) -> bool {
        self.len() == o.len() && self.iter().eq(o.iter())
    }
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// As `{"events": [...]}`, each event decoded.
impl Serialize for Trace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Events<'a>(&'a Trace);
        impl Serialize for Events<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter())
            }
        }
        let mut st = s.serialize_struct("Trace", 1)?;
        st.serialize_field("events", &Events(self))?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long run records millions of entries: each is sized by the largest
    /// kind, a sent datagram (see `shared`).
    #[test]
    fn an_entry_stays_small() {
        assert!(
            std::mem::size_of::<TraceEvent>() <= 88,
            "{} bytes",
            std::mem::size_of::<TraceEvent>()
        );
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }

    fn addr(a: &str) -> Addr {
        a.parse::<std::net::SocketAddr>().unwrap().into()
    }

    fn sent(packet: PacketId, payload: &Bytes) -> TraceKind {
        TraceKind::Sent {
            packet,
            node: Name::from("laptop"),
            link: Name::from("wifi"),
            src: addr("192.0.2.10:4500"),
            dst: addr("[2001:db8::1]:4500"),
            payload: payload.clone(),
            protocol: IpProtocol::Udp,
        }
    }

    /// Every kind the compact form treats apart: a sent datagram (with its
    /// own payload, the shared keepalive octet, and a packet number past
    /// 32 bits), a delivery, a protocol event and a rare kind.
    fn grow(t: &mut Trace, from: u64, keepalive: &Bytes) {
        let own = Bytes::from(vec![from as u8; 40]);
        t.push(from, sent(from, &own));
        t.push(from + 1, sent(from + 1, keepalive));
        t.push(from + 2, sent(u64::from(u32::MAX) + from, &own));
        t.push(
            from + 3,
            TraceKind::Delivered {
                packet: from,
                node: Name::from("gateway"),
                src: addr("192.0.2.10:4500"),
                dst: addr("198.51.100.1:4500"),
            },
        );
        t.push(
            from + 4,
            TraceKind::Protocol {
                node: Name::from("gateway"),
                event: Arc::new(Event::RequestDone {
                    spi_i: from,
                    mid: 1,
                }),
            },
        );
        t.push(
            from + 5,
            TraceKind::Intervention {
                text: format!("step {from}"),
                by_user: true,
            },
        );
    }

    /// What is pushed reads back the same; a trace cut back and grown again
    /// equals one grown the same way without the cut, and the cut frees the
    /// rows of its tables that no kept entry names.
    #[test]
    fn entries_read_back_and_a_cut_trace_grows_again_alike() {
        let keepalive = Bytes::from(vec![0xff]);
        let mut straight = Trace::default();
        let mut cut = Trace::default();
        for from in [10, 20, 30] {
            grow(&mut straight, from, &keepalive);
            grow(&mut cut, from, &keepalive);
        }
        let first = straight.get(0).unwrap();
        assert_eq!(
            first,
            TraceEvent {
                time: 10,
                kind: sent(10, &Bytes::from(vec![10; 40]))
            }
        );
        assert_eq!(
            straight.get(2).unwrap().kind,
            sent(u64::from(u32::MAX) + 10, &Bytes::from(vec![10; 40]))
        );
        assert_eq!(straight.sent_payload(21), Some(&[0xff][..]));
        assert_eq!(straight.sent_index(u64::from(u32::MAX) + 20), Some(8));
        assert_eq!(straight.last_time(), Some(35));
        // Cut inside the second batch, right after its keepalive.
        cut.truncate(8);
        assert_eq!(cut.len(), 8);
        assert_eq!(cut.payloads.len(), 3, "own 10, the keepalive, own 20");
        assert_eq!(cut.events.len(), 1);
        assert_eq!(cut.others.len(), 2, "the intervention and packet 2^32+10");
        for e in straight.iter_from(8) {
            cut.push(e.time, e.kind);
        }
        assert_eq!(cut, straight);
        assert_eq!(
            serde_json::to_string(&cut).unwrap(),
            serde_json::to_string(&straight).unwrap()
        );
        cut.truncate(1);
        assert_eq!(cut.payloads.len(), 1);
        assert!(cut.shared_payloads.is_empty());
        assert_eq!(cut.iter().rev().count(), 1);
    }

    /// A block of payload octets filled is kept where it was written, not
    /// copied.
    #[test]
    fn a_full_block_of_bytes_stays_where_it_was_filled() {
        let mut store = ByteStore::default();
        store.push(&[1; 1000]);
        let at = store.tail.as_ptr();
        while store.full.is_empty() {
            store.push(&[2; 1000]);
        }
        assert_eq!(store.full[0].as_ptr(), at);
    }

    /// A clone shares what is full (entries, payload bytes) and goes its
    /// own way: cut back across a chunk and a megabyte block of bytes and
    /// grown otherwise, it leaves the original as it was, and reads as a
    /// trace grown that way from the start (a jump back keeps the run it
    /// cuts off so).
    #[test]
    fn a_cut_clone_leaves_its_original_whole() {
        let keepalive = Bytes::from(vec![0xff]);
        let payload = |i: u64| Bytes::from(vec![i as u8; 700 + (i % 5) as usize]);
        let mut original = Trace::default();
        for i in 0..20_000u64 {
            let p = if i % 3 == 0 {
                keepalive.clone()
            } else {
                payload(i)
            };
            original.push(i, sent(i, &p));
        }
        assert!(original.bytes.full.len() >= 8, "payloads over many blocks");
        let before: Vec<TraceEvent> = original.iter().collect();
        let mut clone = original.clone();
        clone.truncate(9_001);
        let mut straight = Trace::default();
        for e in &before[..9_001] {
            straight.push(e.time, e.kind.clone());
        }
        for i in 9_001..18_000u64 {
            let p = Bytes::from(vec![0x5a; 300]);
            clone.push(i, sent(i, &p));
            straight.push(i, sent(i, &p));
        }
        assert_eq!(clone, straight);
        assert!(original.iter().eq(before.iter().cloned()));
        assert_eq!(original.len(), 20_000);
    }
}
