//! The append-only record of a run: every packet sent, translated, delivered
//! or dropped (with the reason), every protocol event and every change of the
//! network. Views (charts, panels, exports) are derived from it.

pub use crate::shared::{Addr, Bytes, Name};
use crate::vocab::direction::Direction;
use crate::vocab::reason::DropReason;
use mobike_protocol::{Event, IpProtocol, Time};
use serde::Serialize;
use std::net::IpAddr;

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
        /// Boxed, as are the protocol's events: rare beside the packets
        /// sent and delivered, they would set every entry's size.
        reason: Box<DropReason>,
    },
    /// What a host's IKE daemon reported.
    Protocol { node: Name, event: Box<Event> },
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

/// The trace of one run: appended to as things happen, never changed. Its
/// two look-ups serve the views (a message's bytes, and the keys that open
/// them in the byte view and the pcap export).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Trace {
    pub events: Vec<TraceEvent>,
}

impl Trace {
    /// Records what happened at `time` (never earlier than the last event).
    pub fn push(&mut self, time: Time, kind: TraceKind) {
        self.events.push(TraceEvent { time, kind });
    }

    /// The datagram a packet carried when it was sent.
    pub fn sent_payload(&self, id: PacketId) -> Option<&[u8]> {
        self.events.iter().find_map(|e| match &e.kind {
            TraceKind::Sent {
                packet, payload, ..
            } if *packet == id => Some(payload.as_slice()),
            _ => None,
        })
    }

    /// The keys logged for an IKE SA (by its initiator SPI).
    pub fn ike_keys(&self, spi_i: u64) -> Option<&mobike_wire::crypto::IkeKeys> {
        self.events.iter().find_map(|e| match e.kind.protocol() {
            Some((_, Event::KeysDerived { spi_i: s, keys, .. })) if *s == spi_i => Some(&**keys),
            _ => None,
        })
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Nothing has happened yet.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
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
    }
}
