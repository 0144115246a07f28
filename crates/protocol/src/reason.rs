//! Typed reasons: the rule behind a decision, and why a message was
//! rejected, an IKE SA deleted or a path changed. Each value prints the
//! words a user reads in the chart (`Display`) and names the rule it
//! follows, so tests and lessons match on the type or the checklist id
//! (shared/spec/mobike-reference.md §2.14, e.g. `M-3.7-5`), never on prose.

use crate::Time;
use mobike_wire::WireError;
use mobike_wire::notify::GwIdentity;
use mobike_wire::registry::{ExchangeType, NotifyType};
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Where a rule is written: the citation as the chart shows it ("RFC 4555
/// §3.7 (M-3.7-1)") with the checklist ids it contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rule(&'static str);

impl Rule {
    /// A citation; the checklist ids are read from it (see [`Rule::ids`]).
    pub const fn new(cite: &'static str) -> Rule {
        Rule(cite)
    }

    /// The citation as written.
    pub fn cite(&self) -> &'static str {
        self.0
    }

    /// The checklist ids in the citation, in order: `M-3.7-1`, `B-3.5-15`,
    /// `I-2.1-6`, `U-4-2` (a letter, a dash, a section, a dash, a number).
    pub fn ids(&self) -> Vec<&'static str> {
        checklist_ids(self.0)
    }

    /// Whether the rule implements checklist id `id` (e.g. "M-3.7-5").
    pub fn cites(&self, id: &str) -> bool {
        self.ids().contains(&id)
    }
}

/// The checklist ids (`M-3.7-1`, `B-3.5-15`, `I-2.1-6`, `U-4-2`) in a text.
pub fn checklist_ids(text: &str) -> Vec<&str> {
    let is_id = |w: &str| {
        let mut parts = w.splitn(3, '-');
        let (Some(kind), Some(section), Some(n)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        matches!(kind, "M" | "B" | "I" | "U")
            && !section.is_empty()
            && section
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
    };
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| is_id(w))
        .collect()
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

/// Serialises a value as the text it displays (reasons go into the trace
/// and the JSON export as words).
pub(crate) fn as_text<T: fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

macro_rules! display_as_text {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                as_text(self, s)
            }
        }
    )*};
}

/// Why the initiator moves its IKE SA to a new address pair (RFC 4555 §3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoveReason {
    /// The local address in use is gone (the OS told us).
    LocalAddressGone { address: IpAddr },
    /// The responder's new address list no longer holds the address in use
    /// (policy strict: our own update with return routability follows).
    PeerListDropped { address: IpAddr },
    /// A probed address list update was answered on another pair.
    ListAnsweredElsewhere,
    /// A path test was answered on another pair.
    PathTestAnsweredElsewhere,
    /// UPDATE_SA_ADDRESSES sent over several pairs was answered on another.
    UpdateAnsweredElsewhere,
    /// The local address `gone` went away and a path check was answered on
    /// this pair (strongSwan's order: check, then update).
    PathCheckAnswered { gone: IpAddr },
}

impl MoveReason {
    pub fn rule(&self) -> Rule {
        Rule::new(match self {
            MoveReason::LocalAddressGone { .. } => "RFC 4555 §3.5 (lower-layer trigger)",
            MoveReason::PeerListDropped { .. } => {
                "RFC 4555 §3.5 (re-evaluation trigger), §3.6; policy strict"
            }
            MoveReason::ListAnsweredElsewhere => "RFC 4555 §3.6 (M-3.6-2), §3.10",
            MoveReason::PathTestAnsweredElsewhere => "RFC 4555 §3.5, §3.10, B-3.7-1",
            MoveReason::UpdateAnsweredElsewhere => "RFC 4555 §3.7 (B-3.7-1)",
            MoveReason::PathCheckAnswered { .. } => {
                "RFC 4555 §3.5, §3.10; strongSwan's path check (reference §8.1 items 5 and 6)"
            }
        })
    }
}

impl fmt::Display for MoveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoveReason::LocalAddressGone { address } => {
                write!(f, "local address {address} is gone")
            }
            MoveReason::PeerListDropped { address } => {
                write!(f, "responder's address list no longer holds {address}")
            }
            MoveReason::ListAnsweredElsewhere => {
                f.write_str("address list update answered on another address pair")
            }
            MoveReason::PathTestAnsweredElsewhere => {
                f.write_str("path test answered on another address pair")
            }
            MoveReason::UpdateAnsweredElsewhere => {
                f.write_str("update answered on another address pair")
            }
            MoveReason::PathCheckAnswered { gone } => {
                write!(
                    f,
                    "local address {gone} is gone and the path check was answered"
                )
            }
        }
    }
}

/// Which exchange carried a COOKIE2 that came back changed (M-3.7-7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cookie2Exchange {
    /// UPDATE_SA_ADDRESSES (RFC 4555 §3.5).
    Update,
    /// The responder's return routability check (§3.7).
    ReturnRoutability,
    /// A liveness check after a report of unwanted traffic (§5.3).
    Liveness,
}

/// Why a Child SA is rekeyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RekeyWhy {
    /// Its lifetime (`Settings::child_lifetime`) ran out.
    Lifetime,
    /// Asked for (the timeline or the page).
    Asked,
    /// A rekey the peer refused is tried again (RFC 7296 §2.25).
    Retry,
}

/// A decision the protocol took, in words, with the rule it follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// No local address of the peer's family (RFC 4555 §3.1).
    NoLocalAddress { peer: IpAddr },
    /// A new IKE SA after a redirect (RFC 5685).
    RedirectedTo { from: IpAddr, peer: IpAddr },
    /// A new IKE_SA_INIT after UNEXPECTED_NAT_DETECTED (M-3.9-4).
    InitRetry { attempt: u32, from: IpAddr },
    /// Responder: the client says another gateway redirected it here.
    ClientRedirectedHere { by: GwIdentity },
    /// Responder: a new client is redirected in IKE_SA_INIT.
    RedirectingOnInit { client: SocketAddr, to: IpAddr },
    /// A request re-sent to a new destination carries NAT-D for the old one.
    StaleNatDetection,
    /// Without MOBIKE, a host not behind a NAT follows the peer (I-2.23-11).
    FollowingRebinding { from: SocketAddr, to: SocketAddr },
    /// Retransmissions went unanswered: path testing starts (§3.10).
    ProbingStarted { sends: u32, pairs: usize },
    /// The responder asked for a COOKIE: IKE_SA_INIT again with it.
    CookieReturned { octets: usize },
    /// The address in use is gone: an empty INFORMATIONAL checks the paths
    /// left before the SA moves (strongSwan).
    PathCheck { gone: IpAddr, pairs: usize },
    /// Responder: its own move went unanswered; it adds the old address back.
    MoveFallback { new: IpAddr, old: IpAddr },
    /// The initiator moves its IKE SA (RFC 4555 §3.5 step 1).
    Moving {
        why: MoveReason,
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// Responder: the client's update ends the responder's own move.
    ClientEndedMove { chose: IpAddr, left: IpAddr },
    /// Responder: return routability check before the IPsec SAs move.
    CheckingReturnRoutability { address: SocketAddr },
    /// Initiator: an update whose answer comes after a newer change.
    OutdatedUpdateResponse,
    /// Initiator: UNACCEPTABLE_ADDRESSES, back to the old pair (M-3.5-2).
    RefusedFallBack {
        refused: SocketAddr,
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// Initiator: UNEXPECTED_NAT_DETECTED in an update, retrying (M-3.9-3).
    NatRetry { retry: u32 },
    /// Responder: an address list of one address, to move the client there.
    MovingClient { to: IpAddr },
    /// The local address is gone and no other is usable.
    NoUsableAddress { address: IpAddr },
    /// Responder: its own address is gone; the new list goes from `from`.
    OwnAddressGone { from: IpAddr },
    /// Responder: its own address is gone and no other is usable.
    NoUsableOwnAddress { address: IpAddr },
    /// IKE_AUTH made the IKE SA without a Child SA: none was asked for
    /// (`refused: None`, childless, RFC 6023), or the responder refused it
    /// with this notify (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE); the IKE SA
    /// stands all the same (RFC 7296 §1.2, §2.21.2).
    NoChildSa { refused: Option<NotifyType> },
    /// The Child SA with our inbound SPI `spi` is rekeyed with
    /// CREATE_CHILD_SA (RFC 7296 §1.3.3, §2.8).
    RekeyingChild { spi: u32, why: RekeyWhy, pfs: bool },
    /// A new Child SA replaces the one with inbound SPI `old`; ours is `new`.
    ChildRekeyed { old: u32, new: u32, pfs: bool },
    /// Two rekeys crossed: the SA with our inbound SPI `redundant` is the
    /// redundant one; `by_us`: we made it, so we delete it (RFC 7296 §2.8.1).
    RekeyCollision { redundant: u32, by_us: bool },
    /// The Child SA with our inbound SPI `spi` is deleted; `by_us`: our
    /// Delete was answered, else the peer's was.
    ChildDeleted { spi: u32, by_us: bool },
    /// The peer answered our rekey with an error: the old Child SA stays,
    /// and we try again in `retry_s` seconds.
    ChildRekeyRefused { kind: NotifyType, retry: Time },
    /// We answered a CREATE_CHILD_SA with an error.
    CreateChildRefused { kind: NotifyType },
    /// Another Child SA (RFC 7296 §1.3.1), ours inbound `spi`, for the
    /// traffic between our selectors and the peer's.
    ChildCreated {
        spi: u32,
        ours: String,
        theirs: String,
    },
    /// The peer refused our request for another Child SA.
    NewChildRefused { kind: NotifyType },
    /// The IKE SA is rekeyed with CREATE_CHILD_SA (RFC 7296 §1.3.2).
    RekeyingIke { why: RekeyWhy },
    /// The rekey made the IKE SA with these SPIs; MOBIKE state and Child
    /// SAs go over to it. `ours`: we started it, so we delete the old one.
    IkeRekeyed { spi_i: u64, spi_r: u64, ours: bool },
    /// The peer answered our IKE SA rekey with an error; we try again later.
    IkeRekeyRefused { kind: NotifyType, retry: Time },
    /// The peer's IKE SA rekey crossed ours: answered, and which new IKE SA
    /// stays is settled once ours is answered (RFC 7296 §2.8.2).
    IkeRekeysCrossed,
    /// Two IKE SA rekeys crossed: the new IKE SA `redundant` (initiator
    /// SPI) came from the exchange with the lowest nonce; `by_us`: we made
    /// it, so we delete it. The other stays, and whoever made it deletes
    /// the old one.
    IkeRekeyCollision { redundant: u64, by_us: bool },
    /// An ICMP error is only a hint (M-3.5-1).
    IcmpHint { peer: IpAddr },
    /// A report of unwanted traffic starts a liveness check with COOKIE2.
    UnwantedTrafficHint { peer: IpAddr },
    /// A NAT-change hint: update at once (M-3.8-5).
    NatHintUpdate,
    /// A NAT-change hint: liveness check with NAT detection (M-3.8-1).
    NatHintCheck,
    /// NAT-D in a liveness response differs from the IKE_SA_INIT result.
    NatDifferentFromInit,
    /// NAT-D in a liveness response differs from the last result.
    NatMappingChanged,
    /// A redirect to a name cannot be followed (no resolver).
    CannotResolve { gw: GwIdentity },
    /// A REDIRECT from someone who may not send one.
    RedirectIgnored,
    /// A refusal answered to an address update (B-3.5-9, M-3.9-2).
    Refused { kind: NotifyType, from: SocketAddr },
    /// An older address list than one already taken (B-3.6-2).
    OlderList { mid: u32 },
    /// An older UPDATE_SA_ADDRESSES than one already handled (B-3.5-8).
    OlderUpdate { mid: u32 },
    /// UPDATE_SA_ADDRESSES from the responder is ignored.
    UpdateFromResponder,
    /// Policy follow: IKE and IPsec SAs go to the list's source at once.
    FollowingList { why: MoveReason, to: SocketAddr },
    /// Responder: its own move was answered on the new pair.
    MoveAnswered { at: IpAddr },
    /// An address list that went out from several addresses goes again.
    ListAgain,
    /// ESP from other addresses than the IPsec SA's (M-3.12-1, M-3.12-2).
    EspElsewhere {
        src: IpAddr,
        dst: IpAddr,
        sa_remote: IpAddr,
        sa_local: IpAddr,
    },
    /// The client acknowledged a REDIRECT.
    RedirectAcknowledged { to: IpAddr },
    /// Too many redirects in a short time: a loop (RFC 5685).
    RedirectLoop {
        to: IpAddr,
        max: usize,
        period_s: u64,
    },
}

impl Note {
    /// The rule this decision follows.
    pub fn rule(&self) -> Rule {
        use Note::*;
        Rule::new(match self {
            NoLocalAddress { .. } => "RFC 4555 §3.1",
            RedirectedTo { .. } | ClientRedirectedHere { .. } => "RFC 5685 (REDIRECTED_FROM)",
            InitRetry { .. } => "RFC 4555 §3.9, M-3.9-4",
            RedirectingOnInit { .. } => "RFC 5685 (redirect during IKE_SA_INIT)",
            StaleNatDetection => "RFC 7296 §2.1, §2.23",
            FollowingRebinding { .. } => "RFC 7296 §2.23 (I-2.23-11)",
            ProbingStarted { .. } => "RFC 4555 §3.5, §3.10; RFC 7296 §2.1 (I-2.1-7)",
            CookieReturned { .. } => "RFC 7296 §2.6",
            PathCheck { .. } => {
                "RFC 4555 §3.10; strongSwan's path check (reference §8.1 items 4 and 5)"
            }
            MoveFallback { .. } => "reference §6.2 S-R2 fallback A; RFC 7296 §2.1 (I-2.1-7)",
            Moving { why, .. } => return why.rule(),
            ClientEndedMove { .. } | UpdateFromResponder => "RFC 4555 §3.5",
            CheckingReturnRoutability { .. } => "RFC 4555 §3.7 (M-3.7-1)",
            OutdatedUpdateResponse => "RFC 4555 §3.5 (B-3.5-14)",
            RefusedFallBack { .. } => "RFC 4555 §3.5, M-3.5-2",
            NatRetry { .. } => "RFC 4555 §3.9, M-3.9-3",
            MovingClient { .. } => {
                "RFC 4555 §3.6 (B-3.6-3); responder MOBIKE (reference §6.2 S-R1)"
            }
            NoUsableAddress { .. } => "RFC 4555 §3.5",
            OwnAddressGone { .. } => "RFC 4555 §3.5 (B-3.5-15), §3.6 (B-3.6-3)",
            NoUsableOwnAddress { .. } => "RFC 4555 §3.6",
            NoChildSa { refused: None } => "RFC 6023 §3",
            NoChildSa { .. } => "RFC 7296 §1.2, §2.21.2",
            RekeyingChild { .. } => "RFC 7296 §1.3.3, §2.8",
            ChildRekeyed { .. } => "RFC 7296 §1.3.3, §2.17",
            RekeyCollision { .. } => "RFC 7296 §2.8.1",
            ChildDeleted { .. } => "RFC 7296 §1.4.1, §2.8",
            ChildRekeyRefused { .. } => "RFC 7296 §1.3.3, §2.25",
            CreateChildRefused { .. } => "RFC 7296 §1.3, §3.10.1",
            ChildCreated { .. } => {
                "RFC 7296 §1.3.1, §2.9; RFC 4555 §3.5 (all IPsec SAs move together)"
            }
            NewChildRefused { .. } => "RFC 7296 §1.3, §3.10.1",
            RekeyingIke { .. } => "RFC 7296 §1.3.2, §2.8",
            IkeRekeyed { .. } => "RFC 7296 §1.3.2, §2.18; RFC 4555 §1.3 (roles stay)",
            IkeRekeyRefused { .. } => "RFC 7296 §2.25",
            IkeRekeysCrossed => "RFC 7296 §2.8.2, §2.25.2",
            IkeRekeyCollision { .. } => "RFC 7296 §2.8.2",
            IcmpHint { .. } => "RFC 4555 §3.5 (M-3.5-1)",
            UnwantedTrafficHint { .. } => "RFC 4555 §5.3 (M-5.3-1)",
            NatHintUpdate => "RFC 4555 §3.8 (M-3.8-5), §3.5 (B-3.5-3)",
            NatHintCheck => "RFC 4555 §3.8 (M-3.8-1)",
            NatDifferentFromInit | NatMappingChanged => "RFC 4555 §3.8 (M-3.8-4)",
            CannotResolve { .. } | RedirectIgnored | RedirectAcknowledged { .. } => "RFC 5685",
            Refused { kind, .. } if *kind == NotifyType::UNACCEPTABLE_ADDRESSES => {
                "RFC 4555 §3.5, B-3.5-9"
            }
            Refused { .. } => "RFC 4555 §3.9, M-3.9-2, M-3.9-5",
            OlderList { .. } => "RFC 4555 §3.6 (B-3.6-2)",
            OlderUpdate { .. } => "RFC 4555 §3.5 (B-3.5-8)",
            FollowingList { .. } => "RFC 4555 §3.6; policy follow (as strongSwan)",
            MoveAnswered { .. } => "reference §6.2 S-R1",
            ListAgain => "RFC 4555 §3.6, M-3.6-2",
            EspElsewhere { .. } => "RFC 4555 §3.12 (M-3.12-1, M-3.12-2)",
            RedirectLoop { .. } => "RFC 5685 (redirect loop detection)",
        })
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Note::*;
        match self {
            NoLocalAddress { peer } => write!(f, "no local address to reach {peer}"),
            RedirectedTo { from, peer } => {
                write!(f, "redirected by {from}: new IKE SA with {peer}")
            }
            InitRetry { attempt, from } => write!(
                f,
                "new IKE_SA_INIT (attempt {attempt}) from {from} after UNEXPECTED_NAT_DETECTED"
            ),
            ClientRedirectedHere { by } => write!(f, "client was redirected here by {by}"),
            RedirectingOnInit { client, to } => {
                write!(f, "redirecting the new client {client} to {to} in IKE_SA_INIT")
            }
            StaleNatDetection => f.write_str(
                "NAT_DETECTION_DESTINATION_IP names another of our addresses: a request re-sent to a new destination, not a NAT",
            ),
            FollowingRebinding { from, to } => {
                write!(f, "no MOBIKE: following the peer from {from} to {to}")
            }
            ProbingStarted { sends, pairs } => write!(
                f,
                "{sends} {} unanswered: testing {pairs} address pairs with the same request",
                if *sends == 1 { "send" } else { "sends" }
            ),
            MoveFallback { new, old } => write!(
                f,
                "no answer from {new}: adding {old} back and retransmitting from it"
            ),
            CookieReturned { octets } => write!(
                f,
                "the responder is under load and asks for a COOKIE: IKE_SA_INIT again with its {octets} octets first"
            ),
            PathCheck { gone, pairs } => write!(
                f,
                "{gone} is gone: checking {pairs} address {} with an empty INFORMATIONAL before moving",
                if *pairs == 1 { "pair" } else { "pairs" }
            ),
            Moving { why, local, remote } => {
                write!(f, "{why}: IKE SA moves to {local} -> {remote}")
            }
            ClientEndedMove { chose, left } => {
                write!(f, "the client's update chose {chose}: our move from {left} ends")
            }
            CheckingReturnRoutability { address } => write!(
                f,
                "checking return routability of {address} before moving IPsec SAs"
            ),
            OutdatedUpdateResponse => {
                f.write_str("response to an outdated UPDATE_SA_ADDRESSES ignored")
            }
            RefusedFallBack {
                refused,
                local,
                remote,
            } => write!(f, "responder refused {refused}; back to {local} -> {remote}"),
            NatRetry { retry } => write!(
                f,
                "UNEXPECTED_NAT_DETECTED: retry {retry} with a new request"
            ),
            MovingClient { to } => write!(
                f,
                "moving the client to {to}: an address list of {to} alone, sent from {to}"
            ),
            NoUsableAddress { address } => {
                write!(f, "local address {address} is gone and no other is usable")
            }
            OwnAddressGone { from } => {
                write!(f, "own address gone: announcing the new list from {from}")
            }
            NoUsableOwnAddress { address } => {
                write!(f, "own address {address} is gone and no other is usable")
            }
            NoChildSa { refused: None } => {
                f.write_str("IKE SA without a Child SA (childless, none asked for)")
            }
            NoChildSa {
                refused: Some(kind),
            } => write!(
                f,
                "no Child SA: the responder answered {kind}; the IKE SA stands"
            ),
            RekeyingChild { spi, why, pfs } => write!(
                f,
                "{}: rekeying Child SA {spi:08x} with CREATE_CHILD_SA ({})",
                match why {
                    RekeyWhy::Lifetime => "Child SA lifetime over",
                    RekeyWhy::Asked => "rekey asked for",
                    RekeyWhy::Retry => "trying the refused rekey again",
                },
                if *pfs {
                    "with PFS: a new D-H exchange"
                } else {
                    "without PFS: new nonces only"
                }
            ),
            ChildRekeyed { old, new, pfs } => write!(
                f,
                "new Child SA {new:08x} replaces {old:08x}: keys from SK_d and the new nonces{}",
                if *pfs { " and D-H secret" } else { "" }
            ),
            RekeyCollision { redundant, by_us } => write!(
                f,
                "two rekeys crossed: the new Child SA {redundant:08x} came from the lowest nonce and is redundant; {}",
                if *by_us {
                    "we made it, so we delete it"
                } else {
                    "the peer deletes it, we delete the old one"
                }
            ),
            ChildDeleted { spi, by_us } => write!(
                f,
                "Child SA {spi:08x} deleted ({})",
                if *by_us {
                    "our Delete answered"
                } else {
                    "the peer's Delete"
                }
            ),
            ChildRekeyRefused { kind, retry } => write!(
                f,
                "rekey refused with {kind}: the Child SA stays; trying again in {:.3} s",
                *retry as f64 / 1e6
            ),
            CreateChildRefused { kind } => write!(f, "CREATE_CHILD_SA answered with {kind}"),
            ChildCreated { spi, ours, theirs } => write!(
                f,
                "new Child SA {spi:08x} for {ours} ⇄ {theirs}: another pair of ESP SAs on the IKE SA's addresses"
            ),
            NewChildRefused { kind } => write!(
                f,
                "another Child SA refused with {kind}: the IKE SA and its other Child SAs stay"
            ),
            RekeyingIke { why } => write!(
                f,
                "{}: rekeying the IKE SA with CREATE_CHILD_SA (new SPI, nonce and D-H)",
                match why {
                    RekeyWhy::Lifetime => "IKE SA lifetime over",
                    RekeyWhy::Asked => "IKE SA rekey asked for",
                    RekeyWhy::Retry => "trying the refused IKE SA rekey again",
                }
            ),
            IkeRekeyed { spi_i, spi_r, ours } => write!(
                f,
                "IKE SA rekeyed: the new one is {spi_i:016x}/{spi_r:016x}, keyed from SK_d, the new nonces and D-H secret; it takes the addresses, NAT state and Child SAs along{}",
                if *ours {
                    ", and we delete the old one"
                } else {
                    ""
                }
            ),
            IkeRekeyRefused { kind, retry } => write!(
                f,
                "IKE SA rekey answered with {kind}: trying again in {:.3} s",
                *retry as f64 / 1e6
            ),
            IkeRekeysCrossed => f.write_str(
                "the peer rekeys the IKE SA while our rekey waits for its answer: answered; the lowest nonce will tell which new IKE SA stays",
            ),
            IkeRekeyCollision { redundant, by_us } => write!(
                f,
                "two IKE SA rekeys crossed: the new IKE SA {redundant:016x} came from the lowest nonce and is redundant; {}",
                if *by_us {
                    "we made it, so we delete it; the peer deletes the old one"
                } else {
                    "the peer deletes it; ours stays and we delete the old one"
                }
            ),
            IcmpHint { peer } => {
                write!(f, "ICMP error about {peer}: only a hint, checking liveness")
            }
            UnwantedTrafficHint { peer } => write!(
                f,
                "report of unwanted traffic to {peer}: liveness check with COOKIE2"
            ),
            NatHintUpdate => f.write_str(
                "NAT mapping change suspected: UPDATE_SA_ADDRESSES at once, UDP encapsulation on",
            ),
            NatHintCheck => {
                f.write_str("NAT mapping change suspected: liveness check with NAT detection")
            }
            NatDifferentFromInit => f.write_str(
                "NAT_DETECTION_DESTINATION_IP differs from the IKE_SA_INIT result (port 500, before the float to 4500): the mapping may have changed, updating",
            ),
            NatMappingChanged => f.write_str(
                "NAT_DETECTION_DESTINATION_IP differs from the last result: NAT mapping changed",
            ),
            CannotResolve { gw } => write!(
                f,
                "cannot follow the redirect to {gw}: no name resolution here"
            ),
            RedirectIgnored => f.write_str(
                "REDIRECT ignored: only the original responder may redirect, and only a peer that supports it",
            ),
            Refused { kind, from } => {
                write!(f, "{kind} to the request from {from}: nothing changes")
            }
            OlderList { mid } => write!(
                f,
                "address list in request {mid} is older than the one already taken: ignored"
            ),
            OlderUpdate { mid } => write!(
                f,
                "UPDATE_SA_ADDRESSES {mid} is older than one already handled: no action"
            ),
            UpdateFromResponder => f.write_str("UPDATE_SA_ADDRESSES from the responder ignored"),
            FollowingList { why, to } => write!(f, "{why}: following to {to} at once"),
            MoveAnswered { at } => write!(f, "client answered at {at}: IPsec SAs move there"),
            ListAgain => f.write_str("the list went out from several addresses: sending it again"),
            EspElsewhere {
                src,
                dst,
                sa_remote,
                sa_local,
            } => write!(
                f,
                "ESP from {src} to {dst}, but the IPsec SA uses {sa_remote} -> {sa_local}: not taken as liveness evidence"
            ),
            RedirectAcknowledged { to } => {
                write!(f, "client acknowledged the redirect to {to}")
            }
            RedirectLoop { to, max, period_s } => write!(
                f,
                "not following the redirect to {to}: {max} redirects within {period_s} s (a loop)"
            ),
        }
    }
}

/// Why an input was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// A UDP datagram on port 4500 that is neither IKE, ESP nor a keepalive.
    NotIkeOrEsp,
    /// Responder under load: an IKE_SA_INIT without the COOKIE it must
    /// return was answered with N(COOKIE), no state kept (RFC 7296 §2.6).
    CookieRequired { half_open: usize, wrong: bool },
    /// Responder: the half-open limit is reached; the IKE_SA_INIT is
    /// dropped.
    HalfOpenLimit { limit: u32 },
    /// The IKE header does not parse.
    Header(WireError),
    /// The datagram's length disagrees with the IKE header's.
    Length { octets: usize, header: u32 },
    /// No IKE SA with these SPIs.
    UnknownSpis { spi_i: u64, spi_r: u64 },
    /// An ESP packet shorter than its header.
    EspTooShort,
    /// ESP for an SPI we have no inbound SA for.
    UnknownEspSpi { spi: u32 },
    /// ESP that does not open.
    Esp(WireError),
    /// ESP replayed or outside the replay window (RFC 4303 §3.4.3).
    EspReplay { seq: u32 },
    /// An IKE_SA_INIT request that does not parse.
    InitMalformed(WireError),
    /// No acceptable proposal, KE or nonce.
    InitUnacceptable,
    /// The peer's KE does not give a shared secret.
    InitKe(WireError),
    /// Key derivation failed.
    KeyDerivation(WireError),
    /// The IKE SA is deleted.
    SaDeleted,
    /// A request that does not open (integrity check, length).
    Request {
        exchange: ExchangeType,
        error: WireError,
    },
    /// A request outside our receive window (RFC 7296 §2.3).
    MessageId {
        got: u32,
        expected: u32,
        window: u32,
    },
    /// A request of an exchange the IKE SA does not take in its state.
    NotExpected {
        exchange: ExchangeType,
        state: crate::SaState,
    },
    /// IKE_AUTH without IDi or AUTH.
    AuthIncomplete,
    /// A response to a request already answered or given up.
    LateResponse { mid: u32 },
    /// A response to a request never sent.
    UnsolicitedResponse { mid: u32 },
    /// A response that does not open.
    Response {
        exchange: ExchangeType,
        error: WireError,
    },
    /// An IKE_SA_INIT response that does not parse.
    InitResponseMalformed(WireError),
    /// An IKE_SA_INIT response when none is expected.
    InitResponseUnexpected,
    /// An IKE_SA_INIT response without KE or Nr.
    InitResponseIncomplete,
    /// The responder's KE does not give a shared secret.
    InitResponseKe(WireError),
    /// REDIRECT in IKE_SA_INIT although we never offered Redirect.
    RedirectNotOffered,
    /// REDIRECT whose Nonce Data is not our Ni (an off-path forgery).
    RedirectNonce,
    /// A REDIRECT notify that does not parse.
    RedirectMalformed,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Rejection::*;
        match self {
            NotIkeOrEsp => f.write_str("datagram on port 4500 is neither IKE, ESP nor a keepalive"),
            CookieRequired { half_open, wrong } => write!(
                f,
                "IKE_SA_INIT {} COOKIE with {half_open} half-open IKE SAs: answered with N(COOKIE), no state kept (RFC 7296 §2.6)",
                if *wrong { "with a wrong" } else { "without a" }
            ),
            HalfOpenLimit { limit } => write!(
                f,
                "IKE_SA_INIT dropped: {limit} half-open IKE SAs, the limit"
            ),
            Header(e) => write!(f, "IKE header: {e}"),
            Length { octets, header } => write!(
                f,
                "datagram holds {octets} octets, the IKE header says {header}"
            ),
            UnknownSpis { spi_i, spi_r } => {
                write!(f, "no IKE SA with SPIs {spi_i:016x}/{spi_r:016x}")
            }
            EspTooShort => f.write_str("ESP packet shorter than its header"),
            UnknownEspSpi { spi } => write!(f, "ESP for unknown SPI {spi:08x}"),
            Esp(e) => write!(f, "ESP: {e}"),
            EspReplay { seq } => write!(f, "ESP sequence number {seq} replayed or too old"),
            InitMalformed(e) => write!(f, "IKE_SA_INIT: {e}"),
            InitUnacceptable => {
                f.write_str("IKE_SA_INIT without an acceptable SA, KE (group 31) or Ni")
            }
            InitKe(e) => write!(f, "IKE_SA_INIT KE: {e}"),
            KeyDerivation(e) => write!(f, "key derivation: {e}"),
            SaDeleted => f.write_str("message for a deleted IKE SA"),
            Request { exchange, error } => write!(f, "{exchange} request: {error}"),
            MessageId {
                got,
                expected,
                window,
            } if *window <= 1 => write!(
                f,
                "request with message ID {got} while expecting {expected}"
            ),
            MessageId {
                got,
                expected,
                window,
            } => write!(
                f,
                "request with message ID {got} outside our window {expected}..{}",
                expected + window - 1
            ),
            NotExpected { exchange, state } => {
                write!(f, "{exchange} request not expected in state {state:?}")
            }
            AuthIncomplete => f.write_str("IKE_AUTH request without IDi or AUTH"),
            LateResponse { mid } => write!(
                f,
                "late copy of the response {mid}: already answered or given up, discarded"
            ),
            UnsolicitedResponse { mid } => {
                write!(f, "response {mid} to a request we never sent")
            }
            Response { exchange, error } => write!(f, "{exchange} response: {error}"),
            InitResponseMalformed(e) => write!(f, "IKE_SA_INIT response: {e}"),
            InitResponseUnexpected => f.write_str("unexpected IKE_SA_INIT response"),
            InitResponseIncomplete => f.write_str("IKE_SA_INIT response without KE or Nr"),
            InitResponseKe(e) => write!(f, "IKE_SA_INIT response KE: {e}"),
            RedirectNotOffered => {
                f.write_str("REDIRECT in IKE_SA_INIT, but we did not send REDIRECT_SUPPORTED")
            }
            RedirectNonce => {
                f.write_str("REDIRECT whose Nonce Data is not our Ni: ignored (RFC 5685)")
            }
            RedirectMalformed => f.write_str("malformed REDIRECT in IKE_SA_INIT"),
        }
    }
}

/// Why this endpoint deletes an IKE SA of its own accord, with an
/// INFORMATIONAL Delete exchange (RFC 7296 §1.4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalDelete {
    /// The user asked for it.
    ByUser,
    /// A newer IKE SA (after a redirect) replaces it.
    Replaced { by: IpAddr },
    /// Our rekey made the IKE SA with this initiator SPI, which replaces
    /// it (RFC 7296 §1.3.2).
    Rekeyed { new_spi_i: u64 },
    /// Two IKE SA rekeys crossed and ours made this redundant one; the IKE
    /// SA with initiator SPI `stays` stays (RFC 7296 §2.8.2).
    Redundant { stays: u64 },
}

impl fmt::Display for LocalDelete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalDelete::ByUser => f.write_str("deleted by the user"),
            LocalDelete::Replaced { by } => write!(f, "replaced by the IKE SA with {by}"),
            LocalDelete::Rekeyed { new_spi_i } => {
                write!(f, "rekeyed: replaced by the IKE SA {new_spi_i:016x}")
            }
            LocalDelete::Redundant { stays } => write!(
                f,
                "redundant: two rekeys crossed and the IKE SA {stays:016x} stays"
            ),
        }
    }
}

/// Why an IKE SA is gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteReason {
    /// A request was retransmitted until the limit (I-2.1-6).
    NoResponse {
        what: &'static str,
        mid: u32,
        retransmissions: u32,
    },
    /// IKE_SA_INIT unanswered: a new one goes to the next address (§3.1).
    NextDestination { from: IpAddr, next: IpAddr },
    /// The peer's AUTH did not verify (RFC 7296 §2.15).
    AuthFailed { id: String },
    /// The peer's AUTH verified, but for another identity than the one
    /// it must have (RFC 7296 §2.15, §2.21.2).
    UnexpectedIdentity { expected: String, got: String },
    /// Responder: NO_NATS_ALLOWED did not match the IP header (M-3.9-2).
    NatProhibited { src: SocketAddr, dst: SocketAddr },
    /// Responder: the client was redirected in IKE_AUTH.
    RedirectedClient { client: SocketAddr, to: IpAddr },
    /// The peer deleted it.
    PeerDeleted,
    /// The peer deleted it after rekeying it: the IKE SA with this
    /// initiator SPI replaces it (RFC 7296 §1.3.2).
    PeerRekeyed { new_spi_i: u64 },
    /// The peer deleted the redundant IKE SA of two crossed rekeys, which
    /// it made; the IKE SA with initiator SPI `stays` stays (RFC 7296
    /// §2.8.2).
    PeerRedundant { stays: u64 },
    /// A rekey replaced it (or it was the redundant IKE SA of two crossed
    /// rekeys) and in `waited_s` seconds the peer's Delete never came, or
    /// ours (`our_delete`) was never answered: it goes without one. The
    /// IKE SA with initiator SPI `successor` carries on.
    RetiredWaitOver {
        successor: u64,
        redundant: bool,
        our_delete: bool,
        waited_s: u64,
    },
    /// Our own Delete exchange completed.
    Local(LocalDelete),
    /// A COOKIE2 came back changed (M-3.7-7).
    Cookie2Mismatch(Cookie2Exchange),
    /// We were redirected in IKE_SA_INIT.
    RedirectedInInit { gw: GwIdentity },
    /// We were redirected in IKE_AUTH.
    RedirectedInAuth { gw: GwIdentity },
    /// IKE_AUTH response with a REDIRECT we cannot follow.
    RedirectNotFollowed,
    /// UNEXPECTED_NAT_DETECTED in IKE_AUTH (M-3.9-4).
    UnexpectedNat { retrying: bool },
    /// The responder sent AUTHENTICATION_FAILED.
    AuthenticationFailed,
    /// IKE_AUTH response without IDr or AUTH.
    AuthResponseIncomplete,
    /// UNACCEPTABLE_ADDRESSES and the old addresses are gone (M-3.5-2).
    Refused { address: SocketAddr },
    /// UNEXPECTED_NAT_DETECTED on every retry (M-3.9-3).
    NatRetriesExhausted,
}

impl DeleteReason {
    /// The rule the deletion follows.
    pub fn rule(&self) -> Rule {
        use DeleteReason::*;
        Rule::new(match self {
            NoResponse { .. } => "RFC 7296 §2.1, I-2.1-6",
            NextDestination { .. } => "RFC 4555 §3.1 (one IKE_SA_INIT per destination)",
            AuthFailed { .. } => "RFC 7296 §2.15",
            UnexpectedIdentity { .. } => "RFC 7296 §2.15, §2.21.2",
            NatProhibited { .. } => "RFC 4555 §3.9, M-3.9-2",
            RedirectedClient { .. } | RedirectedInAuth { .. } => {
                "RFC 5685 (redirect during IKE_AUTH)"
            }
            PeerDeleted | Local(LocalDelete::ByUser | LocalDelete::Replaced { .. }) => {
                "RFC 7296 §1.4.1"
            }
            PeerRekeyed { .. } | Local(LocalDelete::Rekeyed { .. }) => "RFC 7296 §1.3.2, §2.18",
            PeerRedundant { .. } => "RFC 7296 §2.8.2",
            RetiredWaitOver {
                redundant: false, ..
            } => "RFC 7296 §1.3.2, §2.18 (strongSwan's wait)",
            RetiredWaitOver {
                redundant: true, ..
            } => "RFC 7296 §2.8.2 (strongSwan's wait)",
            Local(LocalDelete::Redundant { .. }) => "RFC 7296 §2.8.2",
            Cookie2Mismatch(Cookie2Exchange::Liveness) => "RFC 4555 §3.7, §5.3, M-3.7-7",
            Cookie2Mismatch(_) => "RFC 4555 §3.7, M-3.7-7",
            RedirectedInInit { .. } => "RFC 5685 (redirect during IKE_SA_INIT)",
            RedirectNotFollowed => "RFC 5685",
            UnexpectedNat { .. } => "RFC 4555 §3.9, M-3.9-4",
            AuthenticationFailed => "RFC 7296 §2.21.2",
            AuthResponseIncomplete => "RFC 7296 §1.2",
            Refused { .. } => "RFC 4555 §3.5, M-3.5-2",
            NatRetriesExhausted => "RFC 4555 §3.9, M-3.9-3",
        })
    }

    /// The reason without its rule.
    pub fn text(&self) -> String {
        use DeleteReason::*;
        match self {
            NoResponse {
                what,
                mid,
                retransmissions,
            } => format!(
                "no response to {what} (message ID {mid}) after {retransmissions} retransmissions"
            ),
            NextDestination { from, next } => {
                format!("no answer from {from}: a new IKE_SA_INIT to {next}")
            }
            AuthFailed { id } => format!("AUTH from {id} did not verify"),
            UnexpectedIdentity { expected, got } => {
                format!("the peer is {got}, not {expected} as configured")
            }
            NatProhibited { src, dst } => format!(
                "NO_NATS_ALLOWED does not match {src} -> {dst}: an address translator is on the way"
            ),
            RedirectedClient { client, to } => {
                format!("client {client} redirected to {to} in IKE_AUTH, no Child SA")
            }
            PeerDeleted => "the peer deleted the IKE SA".into(),
            PeerRekeyed { new_spi_i } => {
                format!("rekeyed by the peer: replaced by the IKE SA {new_spi_i:016x}")
            }
            PeerRedundant { stays } => format!(
                "redundant: two rekeys crossed, the peer made it and deletes it; the IKE SA {stays:016x} stays"
            ),
            RetiredWaitOver {
                successor,
                redundant,
                our_delete,
                waited_s,
            } => format!(
                "{}: {} in {waited_s} s, so it goes without one; the IKE SA {successor:016x} carries on",
                if *redundant {
                    "redundant after two crossed rekeys"
                } else {
                    "replaced by a rekey"
                },
                if *our_delete {
                    "our Delete was not answered"
                } else {
                    "the peer's Delete never came"
                }
            ),
            Local(why) => why.to_string(),
            Cookie2Mismatch(x) => format!(
                "COOKIE2 mismatch in {}",
                match x {
                    Cookie2Exchange::Update => "UPDATE_SA_ADDRESSES response",
                    Cookie2Exchange::ReturnRoutability => "return routability response",
                    Cookie2Exchange::Liveness => "liveness check response",
                }
            ),
            RedirectedInInit { gw } => format!("redirected to {gw} in IKE_SA_INIT"),
            RedirectedInAuth { gw } => format!("redirected to {gw} in IKE_AUTH"),
            RedirectNotFollowed => "IKE_AUTH response with a REDIRECT we cannot follow".into(),
            UnexpectedNat { retrying } => format!(
                "responder found an address translator (UNEXPECTED_NAT_DETECTED){}",
                if *retrying {
                    ", retrying with a new IKE_SA_INIT"
                } else {
                    ", no retries left"
                }
            ),
            AuthenticationFailed => "responder sent AUTHENTICATION_FAILED".into(),
            AuthResponseIncomplete => "IKE_AUTH response without IDr or AUTH".into(),
            Refused { address } => {
                format!("responder refused {address} and the old addresses are gone")
            }
            NatRetriesExhausted => "UNEXPECTED_NAT_DETECTED on every retry".into(),
        }
    }
}

/// "the reason (the rule)".
impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.text(), self.rule())
    }
}

display_as_text!(Rejection, DeleteReason);

/// A note is written as its `text` and its `rule`.
impl Serialize for Note {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Text<'a>(&'a Note);
        impl Serialize for Text<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                as_text(self.0, s)
            }
        }
        let mut st = s.serialize_struct("Note", 2)?;
        st.serialize_field("text", &Text(self))?;
        st.serialize_field("rule", &self.rule())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checklist_ids_are_read_from_citations() {
        assert_eq!(
            Rule::new("RFC 4555 §3.5 (B-3.5-15), §3.6 (B-3.6-3)").ids(),
            ["B-3.5-15", "B-3.6-3"]
        );
        assert_eq!(
            Rule::new("RFC 4555 §3.12 (M-3.12-1, M-3.12-2)").ids(),
            ["M-3.12-1", "M-3.12-2"]
        );
        assert_eq!(Rule::new("RFC 7296 §2.1, I-2.1-6").ids(), ["I-2.1-6"]);
        assert!(Rule::new("RFC 3948 §4 (U-4-2)").cites("U-4-2"));
        assert!(Rule::new("RFC 5685 (REDIRECTED_FROM)").ids().is_empty());
        assert!(Rule::new("reference §6.2 S-R1").ids().is_empty());
        assert!(!Rule::new("RFC 4555 §3.7 (M-3.7-1)").cites("M-3.7-10"));
    }

    #[test]
    fn every_note_cites_a_rule_and_reads_as_before() {
        let n = Note::Moving {
            why: MoveReason::LocalAddressGone {
                address: "192.0.2.1".parse().unwrap(),
            },
            local: "198.51.100.1:4500".parse().unwrap(),
            remote: "203.0.113.1:4500".parse().unwrap(),
        };
        assert_eq!(
            n.to_string(),
            "local address 192.0.2.1 is gone: IKE SA moves to 198.51.100.1:4500 -> 203.0.113.1:4500"
        );
        assert_eq!(n.rule().cite(), "RFC 4555 §3.5 (lower-layer trigger)");
        let d = DeleteReason::Cookie2Mismatch(Cookie2Exchange::Update);
        assert_eq!(
            d.to_string(),
            "COOKIE2 mismatch in UPDATE_SA_ADDRESSES response (RFC 4555 §3.7, M-3.7-7)"
        );
        assert!(d.rule().cites("M-3.7-7"));
        let r = Rejection::MessageId {
            got: 9,
            expected: 4,
            window: 3,
        };
        assert_eq!(
            r.to_string(),
            "request with message ID 9 outside our window 4..6"
        );
    }
}
