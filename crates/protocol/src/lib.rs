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

mod endpoint;
pub mod reason;
mod sa;

pub use endpoint::{Endpoint, Hint};
pub use reason::{Cookie2Exchange, DeleteReason, LocalDelete, MoveReason, Note, Rejection, Rule};
pub use sa::{OutstandingSnapshot, SaSnapshot, SaState};

use mobike_wire::crypto::IkeKeys;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

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

/// Retransmission schedule (RFC 7296 §2.4: intervals MUST grow exponentially).
/// The n-th retransmission waits `initial * factor^n`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retransmit {
    /// Wait before the first retransmission.
    pub initial: Time,
    /// Growth per retransmission (2.0 doubles; strongSwan uses 1.8).
    pub factor: f64,
    /// Retransmissions before the IKE SA is given up (I-2.1-6).
    pub tries: u32,
}

impl Retransmit {
    /// Wait after send number `n` (0 = the original send).
    pub fn timeout(&self, n: u32) -> Time {
        let f = self.factor.max(1.0).powi(n as i32);
        (self.initial as f64 * f).round() as Time
    }
}

impl Default for Retransmit {
    fn default() -> Self {
        Retransmit {
            initial: SEC,
            factor: 2.0,
            tries: 5,
        }
    }
}

/// The behaviours the RFCs leave open, per endpoint (DESIGN.md §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Offer MOBIKE (N(MOBIKE_SUPPORTED) in IKE_AUTH, RFC 4555 §3.2).
    pub mobike: bool,
    /// Retransmission of requests this endpoint starts as initiator.
    pub retransmit: Retransmit,
    /// Retransmission of requests the responder starts (return routability,
    /// address lists): RFC 4555 §3.11 (M-3.11-1) asks for long timeouts,
    /// at least 5 minutes; the default keeps trying for 8.5 minutes.
    pub responder_retransmit: Retransmit,
    /// Retransmissions on the current path before the initiator suspects it
    /// and sends the request over every address pair (RFC 4555 §3.5 trigger
    /// "retransmitted several times", §3.10 path testing).
    pub probe_after: u32,
    /// Idle time after which the initiator checks liveness with an
    /// INFORMATIONAL request (RFC 7296 §2.4, RFC 4555 §3.12). `None`: never.
    pub liveness_interval: Option<Time>,
    /// NAT-keepalive interval when behind a NAT (RFC 3948 §4, default 20 s).
    pub keepalive_interval: Time,
    /// The responder checks a new initiator address with its own COOKIE2
    /// exchange before moving IPsec SAs there (RFC 4555 §3.7, SHOULD).
    pub return_routability: bool,
    /// COOKIE2 length in octets (8..=64, RFC 4555 §4.2.5).
    pub cookie2_len: usize,
    /// Send NAT detection payloads in IKE_SA_INIT (NAT traversal, RFC 7296
    /// §2.23). Without NAT-T on both sides, NO_NATS_ALLOWED guards every
    /// address update instead (RFC 4555 §3.9).
    pub nat_traversal: bool,
    /// Initiator: retransmit IKE_SA_INIT from each local address in turn,
    /// with one NAT_DETECTION_SOURCE_IP per address (RFC 4555 §3.1 M-3.1-1,
    /// RFC 7296 §2.23 I-2.23-7).
    pub multi_source_init: bool,
    /// Initiator: what to do when the responder's address list no longer
    /// holds the address in use (RFC 4555 leaves it open, §3.5).
    pub list_policy: ListPolicy,
    /// Responder: addresses it refuses in UPDATE_SA_ADDRESSES (answered
    /// with UNACCEPTABLE_ADDRESSES, RFC 4555 §3.5, B-3.5-9).
    pub refuse_addresses: Vec<IpAddr>,
    /// Initiator: once path testing starts, re-send on this schedule instead
    /// of `retransmit` (strongSwan: every 2.5 s, 10 probes). `None`: keep the
    /// normal schedule.
    pub probe: Option<Retransmit>,
    /// Initiator: test every address pair every this often even while the
    /// current path works (RFC 4555 §3.10, M-3.10-1, MAY). `None`: never.
    pub path_test_interval: Option<Time>,
    /// Treat inbound ESP on the IPsec SA's own addresses as proof of
    /// liveness, so no liveness check is sent while traffic flows (RFC 7296
    /// §2.4). ESP from other addresses never counts (M-3.12-2).
    pub esp_liveness: bool,
    /// Initiator: a hint that the NAT mapping changed sends
    /// UPDATE_SA_ADDRESSES at once, without a liveness check first (RFC 4555
    /// §3.8, M-3.8-5, MAY), and UDP encapsulation starts before the update
    /// (B-3.5-3).
    pub update_on_nat_hint: bool,
    /// NAT detection in every liveness check (RFC 4555 §3.8), or (`false`,
    /// as strongSwan) only while we are behind a NAT: a NAT that appears on
    /// a path that had none then goes unseen until something else fails.
    pub liveness_natd_always: bool,
    /// Our receive window (RFC 7296 §2.3). Above 1 it is announced with
    /// N(SET_WINDOW_SIZE) in IKE_AUTH; the peer may then keep that many
    /// requests outstanding. We keep as many outstanding as the peer allows.
    pub window_size: u32,
    /// Redirect (RFC 5685). Initiator: send REDIRECT_SUPPORTED in
    /// IKE_SA_INIT and follow REDIRECT. Responder: may redirect only peers
    /// that said they support it. Off by default, as RFC 4555's figures.
    pub redirect: bool,
    /// Responder: new clients whose IKE_SA_INIT arrives at another address
    /// than this one are redirected to it in the IKE_SA_INIT response.
    pub redirect_on_init: Option<IpAddr>,
    /// Responder: as `redirect_on_init`, but in the IKE_AUTH response, after
    /// authentication.
    pub redirect_on_auth: Option<IpAddr>,
    /// Responder: when its own address move (an address list sent from the
    /// new address) goes unanswered, what to do.
    pub move_fallback: MoveFallback,
    /// Responder: unanswered retransmissions from the new address before
    /// `move_fallback` applies.
    pub move_fallback_after: u32,
}

/// The responder's reaction when a request it sends from a new address of
/// its own is not answered, e.g. because the initiator's NAT has no filter
/// entry for that address (reference §6.2 S-R2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MoveFallback {
    /// Retransmit the same request from the old address if it is still ours
    /// (RFC 7296 §2.1 allows other IP headers, I-2.1-7), then send the full
    /// list again from there (M-3.6-2) so the initiator can probe the new one.
    #[default]
    AddOldBack,
    /// Keep retransmitting from the new address until the initiator's own
    /// probe opens its NAT's filter for it.
    KeepRetransmitting,
}

/// The initiator's reaction when the responder announces an address list
/// without the address in use (the 2018 "responder MOBIKE" discussion).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ListPolicy {
    /// Move the IKE SA to the address the list came from and run its own
    /// UPDATE_SA_ADDRESSES with return routability (RFC 4555 §3.5, §3.7).
    #[default]
    Strict,
    /// Follow at once: IKE and IPsec SAs move to the list's source address
    /// without an update of our own (strongSwan; Kivinen's reading).
    Follow,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mobike: true,
            retransmit: Retransmit::default(),
            responder_retransmit: Retransmit {
                initial: SEC,
                factor: 2.0,
                tries: 9,
            },
            probe_after: 2,
            liveness_interval: Some(10 * SEC),
            keepalive_interval: 20 * SEC,
            return_routability: true,
            cookie2_len: 16,
            nat_traversal: true,
            multi_source_init: true,
            list_policy: ListPolicy::Strict,
            refuse_addresses: Vec::new(),
            probe: None,
            path_test_interval: None,
            esp_liveness: false,
            update_on_nat_hint: false,
            liveness_natd_always: true,
            window_size: 1,
            redirect: false,
            redirect_on_init: None,
            redirect_on_auth: None,
            move_fallback: MoveFallback::AddOldBack,
            move_fallback_after: 2,
        }
    }
}

impl Settings {
    /// Names of the timer presets, for [`Settings::preset`].
    pub const PRESETS: [&'static str; 3] = ["rfc", "strongswan", "libreswan"];

    /// Defaults modelled on an implementation (reference §1.11, §8):
    /// - `rfc`: the defaults (1 s doubling, 5 retransmissions; liveness every
    ///   10 s; return routability; strict list policy).
    /// - `strongswan`: 4 s × 1.8ⁿ, 5 retransmissions (gives up after about
    ///   165 s); path probing every 2.5 s, 10 probes; no liveness checks
    ///   (dpd_delay 0), and NAT detection in them only behind a NAT; no
    ///   responder return routability; follows a responder address list at
    ///   once.
    /// - `libreswan`: 0.5 s doubling until 30 s have passed.
    pub fn preset(name: &str) -> Option<Settings> {
        let d = Settings::default();
        match name {
            "rfc" => Some(d),
            "strongswan" => Some(Settings {
                retransmit: Retransmit {
                    initial: 4 * SEC,
                    factor: 1.8,
                    tries: 5,
                },
                probe: Some(Retransmit {
                    initial: 2_500 * MS,
                    factor: 1.0,
                    tries: 10,
                }),
                probe_after: 1,
                liveness_interval: None,
                liveness_natd_always: false,
                return_routability: false,
                list_policy: ListPolicy::Follow,
                ..d
            }),
            "libreswan" => Some(Settings {
                retransmit: Retransmit {
                    initial: 500 * MS,
                    factor: 2.0,
                    tries: 5,
                },
                ..d
            }),
            _ => None,
        }
    }
}

/// Who an endpoint is and what it shares with its peer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointConfig {
    pub role: Role,
    /// Our identity (ID type FQDN).
    pub id: String,
    /// The pre-shared key (AUTH method 2, RFC 7296 §2.15).
    pub psk: Vec<u8>,
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
        keys: IkeKeys,
    },
    /// The Child SA's ESP keys (RFC 7296 §2.17), one entry per direction:
    /// (SPI, AES key followed by salt).
    ChildSa {
        spi_i: u64,
        initiator_to_responder: (u32, mobike_wire::crypto::GcmKey),
        responder_to_initiator: (u32, mobike_wire::crypto::GcmKey),
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
        note: Note,
    },
    /// Input that was not accepted, with the reason.
    Rejected {
        src: SocketAddr,
        dst: SocketAddr,
        reason: Rejection,
    },
    /// The IKE SA is gone.
    Deleted { spi_i: u64, reason: DeleteReason },
    /// pending_update set or cleared (RFC 4555 §3.5 steps 1 and 5).
    PendingUpdate { spi_i: u64, pending: bool },
    /// A request went out or was retransmitted: what it is, its message ID,
    /// how many retransmissions so far and when the next one is due.
    RequestSent {
        spi_i: u64,
        what: String,
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
