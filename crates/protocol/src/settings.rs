//! The behaviours the RFCs leave open, per endpoint (DESIGN.md §2).
//!
//! [`Settings`] is also the scenario file format: `[settings]` and
//! `[host.settings]` are tables of these very fields (durations written as
//! "250ms", "1.5s", "2min"), laid over a preset and deserialised with
//! serde. A new setting is a field here, with its default and a line of
//! docs/scenario-format.md; nothing else names it.

use crate::duration::Dur;
use crate::{MS, SEC, Time};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Retransmission schedule (RFC 7296 §2.4: intervals MUST grow exponentially).
/// The n-th retransmission waits `initial * factor^n`.
#[derive(Clone, Debug, PartialEq)]
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

/// The behaviours the RFCs leave open, as one endpoint runs them and as a
/// scenario file writes them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Offer MOBIKE (N(MOBIKE_SUPPORTED) in IKE_AUTH, RFC 4555 §3.2).
    pub mobike: bool,
    /// Retransmission of requests this endpoint starts as initiator: the
    /// first wait, its growth per retransmission, and how many before the
    /// IKE SA is given up (RFC 7296 §2.1, §2.4).
    pub retransmit_initial: Dur,
    pub retransmit_factor: f64,
    pub retransmit_tries: u32,
    /// Retransmission of requests the responder starts (return routability,
    /// address lists): RFC 4555 §3.11 (M-3.11-1) asks for long timeouts,
    /// at least 5 minutes; the default keeps trying for 8.5 minutes.
    pub responder_retransmit_initial: Dur,
    pub responder_retransmit_factor: f64,
    pub responder_retransmit_tries: u32,
    /// Retransmissions on the current path before the initiator suspects it
    /// and sends the request over every address pair (RFC 4555 §3.5 trigger
    /// "retransmitted several times", §3.10 path testing).
    pub probe_after: u32,
    /// Initiator: once path testing starts, re-send every `probe_interval`,
    /// at most `probe_tries` times (strongSwan: 2.5 s, 10 probes). Not set:
    /// the normal schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe_interval: Option<Dur>,
    pub probe_tries: u32,
    /// The initiator checks liveness with an INFORMATIONAL request after
    /// `liveness_interval` without hearing from the peer (RFC 7296 §2.4,
    /// RFC 4555 §3.12); `liveness = false`: never.
    pub liveness: bool,
    pub liveness_interval: Dur,
    /// NAT-keepalive interval when behind a NAT (RFC 3948 §4, default 20 s).
    pub keepalive_interval: Dur,
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
    /// Initiator: test every address pair every this often even while the
    /// current path works (RFC 4555 §3.10, M-3.10-1, MAY). Not set: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_test_interval: Option<Dur>,
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
    /// Childless IKE SAs (RFC 6023). Responder: announce
    /// N(CHILDLESS_IKEV2_SUPPORTED) in IKE_SA_INIT. Initiator: when the
    /// responder announced it, set up the IKE SA alone, with no SA and TS
    /// payloads in IKE_AUTH (so no Child SA and no ESP). A responder always
    /// answers a request without an SA payload with none.
    pub childless: bool,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_on_init: Option<IpAddr>,
    /// Responder: as `redirect_on_init`, but in the IKE_AUTH response, after
    /// authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_on_auth: Option<IpAddr>,
    /// Responder: when its own address move (an address list sent from the
    /// new address) goes unanswered, what to do.
    pub move_fallback: MoveFallback,
    /// Responder: unanswered retransmissions from the new address before
    /// `move_fallback` applies.
    pub move_fallback_after: u32,
    /// When the address in use goes away, first check the paths with an
    /// empty INFORMATIONAL from the addresses left to every peer address,
    /// and only once one answers move there: the initiator then sends its
    /// UPDATE_SA_ADDRESSES, a responder its address list (strongSwan,
    /// reference §8.1 items 4–6). Off: the initiator moves at once and
    /// sends the update, which tests the new path itself (RFC 4555 §3.5).
    pub path_check_first: bool,
    /// A retransmitted request goes over every address pair after
    /// `probe_after` sends (RFC 4555 §3.5's "retransmitted several times"
    /// trigger, §3.10). Off (strongSwan): retransmissions go to the current
    /// addresses only and the IKE SA is deleted after the last one; only a
    /// path check probes.
    pub probe_on_retransmit: bool,
    /// How long after the OS reports an address change the IKE daemon acts
    /// on it (strongSwan acts about 100–120 ms later; 0: at once).
    pub reaction_delay: Dur,
    /// An UPDATE_SA_ADDRESSES caused by a changed NAT mapping carries the
    /// address list too (RFC 4555 §3.6 allows it in any update, M-3.6-1).
    /// Off (strongSwan): only updates caused by a local address change
    /// carry it.
    pub list_in_nat_updates: bool,
    /// The first liveness check with NAT detection only records the NAT
    /// mapping it sees, to compare later checks with (strongSwan, reference
    /// §8.1 item 10): a mapping that changed before it goes unnoticed. Off:
    /// the first check is compared with what IKE_SA_INIT saw (RFC 4555
    /// §3.8, M-3.8-4).
    pub natd_first_check_baseline: bool,
    /// Responder: with this many half-open IKE SAs (IKE_SA_INIT answered,
    /// IKE_AUTH not yet), a new IKE_SA_INIT must carry a COOKIE: it is
    /// answered statelessly with N(COOKIE) and only the retry that returns
    /// it makes state (RFC 7296 §2.6). Not set: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie_threshold: Option<u32>,
    /// Responder: at most this many half-open IKE SAs; an IKE_SA_INIT
    /// beyond them is dropped, cookie or not. Not set: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub half_open_limit: Option<u32>,
    /// Rekey the Child SA this long after it was made, with CREATE_CHILD_SA
    /// (RFC 7296 §1.3.3, §2.8: lifetimes are local policy). Not set: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_lifetime: Option<Dur>,
    /// A Child SA rekey of ours brings a new D-H exchange (perfect forward
    /// secrecy, RFC 7296 §1.3.1, §2.17); off: new nonces only.
    pub rekey_pfs: bool,
    /// Rekey the IKE SA this long after it was made (RFC 7296 §1.3.2,
    /// §2.8). Not set: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ike_lifetime: Option<Dur>,
    /// The subnets behind the responder, one Child SA each (RFC 7296
    /// §1.3.1, §2.9): the initiator asks for the first in IKE_AUTH and for
    /// each other one with a CREATE_CHILD_SA of its own; the responder
    /// gives a Child SA only for traffic inside one of its subnets (and
    /// narrows a wider request to the first). Empty: one Child SA for all
    /// traffic, and a CREATE_CHILD_SA for another is refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub child_subnets: Vec<Subnet>,
}

/// An IP subnet, written "10.2.0.0/24" (the address's host bits are
/// cleared when read).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet {
    pub network: IpAddr,
    pub prefix: u8,
}

impl Subnet {
    /// The subnet of one address (/32 or /128).
    pub fn host(addr: IpAddr) -> Subnet {
        Subnet {
            network: addr,
            prefix: if addr.is_ipv4() { 32 } else { 128 },
        }
    }

    /// The first and the last address.
    pub fn bounds(&self) -> (IpAddr, IpAddr) {
        match self.network {
            IpAddr::V4(a) => {
                let host = u32::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                let first = u32::from(a) & !host;
                (IpAddr::V4(first.into()), IpAddr::V4((first | host).into()))
            }
            IpAddr::V6(a) => {
                let host = u128::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                let first = u128::from(a) & !host;
                (IpAddr::V6(first.into()), IpAddr::V6((first | host).into()))
            }
        }
    }

    /// Whether `addr` lies in the subnet.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.selector().contains(addr)
    }

    /// The subnet's traffic selector (every protocol and port).
    pub fn selector(&self) -> mobike_wire::payload::TrafficSelector {
        let (first, last) = self.bounds();
        mobike_wire::payload::TrafficSelector::range(first, last)
    }

    /// The first address after the network's own ("10.2.0.1"): where the
    /// playground's pings to the subnet go.
    pub fn first_host(&self) -> IpAddr {
        match self.bounds().0 {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a).wrapping_add(1)).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a).wrapping_add(1)).into()),
        }
    }
}

impl TryFrom<String> for Subnet {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("subnet {s:?}: write ADDRESS/PREFIX, e.g. \"10.2.0.0/24\"");
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let network: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.trim().parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(format!("subnet {s:?}: the prefix length is at most {max}"));
        }
        let mut n = Subnet { network, prefix };
        n.network = n.bounds().0;
        Ok(n)
    }
}

impl From<Subnet> for String {
    fn from(n: Subnet) -> String {
        format!("{}/{}", n.network, n.prefix)
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
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
            retransmit_initial: Dur(SEC),
            retransmit_factor: 2.0,
            retransmit_tries: 5,
            responder_retransmit_initial: Dur(SEC),
            responder_retransmit_factor: 2.0,
            responder_retransmit_tries: 9,
            probe_after: 2,
            probe_interval: None,
            probe_tries: 10,
            liveness: true,
            liveness_interval: Dur(10 * SEC),
            keepalive_interval: Dur(20 * SEC),
            return_routability: true,
            cookie2_len: 16,
            nat_traversal: true,
            multi_source_init: true,
            list_policy: ListPolicy::Strict,
            refuse_addresses: Vec::new(),
            path_test_interval: None,
            esp_liveness: false,
            update_on_nat_hint: false,
            liveness_natd_always: true,
            childless: false,
            window_size: 1,
            redirect: false,
            redirect_on_init: None,
            redirect_on_auth: None,
            move_fallback: MoveFallback::AddOldBack,
            move_fallback_after: 2,
            path_check_first: false,
            probe_on_retransmit: true,
            reaction_delay: Dur(0),
            list_in_nat_updates: true,
            natd_first_check_baseline: false,
            child_lifetime: None,
            rekey_pfs: false,
            ike_lifetime: None,
            child_subnets: Vec::new(),
            cookie_threshold: None,
            half_open_limit: None,
        }
    }
}

impl Settings {
    /// Names of the presets, for [`Settings::preset`].
    pub const PRESETS: [&'static str; 3] = ["rfc", "strongswan", "libreswan"];

    /// Defaults modelled on an implementation (reference §1.11, §8):
    /// - `rfc`: the defaults (1 s doubling, 5 retransmissions; liveness every
    ///   10 s; return routability; strict list policy).
    /// - `strongswan` (as strongSwan 5.9.8 was seen to behave): 4 s × 1.8ⁿ,
    ///   5 retransmissions to the current addresses only (gives up after
    ///   about 165 s); an address gone is answered about 100 ms later with
    ///   an empty INFORMATIONAL over every path from the addresses left,
    ///   then the update (path probing every 2.5 s, 10 probes, when none
    ///   answers); no liveness checks (dpd_delay 0), NAT detection in them
    ///   only behind a NAT and the first one only a baseline; the address
    ///   list only in updates for a local address change; one
    ///   NAT_DETECTION_SOURCE_IP and REDIRECT_SUPPORTED in IKE_SA_INIT; no
    ///   responder return routability; follows a responder address list at
    ///   once.
    /// - `libreswan`: 0.5 s doubling until 30 s have passed.
    pub fn preset(name: &str) -> Option<Settings> {
        let d = Settings::default();
        match name {
            "rfc" => Some(d),
            "strongswan" => Some(Settings {
                retransmit_initial: Dur(4 * SEC),
                retransmit_factor: 1.8,
                retransmit_tries: 5,
                probe_interval: Some(Dur(2_500 * MS)),
                probe_tries: 10,
                liveness: false,
                liveness_natd_always: false,
                return_routability: false,
                list_policy: ListPolicy::Follow,
                path_check_first: true,
                probe_on_retransmit: false,
                reaction_delay: Dur(100 * MS),
                list_in_nat_updates: false,
                natd_first_check_baseline: true,
                multi_source_init: false,
                redirect: true,
                ..d
            }),
            "libreswan" => Some(Settings {
                retransmit_initial: Dur(500 * MS),
                retransmit_factor: 2.0,
                retransmit_tries: 5,
                ..d
            }),
            _ => None,
        }
    }

    /// The schedule of requests this endpoint starts as initiator.
    pub fn retransmit(&self) -> Retransmit {
        Retransmit {
            initial: self.retransmit_initial.micros(),
            factor: self.retransmit_factor,
            tries: self.retransmit_tries,
        }
    }

    /// The schedule of requests the responder starts (RFC 4555 §3.11).
    pub fn responder_retransmit(&self) -> Retransmit {
        Retransmit {
            initial: self.responder_retransmit_initial.micros(),
            factor: self.responder_retransmit_factor,
            tries: self.responder_retransmit_tries,
        }
    }

    /// The fixed schedule of path testing, when one is set.
    pub fn probe(&self) -> Option<Retransmit> {
        self.probe_interval.map(|d| Retransmit {
            initial: d.micros(),
            factor: 1.0,
            tries: self.probe_tries,
        })
    }

    /// How long the initiator waits without hearing from the peer before a
    /// liveness check; `None` when liveness checks are off.
    pub fn liveness_check_after(&self) -> Option<Time> {
        self.liveness.then_some(self.liveness_interval.micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_the_defaults_with_their_differences() {
        assert_eq!(Settings::preset("rfc"), Some(Settings::default()));
        let s = Settings::preset("strongswan").unwrap();
        assert_eq!(s.retransmit().timeout(1), 7_200_000);
        assert_eq!(s.probe().map(|p| p.tries), Some(10));
        assert_eq!(s.liveness_check_after(), None);
        assert_eq!(
            Settings::preset("libreswan").unwrap().retransmit().initial,
            500_000
        );
        assert!(Settings::preset("openswan").is_none());
    }
}
