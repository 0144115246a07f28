//! The append-only record of a run: every packet sent, translated, delivered
//! or dropped (with the reason), every protocol event and every change of the
//! network. Views (charts, panels, exports) are derived from it.

use crate::vocab::direction::Direction;
use crate::vocab::reason::DropReason;
use mobike_protocol::{Event, IpProtocol, Time};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

/// A packet's number in the trace, unique within a run.
pub type PacketId = u64;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    pub time: Time,
    #[serde(flatten)]
    pub kind: TraceKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceKind {
    /// A host sent a UDP datagram (payload as on the wire, marker included).
    Sent {
        packet: PacketId,
        node: String,
        link: String,
        src: SocketAddr,
        dst: SocketAddr,
        payload: Vec<u8>,
        /// UDP, or plain ESP (ports 0).
        #[serde(default)]
        protocol: IpProtocol,
    },
    /// A NAT box rewrote a packet's addresses.
    Translated {
        packet: PacketId,
        nat: String,
        src: SocketAddr,
        dst: SocketAddr,
    },
    /// A packet reached a host.
    Delivered {
        packet: PacketId,
        node: String,
        src: SocketAddr,
        dst: SocketAddr,
    },
    /// A packet was lost, and why (serialised as the reason's sentence).
    Dropped {
        packet: PacketId,
        at: String,
        reason: DropReason,
    },
    /// What a host's IKE daemon reported.
    Protocol { node: String, event: Event },
    /// A link went up or down: both directions, or only `direction`.
    Link {
        link: String,
        up: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        direction: Option<Direction>,
    },
    /// A link delivered a second copy of `packet`, numbered `copy`.
    Duplicated {
        packet: PacketId,
        copy: PacketId,
        link: String,
    },
    /// An interface went up or down (announced to the IKE daemon).
    Interface {
        node: String,
        interface: String,
        up: bool,
    },
    /// A NAT box was put on a link or taken out of the path.
    NatPlaced { nat: String, link: Option<String> },
    /// A NAT created a mapping.
    NatMapping {
        nat: String,
        internal: SocketAddr,
        external: SocketAddr,
    },
    /// A NAT mapping's timer ran out (RFC 4787 §4.3): nothing more comes in
    /// through it; the inside's next packet makes a new one.
    NatMappingExpired {
        nat: String,
        internal: SocketAddr,
        external: SocketAddr,
    },
    /// A NAT rebooted and lost every mapping.
    NatRebooted { nat: String, mappings_lost: usize },
    /// A NAT's public address changed.
    NatAddress { nat: String, address: IpAddr },
    /// An interface gained or lost an address; `announced`: the OS told the
    /// IKE daemon.
    Address {
        node: String,
        interface: String,
        address: IpAddr,
        present: bool,
        announced: bool,
    },
    /// The ping generator (or a host answering) sent an ICMP echo through
    /// the tunnel; `carried` is false when no IPsec SA could take it.
    PingSent {
        node: String,
        seq: u16,
        reply: bool,
        carried: bool,
    },
    /// A ping came out of the tunnel at a host.
    PingReceived { node: String, seq: u16, reply: bool },
    /// Something the user or the timeline did, in words.
    Intervention { text: String, by_user: bool },
}

/// The trace of one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub events: Vec<TraceEvent>,
}

impl Trace {
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
        self.events.iter().find_map(|e| match &e.kind {
            TraceKind::Protocol {
                event: Event::KeysDerived { spi_i: s, keys, .. },
                ..
            } if *s == spi_i => Some(keys),
            _ => None,
        })
    }

    /// The IKE messages (without the non-ESP marker) of an IKE SA that
    /// were sent, oldest first, with their headers.
    fn ike_sent(&self, spi_i: u64) -> impl Iterator<Item = (mobike_wire::header::Header, &[u8])> {
        self.events.iter().filter_map(move |e| match &e.kind {
            TraceKind::Sent {
                payload, src, dst, ..
            } => match mobike_wire::udp::classify(payload, src.port(), dst.port()) {
                mobike_wire::udp::UdpPayload::Ike(b) => mobike_wire::header::Header::parse(b)
                    .ok()
                    .filter(|h| h.spi_i == spi_i)
                    .map(|h| (h, b)),
                _ => None,
            },
            _ => None,
        })
    }

    /// The newest UPDATE_SA_ADDRESSES request of an IKE SA, as captured
    /// (an attacker on the path can replay it).
    pub fn last_update_request(&self, spi_i: u64) -> Option<Vec<u8>> {
        let keys = self.ike_keys(spi_i)?;
        self.ike_sent(spi_i)
            .filter(|(h, _)| {
                h.flags.initiator()
                    && !h.flags.response()
                    && h.exchange == mobike_wire::registry::ExchangeType::INFORMATIONAL
            })
            .filter(|(_, b)| {
                mobike_wire::message::decrypt(b, &keys.sk_ei).is_ok_and(|p| {
                    mobike_wire::message::has_notify(
                        &p,
                        mobike_wire::registry::NotifyType::UPDATE_SA_ADDRESSES,
                    )
                })
            })
            .last()
            .map(|(_, b)| b.to_vec())
    }

    /// The message ID the initiator of an IKE SA would use next.
    pub fn next_initiator_mid(&self, spi_i: u64) -> u32 {
        self.ike_sent(spi_i)
            .filter(|(h, _)| h.flags.initiator() && !h.flags.response())
            .map(|(h, _)| h.message_id + 1)
            .max()
            .unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}
