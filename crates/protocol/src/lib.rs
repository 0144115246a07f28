//! Sans-IO IKEv2 endpoints with MOBIKE (RFC 4555), in the style of quinn-proto.
//!
//! An [`Endpoint`] owns the IKE SAs of one node. It never touches a socket, a
//! clock or an ambient random source: time comes in as an argument (virtual
//! microseconds) and randomness from a ChaCha20 generator seeded by the caller.
//!
//! Inputs are `handle_*` calls: a datagram with its addresses
//! ([`Endpoint::handle_datagram`]), a timer expiry ([`Endpoint::handle_timeout`]),
//! or a command ([`Endpoint::connect`], [`Endpoint::handle_local_addresses`]).
//!
//! **Poll order.** After every `handle_*` call drain, in this order,
//! [`Endpoint::poll_transmit`] (datagrams to send, with source and
//! destination), [`Endpoint::poll_event`] (what happened, for the trace and the
//! UI), then read [`Endpoint::poll_timeout`] (when to call `handle_timeout`
//! next). Transmits are queued in the order the protocol made them.
#![forbid(unsafe_code)]

pub mod duration;
mod endpoint;
pub mod reason;
mod sa;
mod settings;

pub use duration::Dur;
pub use endpoint::{Endpoint, Hint, HintKind};
pub use reason::{Cookie2Exchange, DeleteReason, LocalDelete, MoveReason, Note, Rejection, Rule};
pub use sa::{ChildSnapshot, OutstandingSnapshot, SaSnapshot, SaState};
pub use settings::{ListPolicy, MoveFallback, Retransmit, Settings, Subnet};

use mobike_wire::crypto::IkeKeys;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

/// An IKE SA's SPI (RFC 7296 §3.1), shown and serialised as 16 hex digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Spi(pub u64);

impl std::fmt::Display for Spi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for Spi {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Spi {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Spi, D::Error> {
        let text = String::deserialize(d)?;
        u64::from_str_radix(&text, 16)
            .map(Spi)
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not an SPI in hex")))
    }
}

/// Virtual time in microseconds.
pub type Time = u64;
/// One millisecond of [`Time`].
pub const MS: Time = 1_000;
/// One second of [`Time`].
pub const SEC: Time = 1_000_000;

/// The MOBIKE role (RFC 4555 §1.3): who initiated the IKE SA. It never
/// changes; the exchange role changes with each exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Initiator,
    Responder,
}

/// Who an endpoint is and what it shares with its peer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointConfig {
    pub role: Role,
    /// Our identity (ID type FQDN).
    pub id: String,
    /// The pre-shared key (AUTH method 2, RFC 7296 §2.15).
    pub psk: Vec<u8>,
    /// The identity the peer must show (IDi or IDr as it prints: an FQDN,
    /// an e-mail address, an IP address), or any whose AUTH verifies.
    pub peer_id: Option<String>,
    pub settings: Settings,
}

/// A UDP datagram to send: payload as it goes on the wire (with the non-ESP
/// marker on port 4500).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: Vec<u8>,
    /// UDP, or plain ESP (IP protocol 50; the ports are then 0).
    pub protocol: IpProtocol,
}

/// The IP protocol of a [`Transmit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum IpProtocol {
    #[default]
    Udp,
    Esp,
}

/// What an endpoint reports: state changes, decisions with the rule behind
/// them, and rejected input with the reason. Reasons are typed (see
/// [`reason`]); serialised, they are the words the chart shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Keys of a new IKE SA (what charon logs and Wireshark's decryption
    /// table needs).
    KeysDerived {
        spi_i: u64,
        spi_r: u64,
        /// Boxed: once per IKE SA, it would otherwise set the size of every
        /// event (and of every trace entry that holds one).
        keys: Box<IkeKeys>,
    },
    /// The Child SA's ESP keys (RFC 7296 §2.17), one entry per direction:
    /// (SPI, AES key followed by salt).
    ChildSa {
        spi_i: u64,
        /// Boxed, as are the other large fields below: a long run records
        /// millions of events, each the size of the largest kind.
        initiator_to_responder: Box<(u32, mobike_wire::crypto::GcmKey)>,
        responder_to_initiator: Box<(u32, mobike_wire::crypto::GcmKey)>,
    },
    /// IKE_AUTH completed; MOBIKE is in effect if both sent MOBIKE_SUPPORTED.
    Established { spi_i: u64, mobike: bool },
    /// The IKE SA's address pair changed.
    IkePathChanged {
        spi_i: u64,
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// The IPsec SAs now use this address pair (tunnel header addresses).
    IpsecPathChanged {
        spi_i: u64,
        local: SocketAddr,
        remote: SocketAddr,
        udp_encap: bool,
    },
    /// NAT detection result (RFC 7296 §2.23).
    NatDetection {
        spi_i: u64,
        local_behind_nat: bool,
        peer_behind_nat: bool,
    },
    /// The peer's announced address set (RFC 4555 §3.4, §3.6).
    PeerAddresses { spi_i: u64, addresses: Vec<IpAddr> },
    /// A decision the protocol took, with the rule it follows (serialised
    /// as its `text` and `rule`).
    Note {
        spi_i: u64,
        #[serde(flatten)]
        note: Box<Note>,
    },
    /// Input that was not accepted, with the reason.
    Rejected {
        src: SocketAddr,
        dst: SocketAddr,
        reason: Box<Rejection>,
    },
    /// The IKE SA is gone.
    Deleted { spi_i: u64, reason: DeleteReason },
    /// pending_update set or cleared (RFC 4555 §3.5 steps 1 and 5).
    PendingUpdate { spi_i: u64, pending: bool },
    /// A request went out or was retransmitted: what it is, its message ID,
    /// how many retransmissions so far and when the next one is due.
    RequestSent {
        spi_i: u64,
        /// The request's kind, as the chart names it ("liveness check").
        what: &'static str,
        mid: u32,
        retransmission: u32,
        next_at: Time,
        probing: bool,
        /// The COOKIE2 it carries, in hex.
        cookie2: Option<String>,
    },
    /// The request with this message ID was answered (or given up).
    RequestDone { spi_i: u64, mid: u32 },
    /// The peer's window (N(SET_WINDOW_SIZE), RFC 7296 §2.3).
    PeerWindow { spi_i: u64, size: u32 },
    /// The gateway told us to go elsewhere (RFC 5685).
    Redirected {
        spi_i: u64,
        to: IpAddr,
        during: String,
    },
}
