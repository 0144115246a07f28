//! The binary form in which the page and its simulation worker talk: a
//! command one way, the run's new trace events and views the other.
//!
//! The trace's serde form is one-way (the JSON document writes a note or a
//! rejection as its sentence, and a request's kind is a `&'static str`), so
//! the worker cannot hand its events over as JSON. [`Codec`] writes each
//! value as its structure instead: a variant as its position in the list
//! the `codec_enum!` below gives, fields in order, integers as LEB128. Both
//! ends are this same build of the page, so no version is written; a value
//! that does not read back is an error naming what was being read, never a
//! panic. Values that already read back through serde (the scenario, an
//! intervention, the hosts' views) go as JSON inside it.

use mobike_protocol::reason::{
    Cookie2Exchange, DeleteReason, LocalDelete, MoveReason, Note, Rejection, RekeyWhy, Rule,
};
use mobike_protocol::{
    ChildSnapshot, Event, IpProtocol, OutstandingSnapshot, Role, SaSnapshot, SaState, Spi, Subnet,
};
use mobike_sim::nat::PortForward;
use mobike_sim::shared::{Addr, Bytes, Name};
use mobike_sim::{
    AddressView, Direction, DropReason, Filtering, HostView, InterfaceView, LinkView,
    MappingBehaviour, MappingGone, MappingView, NatBehaviour, NatRefusal, NatView, Permit,
    TraceEvent, TraceKind,
};
use mobike_wire::WireError;
use mobike_wire::crypto::{GcmKey, IkeKeys};
use mobike_wire::notify::GwIdentity;
use mobike_wire::registry::{ExchangeType, NotifyType};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

/// Why a message did not read back: what was being read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecError(pub String);

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T> = std::result::Result<T, CodecError>;

/// Where a message is written.
#[derive(Default)]
pub struct Enc {
    pub buf: Vec<u8>,
}

impl Enc {
    fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
}

/// The names a reader has met, so that every event naming "client-7"
/// shares one [`Name`] (the trace keeps a table of names by identity).
#[derive(Default)]
pub struct Names(FxHashMap<String, Name>);

/// Where a message is read from.
pub struct Dec<'a> {
    rest: &'a [u8],
    at: usize,
    names: &'a mut Names,
}

impl<'a> Dec<'a> {
    pub fn new(bytes: &'a [u8], names: &'a mut Names) -> Dec<'a> {
        Dec {
            rest: bytes,
            at: 0,
            names,
        }
    }

    pub fn error(&self, what: &str) -> CodecError {
        CodecError(format!("{what} at octet {}", self.at))
    }

    /// The whole message was read.
    pub fn finish(&self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.error("octets left over"))
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(self.error("message ends early"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        self.at += n;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.error("integer longer than 64 bits"))
    }

    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = usize::try_from(self.varint()?).map_err(|_| self.error("length"))?;
        self.take(n)
    }

    fn string(&mut self) -> Result<&'a str> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| self.error("text that is not UTF-8"))
    }
}

/// A value the page and its worker exchange.
pub trait Codec: Sized {
    fn enc(&self, e: &mut Enc);
    fn dec(d: &mut Dec) -> Result<Self>;
}

/// `value` as a message.
pub fn to_bytes<T: Codec>(value: &T) -> Vec<u8> {
    let mut e = Enc::default();
    value.enc(&mut e);
    e.buf
}

/// A whole message as a `T`, its names shared through `names`.
pub fn from_bytes<T: Codec>(bytes: &[u8], names: &mut Names) -> Result<T> {
    let mut d = Dec::new(bytes, names);
    let v = T::dec(&mut d)?;
    d.finish()?;
    Ok(v)
}

macro_rules! codec_int {
    ($($t:ty),*) => {$(
        impl Codec for $t {
            fn enc(&self, e: &mut Enc) {
                e.varint(*self as u64);
            }
            fn dec(d: &mut Dec) -> Result<Self> {
                let v = d.varint()?;
                <$t>::try_from(v).map_err(|_| d.error(concat!("a ", stringify!($t), " out of range")))
            }
        }
    )*};
}
codec_int!(u16, u32, u64, usize);

impl Codec for u8 {
    fn enc(&self, e: &mut Enc) {
        e.byte(*self);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        d.byte()
    }
}

impl Codec for bool {
    fn enc(&self, e: &mut Enc) {
        e.byte(u8::from(*self));
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        match d.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(d.error("a boolean that is neither 0 nor 1")),
        }
    }
}

impl Codec for f64 {
    fn enc(&self, e: &mut Enc) {
        e.buf.extend_from_slice(&self.to_le_bytes());
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let b = d.take(8)?;
        Ok(f64::from_le_bytes(b.try_into().expect("eight octets")))
    }
}

impl Codec for String {
    fn enc(&self, e: &mut Enc) {
        e.bytes(self.as_bytes());
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        d.string().map(str::to_string)
    }
}

/// The `&'static str`s the engine's values hold (a request's kind, a
/// rule's citation, what a parser was reading), read back as the one
/// leaked copy of each text: the build has a fixed set of them.
fn interned(text: &str) -> &'static str {
    static TEXTS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut texts = TEXTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = texts.get(text) {
        return t;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    texts.insert(leaked);
    leaked
}

impl Codec for &'static str {
    fn enc(&self, e: &mut Enc) {
        e.bytes(self.as_bytes());
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        d.string().map(interned)
    }
}

impl<T: Codec> Codec for Vec<T> {
    fn enc(&self, e: &mut Enc) {
        e.varint(self.len() as u64);
        for v in self {
            v.enc(e);
        }
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let n = d.varint()?;
        // Each element takes at least one octet: a length beyond the rest
        // of the message is an error, not an allocation.
        if n > d.rest.len() as u64 {
            return Err(d.error("a list longer than the message"));
        }
        (0..n).map(|_| T::dec(d)).collect()
    }
}

impl<T: Codec> Codec for Option<T> {
    fn enc(&self, e: &mut Enc) {
        match self {
            None => e.byte(0),
            Some(v) => {
                e.byte(1);
                v.enc(e);
            }
        }
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        match d.byte()? {
            0 => Ok(None),
            1 => T::dec(d).map(Some),
            _ => Err(d.error("an option tag that is neither 0 nor 1")),
        }
    }
}

impl<T: Codec> Codec for Box<T> {
    fn enc(&self, e: &mut Enc) {
        (**self).enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        T::dec(d).map(Box::new)
    }
}

impl<T: Codec> Codec for Arc<T> {
    fn enc(&self, e: &mut Enc) {
        (**self).enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        T::dec(d).map(Arc::new)
    }
}

impl<A: Codec, B: Codec> Codec for (A, B) {
    fn enc(&self, e: &mut Enc) {
        self.0.enc(e);
        self.1.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok((A::dec(d)?, B::dec(d)?))
    }
}

impl<const N: usize> Codec for [f64; N] {
    fn enc(&self, e: &mut Enc) {
        for v in self {
            v.enc(e);
        }
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let mut out = [0.0; N];
        for v in &mut out {
            *v = f64::dec(d)?;
        }
        Ok(out)
    }
}

impl Codec for IpAddr {
    fn enc(&self, e: &mut Enc) {
        match self {
            IpAddr::V4(a) => {
                e.byte(4);
                a.enc(e);
            }
            IpAddr::V6(a) => {
                e.byte(6);
                a.enc(e);
            }
        }
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        match d.byte()? {
            4 => Ipv4Addr::dec(d).map(IpAddr::V4),
            6 => Ipv6Addr::dec(d).map(IpAddr::V6),
            _ => Err(d.error("an address family that is neither 4 nor 6")),
        }
    }
}

impl Codec for Ipv4Addr {
    fn enc(&self, e: &mut Enc) {
        e.buf.extend_from_slice(&self.octets());
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let b: [u8; 4] = d.take(4)?.try_into().expect("four octets");
        Ok(Ipv4Addr::from(b))
    }
}

impl Codec for Ipv6Addr {
    fn enc(&self, e: &mut Enc) {
        e.buf.extend_from_slice(&self.octets());
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let b: [u8; 16] = d.take(16)?.try_into().expect("sixteen octets");
        Ok(Ipv6Addr::from(b))
    }
}

impl Codec for SocketAddr {
    fn enc(&self, e: &mut Enc) {
        self.ip().enc(e);
        self.port().enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(SocketAddr::new(IpAddr::dec(d)?, u16::dec(d)?))
    }
}

impl Codec for Addr {
    fn enc(&self, e: &mut Enc) {
        self.get().enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        SocketAddr::dec(d).map(Addr::from)
    }
}

impl Codec for Name {
    fn enc(&self, e: &mut Enc) {
        e.bytes(self.as_bytes());
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let s = d.string()?;
        if let Some(n) = d.names.0.get(s) {
            return Ok(n.clone());
        }
        let n = Name::from(s);
        d.names.0.insert(s.to_string(), n.clone());
        Ok(n)
    }
}

impl Codec for Bytes {
    fn enc(&self, e: &mut Enc) {
        e.bytes(self.as_slice());
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        d.bytes().map(Bytes::from)
    }
}

impl Codec for Rule {
    fn enc(&self, e: &mut Enc) {
        self.cite().enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        <&'static str>::dec(d).map(Rule::new)
    }
}

impl Codec for NotifyType {
    fn enc(&self, e: &mut Enc) {
        self.value().enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        u16::dec(d).map(NotifyType::from)
    }
}

impl Codec for ExchangeType {
    fn enc(&self, e: &mut Enc) {
        self.value().enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        u8::dec(d).map(ExchangeType::from)
    }
}

/// Values whose serde form reads back as the same value: written as JSON.
macro_rules! codec_json {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::engine::codec::Codec for $t {
            fn enc(&self, e: &mut $crate::engine::codec::Enc) {
                let text = serde_json::to_string(self).expect("a value serde writes");
                $crate::engine::codec::Codec::enc(&text, e);
            }
            fn dec(d: &mut $crate::engine::codec::Dec) -> $crate::engine::codec::Result<Self> {
                let text = <String as $crate::engine::codec::Codec>::dec(d)?;
                serde_json::from_str(&text).map_err(|err| {
                    d.error(&format!(concat!("a ", stringify!($t), " ({})"), err))
                })
            }
        }
    )*};
}
pub(crate) use codec_json;

impl<A: Codec, B: Codec, C: Codec> Codec for (A, B, C) {
    fn enc(&self, e: &mut Enc) {
        self.0.enc(e);
        self.1.enc(e);
        self.2.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok((A::dec(d)?, B::dec(d)?, C::dec(d)?))
    }
}

impl Codec for [u8; 4] {
    fn enc(&self, e: &mut Enc) {
        e.buf.extend_from_slice(self);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(d.take(4)?.try_into().expect("four octets"))
    }
}

impl Codec for GcmKey {
    fn enc(&self, e: &mut Enc) {
        e.bytes(self.key());
        self.salt.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        let key = d.bytes()?.to_vec();
        Ok(GcmKey::new(key, <[u8; 4]>::dec(d)?))
    }
}

impl Codec for Spi {
    fn enc(&self, e: &mut Enc) {
        self.0.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        u64::dec(d).map(Spi)
    }
}

/// A struct, its fields in the order listed.
macro_rules! codec_struct {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl $crate::engine::codec::Codec for $t {
            fn enc(&self, e: &mut $crate::engine::codec::Enc) {
                $( $crate::engine::codec::Codec::enc(&self.$f, e); )*
            }
            fn dec(d: &mut $crate::engine::codec::Dec) -> $crate::engine::codec::Result<Self> {
                Ok($t { $( $f: $crate::engine::codec::Codec::dec(d)?, )* })
            }
        }
    };
}
pub(crate) use codec_struct;

/// An enum: a variant is written as its position in this list, then its
/// fields in order. Every variant must be listed (the match in `enc`
/// would otherwise not compile).
macro_rules! codec_enum {
    ($t:ident { $( $v:ident $({ $($f:ident),* $(,)? })? $(( $($p:ident),* ))? ),* $(,)? }) => {
        impl $crate::engine::codec::Codec for $t {
            #[allow(unused_assignments, unused_variables, non_snake_case)]
            fn enc(&self, e: &mut $crate::engine::codec::Enc) {
                let mut tag: u8 = 0;
                $(
                    if let $t::$v $({ $($f),* })? $(( $($p),* ))? = self {
                        $crate::engine::codec::Codec::enc(&tag, e);
                        $($( $crate::engine::codec::Codec::enc($f, e); )*)?
                        $($( $crate::engine::codec::Codec::enc($p, e); )*)?
                        return;
                    }
                    tag += 1;
                )*
                unreachable!(concat!("every variant of ", stringify!($t), " is listed"));
            }
            #[allow(unused_assignments, non_snake_case)]
            fn dec(d: &mut $crate::engine::codec::Dec) -> $crate::engine::codec::Result<Self> {
                let want = <u8 as $crate::engine::codec::Codec>::dec(d)?;
                let mut tag: u8 = 0;
                $(
                    if want == tag {
                        return Ok($t::$v
                            $({ $($f: $crate::engine::codec::Codec::dec(d)?),* })?
                            $(( $({ let $p = $crate::engine::codec::Codec::dec(d)?; $p }),* ))?
                        );
                    }
                    tag += 1;
                )*
                Err(d.error(concat!("an unknown variant of ", stringify!($t))))
            }
        }
    };
}
pub(crate) use codec_enum;

codec_struct!(TraceEvent { time, kind });

codec_struct!(IkeKeys {
    skeyseed,
    sk_d,
    sk_ei,
    sk_er,
    sk_pi,
    sk_pr
});

codec_enum!(Direction { Up, Down });

codec_enum!(SaState {
    InitSent,
    InitDone,
    AuthSent,
    Established,
    Deleted,
});

codec_enum!(Role {
    Initiator,
    Responder
});

codec_enum!(MappingBehaviour {
    EndpointIndependent,
    AddressDependent,
    AddressAndPortDependent,
});

codec_enum!(Filtering {
    EndpointIndependent,
    AddressDependent,
    AddressAndPortDependent,
});

codec_struct!(NatBehaviour {
    mapping,
    filtering,
    timeout,
    inbound_refresh,
    port_preservation,
    hairpinning,
    port_range,
});

// The views of the hosts, links and NATs (every reply carries those that
// changed).

codec_struct!(HostView {
    id,
    label,
    role,
    interfaces,
    addresses,
    sas
});

codec_struct!(InterfaceView {
    name,
    label,
    address,
    link,
    up
});

codec_struct!(AddressView {
    interface,
    address,
    present
});

codec_struct!(SaSnapshot {
    role,
    state,
    spi_i,
    spi_r,
    mobike,
    local,
    remote,
    ipsec_local,
    ipsec_remote,
    udp_encap,
    own_addresses,
    peer_addresses,
    local_behind_nat,
    peer_behind_nat,
    pending_update,
    cookie2_outstanding,
    window,
    in_flight,
    outstanding,
    next_liveness,
    next_keepalive,
    queued,
    redirect_supported,
    moving_from,
    child_sas,
    next_rekey,
    next_ike_rekey,
});

codec_struct!(ChildSnapshot {
    inbound_spi,
    outbound_spi,
    since,
    selectors,
    replaced,
});

codec_struct!(OutstandingSnapshot {
    what,
    mid,
    retransmissions,
    next_retransmit,
    probing,
});

codec_struct!(LinkView {
    id,
    label,
    up,
    uplink,
    downlink,
    delay,
    jitter,
    loss,
    duplicate,
    routes_down,
});

codec_struct!(Subnet { network, prefix });

codec_struct!(NatView {
    id,
    label,
    public_address,
    link,
    behaviour,
    forwards,
    mappings,
});

codec_struct!(PortForward { port, to });

codec_struct!(MappingView {
    internal,
    external,
    remote,
    permits,
    expires_in,
});

codec_enum!(Permit {
    Anyone,
    Address(a),
    Endpoint(to),
});

codec_enum!(TraceKind {
    Sent { packet, node, link, src, dst, payload, protocol },
    Translated { packet, nat, src, dst },
    Delivered { packet, node, src, dst },
    Dropped { packet, at, reason },
    Protocol { node, event },
    Link { link, up, direction },
    Duplicated { packet, copy, link },
    Interface { node, interface, up },
    NatPlaced { nat, link },
    NatMapping { nat, internal, external },
    NatMappingExpired { nat, internal, external },
    NatRebooted { nat, mappings_lost },
    NatAddress { nat, address },
    NatConfigured { nat, behaviour, mappings_lost },
    LinkProperties { link, delay, jitter, loss, duplicate },
    Address { node, interface, address, present, announced },
    PingSent { node, seq, reply, carried },
    PingReceived { node, seq, reply },
    Intervention { text, by_user },
});

codec_enum!(IpProtocol { Udp, Esp });

codec_enum!(DropReason {
    NoInterface { host, address },
    InterfaceDown { interface },
    AddressGone { address, interface },
    LinkBroken { link, only },
    LinkLoss { link },
    LinkBrokeInFlight { link },
    NoRoute { address },
    RouteWithdrawn { link, prefix },
    NotOnLink { link, address },
    PortUnreachable { port },
    Nat { nat, refusal },
    Other(text),
});

codec_enum!(NatRefusal {
    PlainEsp,
    NoHairpin { to },
    NoFreePort { first, last },
    Inside { address, public },
    NoMapping { port, gone },
    NotSentToAddress { from },
    NotSentToEndpoint { from },
});

codec_enum!(MappingGone {
    Expired { internal, at },
    Rebooted { internal, at },
    Reconfigured { internal, at },
});

codec_enum!(Event {
    KeysDerived { spi_i, spi_r, keys },
    ChildSa { spi_i, initiator_to_responder, responder_to_initiator },
    Established { spi_i, mobike },
    IkePathChanged { spi_i, local, remote },
    IpsecPathChanged { spi_i, local, remote, udp_encap },
    NatDetection { spi_i, local_behind_nat, peer_behind_nat },
    PeerAddresses { spi_i, addresses },
    Note { spi_i, note },
    Rejected { src, dst, reason },
    Deleted { spi_i, reason },
    PendingUpdate { spi_i, pending },
    RequestSent { spi_i, what, mid, retransmission, next_at, probing, cookie2 },
    RequestDone { spi_i, mid },
    PeerWindow { spi_i, size },
    Redirected { spi_i, to, during },
});

codec_enum!(MoveReason {
    LocalAddressGone { address },
    PeerListDropped { address },
    ListAnsweredElsewhere,
    PathTestAnsweredElsewhere,
    UpdateAnsweredElsewhere,
    PathCheckAnswered { gone },
});

codec_enum!(Cookie2Exchange {
    Update,
    ReturnRoutability,
    Liveness
});

codec_enum!(RekeyWhy {
    Lifetime,
    Asked,
    Retry
});

codec_enum!(Note {
    NoLocalAddress { peer },
    RedirectedTo { from, peer },
    InitRetry { attempt, from },
    ClientRedirectedHere { by },
    RedirectingOnInit { client, to },
    StaleNatDetection,
    FollowingRebinding { from, to },
    ProbingStarted { sends, pairs },
    CookieReturned { octets },
    PathCheck { gone, pairs },
    MoveFallback { new, old },
    Moving { why, local, remote },
    ClientEndedMove { chose, left },
    CheckingReturnRoutability { address },
    OutdatedUpdateResponse,
    RefusedFallBack { refused, local, remote },
    NatRetry { retry },
    MovingClient { to },
    NoUsableAddress { address },
    OwnAddressGone { from },
    NoUsableOwnAddress { address },
    NoChildSa { refused },
    RekeyingChild { spi, why, pfs },
    ChildRekeyed { old, new, pfs },
    RekeyCollision { redundant, by_us },
    ChildDeleted { spi, by_us },
    ChildRekeyRefused { kind, retry },
    CreateChildRefused { kind },
    ChildCreated { spi, ours, theirs },
    NewChildRefused { kind },
    RekeyingIke { why },
    IkeRekeyed { spi_i, spi_r, ours },
    IkeRekeyRefused { kind, retry },
    IkeRekeysCrossed,
    IkeRekeyCollision { redundant, by_us },
    IcmpHint { peer },
    UnwantedTrafficHint { peer },
    NatHintUpdate,
    NatHintCheck,
    NatDifferentFromInit,
    NatMappingChanged,
    CannotResolve { gw },
    RedirectIgnored,
    Refused { kind, from },
    OlderList { mid },
    OlderUpdate { mid },
    UpdateFromResponder,
    FollowingList { why, to },
    MoveAnswered { at },
    ListAgain,
    EspElsewhere { src, dst, sa_remote, sa_local },
    RedirectAcknowledged { to },
    RedirectLoop { to, max, period_s },
});

codec_enum!(Rejection {
    NotIkeOrEsp,
    CookieRequired { half_open, wrong },
    HalfOpenLimit { limit },
    Header(error),
    Length { octets, header },
    UnknownSpis { spi_i, spi_r },
    EspTooShort,
    UnknownEspSpi { spi },
    Esp(error),
    EspReplay { seq },
    InitMalformed(error),
    InitUnacceptable,
    InitKe(error),
    KeyDerivation(error),
    SaDeleted,
    Request { exchange, error },
    MessageId { got, expected, window },
    NotExpected { exchange, state },
    AuthIncomplete,
    LateResponse { mid },
    UnsolicitedResponse { mid },
    Response { exchange, error },
    InitResponseMalformed(error),
    InitResponseUnexpected,
    InitResponseIncomplete,
    InitResponseKe(error),
    RedirectNotOffered,
    RedirectNonce,
    RedirectMalformed,
});

codec_enum!(LocalDelete {
    ByUser,
    Replaced { by },
    Rekeyed { new_spi_i },
    Redundant { stays },
});

codec_enum!(DeleteReason {
    NoResponse { what, mid, retransmissions },
    NextDestination { from, next },
    AuthFailed { id },
    UnexpectedIdentity { expected, got },
    NatProhibited { src, dst },
    RedirectedClient { client, to },
    PeerDeleted,
    PeerRekeyed { new_spi_i },
    PeerRedundant { stays },
    RetiredWaitOver { successor, redundant, our_delete, waited_s },
    Local(how),
    Cookie2Mismatch(exchange),
    RedirectedInInit { gw },
    RedirectedInAuth { gw },
    RedirectNotFollowed,
    UnexpectedNat { retrying },
    AuthenticationFailed,
    AuthResponseIncomplete,
    Refused { address },
    NatRetriesExhausted,
});

codec_enum!(WireError {
    Truncated { what, need, have },
    BadLength { what, value },
    UnsupportedVersion(v),
    UnsupportedCriticalPayload(t),
    Malformed(what),
    IcvMismatch,
    NoKeys,
});

codec_enum!(GwIdentity {
    Ipv4(a),
    Ipv6(a),
    Fqdn(name),
    Other { kind, data },
});
