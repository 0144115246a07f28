//! Interventions: the changes to a running network that the timeline of a
//! scenario or the user makes. Share links and the JSON export carry their
//! serde form.

use super::direction::Direction;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A change to the network, by the timeline or by the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Intervention {
    /// Packets on the link vanish from now on, both ways; nobody is told.
    BreakLink {
        link: String,
    },
    RestoreLink {
        link: String,
    },
    /// One direction of a link fails (`up: false`) or recovers: a one-way
    /// failure. [`Direction::Up`] is from the host towards the internet.
    SetLinkDirection {
        link: String,
        direction: Direction,
        up: bool,
    },
    /// The NAT reboots: every mapping is lost (RFC 4555 §3.8's case).
    RebootNat {
        nat: String,
    },
    /// The NAT's public address changes; its mappings keep their ports.
    ChangeNatAddress {
        nat: String,
        address: IpAddr,
    },
    /// An interface gains an address. `announce`: the OS tells the IKE
    /// daemon at once; otherwise the address works but the daemon does
    /// not know it.
    AddAddress {
        host: String,
        interface: String,
        address: IpAddr,
        announce: bool,
    },
    /// An interface loses an address (`None`: the one the scenario gave
    /// it). Unannounced, the daemon keeps using it and its packets vanish.
    RemoveAddress {
        host: String,
        interface: String,
        address: Option<IpAddr>,
        announce: bool,
    },
    /// The interface goes down or up and the OS tells the IKE daemon.
    SetInterface {
        host: String,
        interface: String,
        up: bool,
    },
    /// Put a NAT box on a link (it then translates that link's traffic), or
    /// take it out of every path with `None`.
    PlaceNat {
        nat: String,
        link: Option<String>,
    },
    /// A cluster's balancer moves clients to another of its addresses.
    MoveClients {
        host: String,
        to: IpAddr,
        by: MoveBy,
        count: Option<u32>,
        from: Option<IpAddr>,
    },
    /// An attacker sends a forged or replayed UPDATE_SA_ADDRESSES to the
    /// target's newest IKE SA, from the attacker's own address.
    SpoofUpdate {
        attacker: String,
        target: String,
        replay: bool,
    },
    /// A lower-layer hint to a host's IKE daemon (RFC 4555 §3.5, §3.8).
    Hint {
        host: String,
        kind: HintKind,
    },
}

/// What a lower layer tells an IKE daemon, written "icmp", "invalid_spi"
/// or "nat_changed".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintKind {
    /// An ICMP error about the peer's address (RFC 4555 §3.5: a hint, never
    /// a reason to move by itself).
    Icmp,
    /// An INVALID_SPI report from the peer's address.
    InvalidSpi,
    /// A hint that the NAT mapping may have changed (RFC 4555 §3.8).
    NatChanged,
}

/// How a balancer moves a client (reference §5.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveBy {
    /// Responder MOBIKE: an address list holding only the new address,
    /// sent from it (reference §6.2 S-R1).
    #[default]
    Mobike,
    /// RFC 5685 REDIRECT in an INFORMATIONAL: the client builds a new IKE SA.
    Redirect,
}
