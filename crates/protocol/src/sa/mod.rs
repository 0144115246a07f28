//! One IKE SA as a lifecycle (rustls's `Expect*` states, quinn's `State`):
//! each state owns the data it needs, so the key exchange, the nonces and
//! the IKE_SA_INIT messages live only while the SA is set up, and an
//! established SA owns its keys, its Child SA and its MOBIKE state.
//!
//! The procedures are split as the RFCs split them, each an `impl IkeSa`
//! block of its own file:
//!
//! | file | procedure |
//! |---|---|
//! | `exchange.rs` | receiving: requests and responses to the procedure that handles them |
//! | `window.rs` | message IDs, the request window, retransmission (RFC 7296 §2.1, §2.3) |
//! | `setup.rs` | IKE_SA_INIT and IKE_AUTH, both roles (RFC 7296 §1.2, RFC 4555 §3.1–§3.3) |
//! | `nat.rs` | NAT detection, NAT prohibition (RFC 7296 §2.23, RFC 4555 §3.8–§3.9) |
//! | `update.rs` | UPDATE_SA_ADDRESSES (RFC 4555 §3.5) |
//! | `addresses.rs` | address lists, local address changes, the responder's own move (§3.4, §3.6) |
//! | `cookie2.rs` | return routability (§3.7, §5.3) |
//! | `liveness.rs` | timers, liveness checks, path testing, keepalives, hints (§3.10, RFC 3948) |
//! | `redirect.rs` | Redirect (RFC 5685) |
//! | `child.rs` | the Child SAs: ESP in and out |
//! | `rekey.rs` | rekeying the Child SA and the IKE SA with CREATE_CHILD_SA, deleting Child SAs (RFC 7296 §1.3.2, §1.3.3, §1.4.1, §2.8, §2.18) |
//! | `snapshot.rs` | the state as the UI shows it |
//!
//! Checklist ids refer to shared/spec/mobike-reference.md §2.14.

use crate::reason::{DeleteReason, LocalDelete, Note, Rejection};
use crate::{EndpointConfig, Event, IpProtocol, Role, Time, Transmit};
use mobike_wire::crypto::{self, GcmKey, IkeKeys, X25519};
use mobike_wire::header::{Flags, Header};
use mobike_wire::message::Message;
use mobike_wire::payload::{Notify, Payload, TrafficSelector};
use mobike_wire::registry::{ExchangeType, NotifyType};
use mobike_wire::udp::{IKE_PORT, NATT_PORT, frame_ike};
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

mod addresses;
mod child;
mod cookie2;
mod exchange;
mod liveness;
mod nat;
mod redirect;
mod rekey;
mod setup;
mod snapshot;
mod update;
mod window;

use child::ChildSa;
use nat::NatState;
pub use snapshot::{ChildSnapshot, OutstandingSnapshot, SaSnapshot};
use window::{AfterCheck, Job, Task, Window};

/// Everything an SA needs from its endpoint while handling one input.
pub(crate) struct Ctx<'a> {
    pub now: Time,
    pub config: &'a EndpointConfig,
    pub local_addrs: &'a [IpAddr],
    pub rng: &'a mut ChaCha20Rng,
    pub out: &'a mut VecDeque<Transmit>,
    pub events: &'a mut VecDeque<Event>,
    pub actions: &'a mut Vec<Action>,
}

impl Ctx<'_> {
    fn random(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.rng.fill_bytes(&mut v);
        v
    }

    fn nonzero_u64(&mut self) -> u64 {
        loop {
            let v = self.rng.next_u64();
            if v != 0 {
                return v;
            }
        }
    }

    fn event(&mut self, e: Event) {
        self.events.push_back(e);
    }

    /// A decision of the IKE SA `spi_i`, with its rule.
    pub(crate) fn note(&mut self, spi_i: u64, note: Note) {
        self.events.push_back(Event::Note {
            spi_i,
            note: Box::new(note),
        });
    }

    /// Input that was not accepted.
    pub(crate) fn reject(&mut self, src: SocketAddr, dst: SocketAddr, reason: Rejection) {
        self.events.push_back(Event::Rejected {
            src,
            dst,
            reason: Box::new(reason),
        });
    }
}

/// How a new IKE SA comes about.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct InitOptions {
    pub peer: IpAddr,
    pub origin: Origin,
}

/// Where an initiator's IKE SA comes from: what its setup needs to retry,
/// fall back or replace (kept only while it is set up).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Origin {
    /// The gateway that redirected us here (RFC 5685 REDIRECTED_FROM).
    pub redirected_from: Option<IpAddr>,
    /// The IKE SA this one replaces: deleted once this one is up.
    pub replaces: Option<u64>,
    /// Attempt number after UNEXPECTED_NAT_DETECTED in IKE_AUTH (M-3.9-4).
    pub attempt: u32,
    /// Other addresses of the same responder, tried in turn with a new
    /// IKE_SA_INIT each when this one goes unanswered (RFC 4555 §3.1).
    pub next_peers: Vec<IpAddr>,
}

impl InitOptions {
    pub fn to(peer: IpAddr) -> Self {
        InitOptions {
            peer,
            origin: Origin::default(),
        }
    }
}

/// What an SA asks of its endpoint (it cannot make or find other SAs).
#[derive(Clone)]
pub(crate) enum Action {
    Initiate(InitOptions),
    Delete {
        spi_i: u64,
        reason: LocalDelete,
    },
    /// A rekey made this IKE SA (RFC 7296 §1.3.2): the endpoint keeps it.
    Adopt(Box<IkeSa>),
}

/// The IKE SA's state as the UI and the scenario expectations name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaState {
    /// Initiator: IKE_SA_INIT sent.
    InitSent,
    /// Responder: IKE_SA_INIT answered, waiting for IKE_AUTH.
    InitDone,
    /// Initiator: IKE_AUTH sent.
    AuthSent,
    Established,
    Deleted,
}

/// Initiator, IKE_SA_INIT sent: the key exchange and our nonce.
#[derive(Clone)]
struct ExpectInitResponse {
    dh: X25519,
    ni: Vec<u8>,
    /// RealMessage1 for our AUTH (RFC 7296 §2.15).
    init_request: Vec<u8>,
    origin: Origin,
    /// COOKIEs the responder asked for so far (RFC 7296 §2.6).
    cookies: u8,
}

/// Responder, IKE_SA_INIT answered: what IKE_AUTH is checked against.
#[derive(Clone)]
struct ExpectAuthRequest {
    keys: IkeKeys,
    ni: Vec<u8>,
    nr: Vec<u8>,
    init_request: Vec<u8>,
    init_response: Vec<u8>,
}

/// Initiator, IKE_AUTH sent.
#[derive(Clone)]
struct ExpectAuthResponse {
    keys: IkeKeys,
    ni: Vec<u8>,
    nr: Vec<u8>,
    init_response: Vec<u8>,
    /// Our inbound Child SA SPI, offered in IKE_AUTH.
    child_spi: u32,
    /// IKE_AUTH asked for no Child SA (RFC 6023).
    childless: bool,
    /// NAT_DETECTION_DESTINATION_IP of the IKE_SA_INIT response (M-3.8-3).
    natd_init: Option<[u8; 20]>,
    origin: Origin,
}

/// An established IKE SA: its keys, its IPsec SAs and MOBIKE state.
#[derive(Clone)]
struct Established {
    /// Shared by copies (a checkpoint copies every SA): they never change.
    keys: std::sync::Arc<IkeKeys>,
    /// Both sent MOBIKE_SUPPORTED (M-3.2-1).
    mobike: bool,
    /// The IPsec SAs' tunnel header addresses (RFC 4555 §3.3).
    ipsec: (SocketAddr, SocketAddr),
    udp_encap: bool,
    /// The Child SAs, oldest first: the one made with IKE_AUTH (none if
    /// the peer offered no ESP), then those that replaced it by rekeying.
    /// The newest carries our traffic; an older one is kept, and its
    /// inbound packets taken, until one side deletes it (RFC 7296 §1.4.1,
    /// §2.8).
    children: child::Children,
    /// ESP seen from addresses other than the IPsec SA's (M-3.12-1), noted once.
    esp_mismatch: Option<(SocketAddr, SocketAddr)>,
    /// The NAT_DETECTION_DESTINATION_IP value a liveness response should
    /// carry if the NAT mapping is unchanged (RFC 4555 §3.8).
    natd_baseline: Option<[u8; 20]>,
    /// The NAT_DETECTION_DESTINATION_IP of the IKE_SA_INIT response.
    natd_init: Option<[u8; 20]>,
    /// RFC 4555 §3.5 steps 1 and 5.
    pending_update: bool,
    /// Counts address changes; an update made before the newest change is
    /// outdated (B-3.5-6).
    generation: u32,
    /// The addresses before the last move, to fall back to (M-3.5-2).
    previous_path: Option<(SocketAddr, SocketAddr)>,
    /// UPDATE_SA_ADDRESSES retries after UNEXPECTED_NAT_DETECTED (M-3.9-3).
    nat_retries: u32,
    /// Newest UPDATE_SA_ADDRESSES and address list request handled
    /// (B-3.5-8, B-3.6-2).
    newest_update: Option<u32>,
    newest_list: Option<u32>,
    /// Responder: our own move in progress, the address we left.
    moved_from: Option<SocketAddr>,
    /// Responder: the list to announce during a deliberate move.
    announce_only: Option<Vec<IpAddr>>,
    /// The next UPDATE_SA_ADDRESSES is for a changed NAT mapping, not a
    /// local address change (`Settings::list_in_nat_updates`).
    update_for_nat: bool,
    /// When this IKE SA was made (set up, or by a rekey): its lifetime
    /// runs from here (RFC 7296 §2.8).
    ike_born: Time,
    /// A refused Child SA rekey is tried again no earlier than this (RFC
    /// 7296 §2.25; 0: none refused).
    child_retry_after: Time,
    /// The same for a refused IKE SA rekey.
    ike_retry_after: Time,
}

/// Where the IKE SA is in its life; each state owns its data.
#[derive(Clone)]
enum Lifecycle {
    ExpectInitResponse(Box<ExpectInitResponse>),
    ExpectAuthRequest(Box<ExpectAuthRequest>),
    ExpectAuthResponse(Box<ExpectAuthResponse>),
    Established(Box<Established>),
    /// Gone; an SA deleted after it was established keeps its last state
    /// for the panels.
    Deleted(Option<Box<Established>>),
}

#[derive(Clone)]
pub(crate) struct IkeSa {
    role: Role,
    spi_i: u64,
    spi_r: u64,
    /// The IKE SA's address pair.
    local: SocketAddr,
    remote: SocketAddr,
    /// The peer's addresses: at first the one we talk to, then its
    /// announced list (RFC 4555 §3.4, §3.6), the IP header's first.
    peer_addrs: Vec<IpAddr>,
    nat: NatState,
    window: Window,
    /// Counter behind the SK payloads' IVs: unique for the key (RFC 5282).
    iv_counter: u64,
    last_rx: Time,
    last_tx: Time,
    /// The last periodic path test (M-3.10-1), at first the SA's creation.
    last_path_test: Time,
    /// The peer sent REDIRECT_SUPPORTED or REDIRECTED_FROM (RFC 5685).
    peer_redirect: bool,
    /// An address change waiting for `Settings::reaction_delay`: when to
    /// act on it and our addresses before it.
    reaction: Option<(Time, Vec<IpAddr>)>,
    /// We are the original initiator of this IKE SA in RFC 7296's sense
    /// (the I flag, SK_ei): at first the MOBIKE initiator, after a rekey
    /// whoever started it. The MOBIKE role (`role`) never changes (RFC
    /// 4555 §1.3).
    orig_initiator: bool,
    /// A rekey replaced this IKE SA with the one of this initiator SPI: it
    /// only waits for its Delete (RFC 7296 §1.3.2).
    rekeyed_to: Option<u64>,
    /// Once replaced, when it stops waiting for the peer's Delete or the
    /// answer to its own and goes without one (`rekey::RETIRED_WAIT`).
    retired_until: Time,
    /// Our IKE SA rekey is waiting for its answer and the peer's crossed
    /// it: the IKE SA we made answering the peer's, until ours is answered
    /// and the nonces tell which of the two stays (RFC 7296 §2.8.2).
    crossed: Option<Box<rekey::CrossedIkeRekey>>,
    /// The redundant IKE SA of two crossed rekeys: it only waits for its
    /// Delete (RFC 7296 §2.8.2).
    redundant: bool,
    life: Lifecycle,
}

/// The IKE port for an address of this SA: 4500 once NAT traversal moved
/// the SA there (RFC 4555 §3.3), else 500 (with no non-ESP marker).
fn ike_addr(natt: bool, addr: IpAddr) -> SocketAddr {
    SocketAddr::new(addr, if natt { NATT_PORT } else { IKE_PORT })
}

fn natt_port(addr: IpAddr) -> SocketAddr {
    SocketAddr::new(addr, NATT_PORT)
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

fn notify(kind: NotifyType, data: Vec<u8>) -> Payload {
    Payload::Notify(Notify::new(kind, data))
}

fn any_ts() -> Vec<TrafficSelector> {
    vec![TrafficSelector::range(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V4(Ipv4Addr::BROADCAST),
    )]
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl IkeSa {
    pub fn spi_i(&self) -> u64 {
        self.spi_i
    }

    pub fn spi_r(&self) -> u64 {
        self.spi_r
    }

    /// An SA of `role` on this address pair, in `life`.
    fn new(ctx: &Ctx, role: Role, local: SocketAddr, remote: SocketAddr, life: Lifecycle) -> IkeSa {
        IkeSa {
            role,
            spi_i: 0,
            spi_r: 0,
            local,
            remote,
            peer_addrs: vec![remote.ip()],
            nat: NatState::default(),
            window: Window::default(),
            iv_counter: 0,
            last_rx: ctx.now,
            last_tx: ctx.now,
            last_path_test: ctx.now,
            peer_redirect: false,
            reaction: None,
            orig_initiator: role == Role::Initiator,
            rekeyed_to: None,
            retired_until: 0,
            crossed: None,
            redundant: false,
            life,
        }
    }

    /// The fields a timer of the SA reads first, for
    /// [`crate::Endpoint::warm`].
    pub fn warm(&self) {
        std::hint::black_box((
            self.window.outstanding.len(),
            self.window.queue.len(),
            self.last_rx,
            self.last_tx,
            self.last_path_test,
            self.reaction.is_some(),
            self.rekeyed_to,
            self.retired_until,
            self.nat.natt,
        ));
        if let Lifecycle::Established(e) = &self.life {
            std::hint::black_box((e.generation, e.pending_update, e.children.newest_in()));
        }
    }

    pub fn state(&self) -> SaState {
        match &self.life {
            Lifecycle::ExpectInitResponse(_) => SaState::InitSent,
            Lifecycle::ExpectAuthRequest(_) => SaState::InitDone,
            Lifecycle::ExpectAuthResponse(_) => SaState::AuthSent,
            Lifecycle::Established(_) => SaState::Established,
            Lifecycle::Deleted(_) => SaState::Deleted,
        }
    }

    pub fn is_established(&self) -> bool {
        matches!(self.life, Lifecycle::Established(_))
    }

    pub fn is_deleted(&self) -> bool {
        matches!(self.life, Lifecycle::Deleted(_))
    }

    fn est(&self) -> Option<&Established> {
        match &self.life {
            Lifecycle::Established(e) => Some(e),
            _ => None,
        }
    }

    fn est_mut(&mut self) -> Option<&mut Established> {
        match &mut self.life {
            Lifecycle::Established(e) => Some(e),
            _ => None,
        }
    }

    /// MOBIKE is in effect (an established SA on which both offered it).
    fn mobike(&self) -> bool {
        self.est().is_some_and(|e| e.mobike)
    }

    /// The IKE SA's keys, once IKE_SA_INIT is done.
    fn keys(&self) -> Option<&IkeKeys> {
        match &self.life {
            Lifecycle::ExpectAuthRequest(s) => Some(&s.keys),
            Lifecycle::ExpectAuthResponse(s) => Some(&s.keys),
            Lifecycle::Established(e) => Some(&e.keys),
            Lifecycle::ExpectInitResponse(_) | Lifecycle::Deleted(_) => None,
        }
    }

    /// The IKE SA's address pair becomes `local` -> `remote`, reported.
    fn set_ike_path(&mut self, ctx: &mut Ctx, local: SocketAddr, remote: SocketAddr) {
        self.local = local;
        self.remote = remote;
        ctx.event(Event::IkePathChanged {
            spi_i: self.spi_i,
            local,
            remote,
        });
    }

    fn note(&self, ctx: &mut Ctx, note: Note) {
        ctx.note(self.spi_i, note);
    }

    fn header(&self, exchange: ExchangeType, mid: u32, response: bool) -> Header {
        Header {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            next_payload: mobike_wire::PayloadType::None,
            exchange,
            // I flag: set by the original initiator (RFC 7296 §3.1), who
            // after a rekey is the one that started it (§2.18).
            flags: Flags::new(self.orig_initiator, response),
            message_id: mid,
            length: 0,
        }
    }

    /// SK_ei for the original initiator, SK_er for the other.
    fn my_key(&self) -> Option<&GcmKey> {
        let k = self.keys()?;
        Some(if self.orig_initiator {
            &k.sk_ei
        } else {
            &k.sk_er
        })
    }

    fn peer_key(&self) -> Option<&GcmKey> {
        let k = self.keys()?;
        Some(if self.orig_initiator {
            &k.sk_er
        } else {
            &k.sk_ei
        })
    }

    /// An SK message of ours (AES-GCM-16, RFC 5282).
    fn encrypt(
        &mut self,
        exchange: ExchangeType,
        mid: u32,
        response: bool,
        inner: &[Payload],
    ) -> Option<Vec<u8>> {
        self.iv_counter += 1;
        let iv = self.iv_counter.to_be_bytes();
        let header = self.header(exchange, mid, response);
        let key = self.my_key()?;
        Message::emit_encrypted(header, inner, key, iv).ok()
    }

    fn open(&self, bytes: &[u8]) -> Result<Vec<Payload>, mobike_wire::WireError> {
        let key = self.peer_key().ok_or(mobike_wire::WireError::NoKeys)?;
        mobike_wire::message::decrypt(bytes, key)
    }

    fn transmit(&mut self, ctx: &mut Ctx, src: SocketAddr, dst: SocketAddr, ike: &[u8]) {
        ctx.out.push_back(Transmit {
            src,
            dst,
            payload: frame_ike(ike, src.port()),
            protocol: IpProtocol::Udp,
        });
        self.last_tx = ctx.now;
    }

    /// The IKE SA is gone: nothing outstanding or queued stays.
    fn delete(&mut self, ctx: &mut Ctx, reason: DeleteReason) {
        let last = match std::mem::replace(&mut self.life, Lifecycle::Deleted(None)) {
            Lifecycle::Established(e) => Some(e),
            Lifecycle::Deleted(last) => last,
            _ => None,
        };
        self.life = Lifecycle::Deleted(last);
        self.window.clear();
        ctx.event(Event::Deleted {
            spi_i: self.spi_i,
            reason,
        });
    }

    /// Delete this IKE SA with an INFORMATIONAL exchange (RFC 7296 §1.4.1).
    pub fn start_delete(&mut self, ctx: &mut Ctx, reason: LocalDelete) {
        if !self.is_established() {
            return;
        }
        self.window.queue.clear();
        self.queue(ctx, Job::Delete(reason));
    }
}
