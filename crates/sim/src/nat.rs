//! NAT boxes with the behaviours of RFC 4787 (reference §7): mapping
//! (§4.1), port assignment (§4.2.1), mapping timer and refresh (§4.3),
//! filtering (§5) and hairpinning (§6), plus the two things that happen to
//! real NATs in the middle of a MOBIKE session: a reboot (every mapping lost)
//! and a new public address.
//!
//! A [`NatBox`] is plain data with pure methods taking the time as an
//! argument; the world calls it and records what it did in the trace.

pub use crate::vocab::nat::{
    DEFAULT_TIMEOUT, Filtering, MappingBehaviour, NatBehaviour, NatPreset, RFC4787_MIN_TIMEOUT,
};
use crate::vocab::reason::{MappingGone, NatRefusal};
use mobike_protocol::Time;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// One translation entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatMapping {
    /// Unique within the box, so a queued expiry check finds its mapping.
    pub id: u64,
    pub internal: SocketAddr,
    /// The destination the mapping was made for (ADM: its address counts,
    /// APDM: address and port); `None` under EIM.
    pub remote: Option<SocketAddr>,
    pub external_port: u16,
    /// Outside endpoints the inside has sent to through this mapping.
    pub sent_to: SentTo,
    pub expires: Time,
}

/// The outside endpoints an inside one has sent to through a mapping, in
/// the order it first did: the first held in the mapping itself (nearly
/// every mapping has only one, and a packet reads it without a look
/// elsewhere), the others after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentTo {
    first: SocketAddr,
    more: Vec<SocketAddr>,
}

impl SentTo {
    pub fn new(first: SocketAddr) -> SentTo {
        SentTo {
            first,
            more: Vec::new(),
        }
    }

    pub fn contains(&self, e: &SocketAddr) -> bool {
        self.first == *e || self.more.contains(e)
    }

    /// Notes `e` unless it is there already.
    pub fn add(&mut self, e: SocketAddr) {
        if !self.contains(&e) {
            self.more.push(e);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &SocketAddr> {
        std::iter::once(&self.first).chain(&self.more)
    }
}

/// The mappings, each in a slot of its own that the look-ups by port and
/// by key name (a packet finds its mapping with one hash look-up and one
/// read), and by id: the order they were made, which the panel lists.
#[derive(Clone, Debug, Default)]
struct Table {
    slots: Vec<Option<NatMapping>>,
    /// Slots emptied, for the next mappings.
    free: Vec<u32>,
    by_id: BTreeMap<u64, u32>,
}

impl Table {
    fn insert(&mut self, m: NatMapping) -> u32 {
        let id = m.id;
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(m);
                s
            }
            None => {
                self.slots.push(Some(m));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 mappings")
            }
        };
        self.by_id.insert(id, slot);
        slot
    }

    fn get(&self, slot: u32) -> &NatMapping {
        self.slots[slot as usize].as_ref().expect("a filed slot")
    }

    fn get_mut(&mut self, slot: u32) -> &mut NatMapping {
        self.slots[slot as usize].as_mut().expect("a filed slot")
    }

    fn by_id(&self, id: u64) -> Option<&NatMapping> {
        self.by_id.get(&id).map(|&s| self.get(s))
    }

    fn remove(&mut self, id: u64) -> Option<NatMapping> {
        let slot = self.by_id.remove(&id)?;
        self.free.push(slot);
        self.slots[slot as usize].take()
    }

    /// In the order they were made.
    fn values(&self) -> impl Iterator<Item = &NatMapping> {
        self.by_id.values().map(|&s| self.get(s))
    }

    fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Takes every mapping out, in the order they were made.
    fn take_all(&mut self) -> Vec<NatMapping> {
        let ids = std::mem::take(&mut self.by_id);
        let all = ids
            .into_values()
            .filter_map(|s| self.slots[s as usize].take())
            .collect();
        self.slots.clear();
        self.free.clear();
        all
    }
}

/// Who may send in through a mapping, as the NAT panel shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permit {
    /// Any outside endpoint (endpoint-independent filtering).
    Anyone,
    /// Any port of this address (address-dependent filtering).
    Address(IpAddr),
    /// This address and port only.
    Endpoint(SocketAddr),
}

impl fmt::Display for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Permit::Anyone => f.write_str("anyone"),
            Permit::Address(a) => write!(f, "{a}"),
            Permit::Endpoint(e) => write!(f, "{e}"),
        }
    }
}

/// What an outbound packet did to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outbound {
    /// The packet's new source.
    pub src: SocketAddr,
    /// Set when the packet made a new mapping: its id and expiry.
    pub created: Option<(u64, Time)>,
}

/// What identifies a mapping for an outbound packet: the inside endpoint
/// and, by the mapping behaviour (RFC 4787 §4.1), nothing (EIM), the
/// destination address (ADM) or the destination address and port (APDM).
type MappingKey = (SocketAddr, Option<SocketAddr>);

/// A port forward ("virtual server" of a home router): every packet to the
/// outside `port` goes in to `to`, whoever sends it, and `to`'s packets
/// leave from that port. Configuration, not state: a reboot or a new
/// configuration keeps it, and it never expires. RFC 4787 leaves static
/// mappings out of scope; every home router offers them, and they are how a
/// gateway behind a NAT is reached at all.
///
/// Written as a router's page shows it, `"4500->192.168.1.10:4500"` (the
/// outside port, then the inside endpoint; spaces around the arrow allowed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PortForward {
    pub port: u16,
    pub to: SocketAddr,
}

impl TryFrom<String> for PortForward {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let bad = || {
            format!(
                "port forward {s:?}: write PORT->ADDRESS:PORT, e.g. \"4500->192.168.1.10:4500\""
            )
        };
        let (port, to) = s.split_once("->").ok_or_else(bad)?;
        Ok(PortForward {
            port: port.trim().parse().map_err(|_| bad())?,
            to: to.trim().parse().map_err(|_| bad())?,
        })
    }
}

impl From<PortForward> for String {
    fn from(f: PortForward) -> String {
        format!("{}->{}", f.port, f.to)
    }
}

/// A NAT box's state.
///
/// The table is indexed four ways, so a packet costs a few lookups
/// whatever the number of mappings (a carrier-grade NAT holds thousands):
/// by id (creation order, what the panel lists), by outside port (inbound
/// packets), by `MappingKey` (outbound packets) and by expiry time. The
/// two that packets look up are hash maps that name the mapping's slot
/// (FxHash: no seed, and neither is ever iterated, so nothing depends on
/// their order); the others are ordered.
#[derive(Clone, Debug)]
pub struct NatBox {
    pub behaviour: NatBehaviour,
    /// The outside address (changes with `nat_address_change`).
    pub public: IpAddr,
    /// The link it sits on, by index.
    pub link: Option<usize>,
    /// Static forwards; their ports are never handed out to mappings.
    pub forwards: Vec<PortForward>,
    mappings: Table,
    /// Slots of `mappings`.
    by_port: FxHashMap<u16, u32>,
    by_key: FxHashMap<MappingKey, u32>,
    /// (time, id): when to look at mapping `id` again, soonest first. Each
    /// live mapping has an entry no later than its expiry; a refresh that
    /// only extends the timer leaves the entry where it is, and `expire`
    /// moves it on when it comes due (a packet's refresh costs no tree
    /// update).
    expiries: BTreeSet<(Time, u64)>,
    next_id: u64,
    /// The allocator's cursor in `port_range` (no port preservation).
    next_port: u16,
    /// Ports mapped before a reboot: never handed out again, so every
    /// mapping made after a reboot has a new outside port (the reference's
    /// §7.2: "change port allocator base").
    retired: BTreeSet<u16>,
    /// Why the last mapping on a port went away, for drop reasons.
    gone: BTreeMap<u16, MappingGone>,
}

impl NatBox {
    /// A NAT with no mappings yet, on link number `link` (or none).
    pub fn new(behaviour: NatBehaviour, public: IpAddr, link: Option<usize>) -> NatBox {
        NatBox {
            behaviour,
            public,
            link,
            forwards: Vec::new(),
            mappings: Table::default(),
            by_port: FxHashMap::default(),
            by_key: FxHashMap::default(),
            expiries: BTreeSet::new(),
            next_id: 0,
            next_port: behaviour.port_range.0,
            retired: BTreeSet::new(),
            gone: BTreeMap::new(),
        }
    }

    /// The live mappings in the order they were made (expired ones are
    /// removed by [`NatBox::expire`]).
    pub fn mappings(&self) -> Vec<&NatMapping> {
        self.mappings.values().collect()
    }

    /// How many mappings the table holds.
    pub fn len(&self) -> usize {
        self.mappings.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.mappings.len() == 0
    }

    fn key(&self, src: SocketAddr, dst: SocketAddr) -> MappingKey {
        let remote = match self.behaviour.mapping {
            MappingBehaviour::EndpointIndependent => None,
            MappingBehaviour::AddressDependent => Some(SocketAddr::new(dst.ip(), 0)),
            MappingBehaviour::AddressAndPortDependent => Some(dst),
        };
        (src, remote)
    }

    fn key_of(&self, m: &NatMapping) -> MappingKey {
        match m.remote {
            Some(r) => self.key(m.internal, r),
            None => (m.internal, None),
        }
    }

    /// Takes every mapping out of the table, in the order they were made.
    fn take_all(&mut self) -> Vec<NatMapping> {
        self.by_port.clear();
        self.by_key.clear();
        self.expiries.clear();
        self.mappings.take_all()
    }

    /// Who may send in through `m`.
    pub fn permits(&self, m: &NatMapping) -> Vec<Permit> {
        let mut out: Vec<Permit> = Vec::new();
        for e in m.sent_to.iter() {
            let p = match self.behaviour.filtering {
                Filtering::EndpointIndependent => Permit::Anyone,
                Filtering::AddressDependent => Permit::Address(e.ip()),
                Filtering::AddressAndPortDependent => Permit::Endpoint(*e),
            };
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    /// Removes every mapping whose timer ran out by `now`, returning them
    /// in the order they were made.
    pub fn expire(&mut self, now: Time) -> Vec<NatMapping> {
        let mut ids = Vec::new();
        while let Some(&(t, id)) = self.expiries.first()
            && t <= now
        {
            self.expiries.pop_first();
            match self.mappings.by_id(id) {
                // Gone already (a stale entry of an expired mapping).
                None => {}
                // Refreshed since: look again when the new timer runs out.
                Some(m) if m.expires > now => {
                    self.expiries.insert((m.expires, id));
                }
                Some(_) => ids.push(id),
            }
        }
        if ids.is_empty() {
            return Vec::new();
        }
        ids.sort_unstable();
        ids.dedup();
        let mut gone = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(m) = self.mappings.remove(id) {
                self.by_port.remove(&m.external_port);
                let key = self.key_of(&m);
                self.by_key.remove(&key);
                gone.push(m);
            }
        }
        for m in &gone {
            let why = MappingGone::Expired {
                internal: m.internal,
                at: m.expires,
            };
            self.note_gone(m.external_port, why);
        }
        gone
    }

    /// When mapping `id` expires, if it still exists.
    pub fn expiry_of(&self, id: u64) -> Option<Time> {
        self.mappings.by_id(id).map(|m| m.expires)
    }

    fn note_gone(&mut self, port: u16, why: MappingGone) {
        self.gone.insert(port, why);
    }

    fn port_free(&self, p: u16) -> bool {
        !self.by_port.contains_key(&p)
            && !self.retired.contains(&p)
            && !self.forwards.iter().any(|f| f.port == p)
    }

    /// Moves the timer of the mapping in `slot` to `expires`.
    fn refresh(&mut self, slot: u32, expires: Time) {
        let m = self.mappings.get_mut(slot);
        if expires < m.expires {
            // Sooner than before (a shorter timer): the entry must come
            // no later than the expiry.
            self.expiries.insert((expires, m.id));
        }
        m.expires = expires;
    }

    /// RFC 4787 §4.2.1: preserve the port where free, else another one;
    /// never a port bound to a different inside endpoint (REQ-3, no
    /// overloading). Deterministic: the first free port in a fixed order.
    fn allocate(&mut self, inside_port: u16) -> Option<u16> {
        if self.behaviour.port_preservation {
            let mut port = inside_port;
            for _ in 0..=u16::MAX {
                if port != 0 && self.port_free(port) {
                    return Some(port);
                }
                port = if port == u16::MAX { 1024 } else { port + 1 };
            }
            return None;
        }
        let (lo, hi) = self.behaviour.port_range;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        let mut port = self.next_port.clamp(lo, hi.max(lo));
        for _ in 0..span {
            let next = if port >= hi { lo } else { port + 1 };
            if port != 0 && self.port_free(port) {
                self.next_port = next;
                return Some(port);
            }
            port = next;
        }
        None
    }

    /// An inside packet `src -> dst` leaves: find or make its mapping
    /// (REQ-1 / §4.1 by the mapping behaviour), note the destination for the
    /// filter and refresh the timer (REQ-6). Err: no port is free.
    pub fn outbound(
        &mut self,
        now: Time,
        src: SocketAddr,
        dst: SocketAddr,
    ) -> Result<Outbound, NatRefusal> {
        self.expire(now);
        if let Some(f) = self.forwards.iter().find(|f| f.to == src) {
            // The forward's inside endpoint answers from its outside port.
            return Ok(Outbound {
                src: SocketAddr::new(self.public, f.port),
                created: None,
            });
        }
        let timeout = self.behaviour.timeout;
        let key = self.key(src, dst);
        if let Some(&slot) = self.by_key.get(&key) {
            self.refresh(slot, now + timeout);
            let m = self.mappings.get_mut(slot);
            m.sent_to.add(dst);
            return Ok(Outbound {
                src: SocketAddr::new(self.public, m.external_port),
                created: None,
            });
        }
        let port = self.allocate(src.port()).ok_or({
            let (first, last) = self.behaviour.port_range;
            NatRefusal::NoFreePort { first, last }
        })?;
        self.next_id += 1;
        let id = self.next_id;
        self.expiries.insert((now + timeout, id));
        let slot = self.mappings.insert(NatMapping {
            id,
            internal: src,
            remote: match self.behaviour.mapping {
                MappingBehaviour::EndpointIndependent => None,
                _ => Some(dst),
            },
            external_port: port,
            sent_to: SentTo::new(dst),
            expires: now + timeout,
        });
        self.by_port.insert(port, slot);
        self.by_key.insert(key, slot);
        Ok(Outbound {
            src: SocketAddr::new(self.public, port),
            created: Some((id, now + timeout)),
        })
    }

    /// An outside packet `src -> dst` (dst = our public address) arrives:
    /// find the mapping of its port and apply the filter (§5). Passing
    /// packets refresh the timer when inbound refresh is on (REQ-6a).
    /// Err: why it was dropped.
    pub fn inbound(
        &mut self,
        now: Time,
        src: SocketAddr,
        dst: SocketAddr,
    ) -> Result<SocketAddr, NatRefusal> {
        self.expire(now);
        if let Some(f) = self.forwards.iter().find(|f| f.port == dst.port()) {
            // Forwarded: no filter (the port is open to anyone).
            return Ok(f.to);
        }
        let filtering = self.behaviour.filtering;
        let Some(&slot) = self.by_port.get(&dst.port()) else {
            return Err(NatRefusal::NoMapping {
                port: dst.port(),
                gone: self.gone.get(&dst.port()).copied(),
            });
        };
        let m = self.mappings.get(slot);
        let allowed = match filtering {
            Filtering::EndpointIndependent => true,
            Filtering::AddressDependent => m.sent_to.iter().any(|e| e.ip() == src.ip()),
            Filtering::AddressAndPortDependent => m.sent_to.contains(&src),
        };
        if !allowed {
            return Err(match filtering {
                Filtering::AddressDependent => NatRefusal::NotSentToAddress { from: src.ip() },
                _ => NatRefusal::NotSentToEndpoint { from: src },
            });
        }
        let internal = m.internal;
        if self.behaviour.inbound_refresh {
            self.refresh(slot, now + self.behaviour.timeout);
        }
        Ok(internal)
    }

    /// Power cycle: every mapping is lost, and the ports they used are not
    /// handed out again. Returns the lost mappings.
    pub fn reboot(&mut self, now: Time) -> Vec<NatMapping> {
        let lost = self.take_all();
        for m in &lost {
            self.retired.insert(m.external_port);
            let why = MappingGone::Rebooted {
                internal: m.internal,
                at: now,
            };
            self.note_gone(m.external_port, why);
        }
        lost
    }

    /// Configured anew with `behaviour`: like a reboot, every mapping is
    /// flushed and its port not handed out again. Returns the flushed ones.
    pub fn reconfigure(&mut self, now: Time, behaviour: NatBehaviour) -> Vec<NatMapping> {
        let lost = self.take_all();
        self.behaviour = behaviour;
        for m in &lost {
            self.retired.insert(m.external_port);
            let why = MappingGone::Reconfigured {
                internal: m.internal,
                at: now,
            };
            self.note_gone(m.external_port, why);
        }
        lost
    }

    /// Taken out of a path or moved: forgets its mappings (no reasons kept;
    /// nothing can reach it there).
    pub fn clear(&mut self) {
        self.take_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn nat(b: NatBehaviour) -> NatBox {
        NatBox::new(b, "198.51.100.1".parse().unwrap(), Some(0))
    }

    /// A mapping that expires frees its slot, and the next mapping takes
    /// it: packets through either port find their own mapping, the panel
    /// lists the mappings in the order they were made, and the first
    /// outside endpoint and the ones after it are all let in.
    #[test]
    fn a_freed_slot_serves_a_new_mapping_and_the_list_keeps_its_order() {
        let mut n = nat(NatBehaviour {
            filtering: Filtering::AddressAndPortDependent,
            timeout: 100,
            ..Default::default()
        });
        let (a, b) = (ep("10.0.0.2:4500"), ep("10.0.0.3:4500"));
        let (gw, other) = (ep("203.0.113.1:4500"), ep("203.0.113.9:500"));
        n.outbound(0, a, gw).unwrap();
        let pb = n.outbound(50, b, gw).unwrap().src;
        // a's mapping runs out at 100; b's, refreshed, lives on.
        n.outbound(90, b, other).unwrap();
        let c = ep("10.0.0.4:4500");
        let pc = n.outbound(120, c, gw).unwrap().src;
        assert_eq!(n.len(), 2);
        let listed: Vec<_> = n.mappings().iter().map(|m| (m.id, m.internal)).collect();
        assert_eq!(listed, [(2, b), (3, c)], "in the order they were made");
        assert_eq!(
            n.inbound(130, gw, pc),
            Ok(c),
            "the new mapping in the freed slot"
        );
        assert_eq!(n.inbound(130, gw, pb), Ok(b));
        assert_eq!(
            n.inbound(130, other, pb),
            Ok(b),
            "the second outside endpoint"
        );
        assert!(n.inbound(130, other, pc).is_err(), "c never sent to it");
        let sent: Vec<_> = n.mappings()[0].sent_to.iter().copied().collect();
        assert_eq!(sent, [gw, other]);
        assert_eq!(n.expiry_of(1), None);
        assert_eq!(n.expiry_of(3), Some(220));
    }

    #[test]
    fn allocator_without_preservation_walks_its_range_and_skips_used_ports() {
        let mut n = nat(NatBehaviour {
            port_preservation: false,
            mapping: MappingBehaviour::AddressAndPortDependent,
            port_range: (5000, 5002),
            ..Default::default()
        });
        let x = ep("10.0.0.2:4500");
        let ports: Vec<_> = ["203.0.113.1:1", "203.0.113.1:2", "203.0.113.1:3"]
            .iter()
            .map(|d| n.outbound(0, x, ep(d)).unwrap().src.port())
            .collect();
        assert_eq!(ports, [5000, 5001, 5002]);
        assert!(n.outbound(0, x, ep("203.0.113.1:4")).is_err(), "range full");
    }
}
