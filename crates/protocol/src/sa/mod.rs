//! One IKE SA: IKE_SA_INIT, IKE_AUTH, and the MOBIKE procedures of RFC 4555
//! on the established SA. Checklist ids refer to shared/spec/mobike-reference.md §2.14.

use crate::IpProtocol;
use crate::{EndpointConfig, Event, ListPolicy, Role, Time, Transmit};
use mobike_wire::crypto::{self, IkeKeys, X25519};
use mobike_wire::esp::{self, EspSa};
use mobike_wire::header::{Flags, Header};
use mobike_wire::message::{self, Message, has_notify, notify_data};
use mobike_wire::payload::{Identification, Notify, Payload, Proposal, TrafficSelector};
use mobike_wire::registry::{ExchangeType, NotifyType, TransformType, transform_id};
use mobike_wire::udp::{IKE_PORT, NATT_PORT, frame_ike};
use rand_chacha::ChaCha20Rng;
use rand_core::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

mod addresses;
mod child;
mod liveness;
mod nat;
mod redirect;
mod setup;
mod snapshot;
mod update;
mod window;

pub use snapshot::{OutstandingSnapshot, SaSnapshot};
use window::{ReqKind, Request};

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

/// How a new IKE SA comes about.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct InitOptions {
    pub peer: IpAddr,
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
            redirected_from: None,
            replaces: None,
            attempt: 0,
            next_peers: Vec::new(),
        }
    }
}

/// What an SA asks of its endpoint (it cannot make or find other SAs).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Action {
    Initiate(InitOptions),
    Delete { spi_i: u64, reason: String },
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
}

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

#[derive(Clone)]
pub(crate) struct IkeSa {
    role: Role,
    state: SaState,
    spi_i: u64,
    spi_r: u64,
    dh: X25519,
    ni: Vec<u8>,
    nr: Vec<u8>,
    keys: Option<IkeKeys>,
    /// RealMessage1 / RealMessage2 for AUTH (RFC 7296 §2.15).
    init_request: Vec<u8>,
    init_response: Vec<u8>,
    iv_counter: u64,
    local: SocketAddr,
    remote: SocketAddr,
    ipsec: Option<(SocketAddr, SocketAddr)>,
    udp_encap: bool,
    peer_addrs: Vec<IpAddr>,
    mobike: bool,
    /// The peer sent NAT detection payloads in IKE_SA_INIT.
    peer_natt: bool,
    /// NAT traversal is in effect: both sides sent NAT-D (RFC 7296 §2.23).
    natt: bool,
    /// The addresses before the last move, to fall back to (M-3.5-2).
    previous_path: Option<(SocketAddr, SocketAddr)>,
    /// UPDATE_SA_ADDRESSES retries after UNEXPECTED_NAT_DETECTED (M-3.9-3).
    nat_retries: u32,
    local_behind_nat: bool,
    peer_behind_nat: bool,
    /// The NAT_DETECTION_DESTINATION_IP value a liveness response should
    /// carry if the NAT mapping is unchanged (RFC 4555 §3.8).
    natd_baseline: Option<[u8; 20]>,
    /// The NAT_DETECTION_DESTINATION_IP of the IKE_SA_INIT response.
    natd_init: Option<[u8; 20]>,
    pending_update: bool,
    generation: u32,
    next_mid: u32,
    /// The lowest message ID of the peer's we have not answered yet.
    expect_mid: u32,
    /// Our requests waiting for their responses, oldest first: at most the
    /// peer's window (RFC 7296 §2.3, I-2.3-3, I-2.3-5).
    outstanding: Vec<Request>,
    queue: VecDeque<ReqKind>,
    /// Responses we sent, with the request each answers (to recognise
    /// retransmissions): the last `window_size` of them (I-2.3-6).
    answered: std::collections::BTreeMap<u32, (Vec<u8>, Vec<u8>)>,
    /// The request being handled, stored with its response.
    current_request: Vec<u8>,
    /// Newest UPDATE_SA_ADDRESSES and address list request handled
    /// (B-3.5-8, B-3.6-2).
    newest_update: Option<u32>,
    newest_list: Option<u32>,
    last_rx: Time,
    last_tx: Time,
    liveness_interval: Option<Time>,
    keepalive_interval: Time,
    /// Our inbound Child SA SPI (in our SA payload) and the peer's.
    child_spi: u32,
    peer_child_spi: u32,
    esp_out: Option<EspSa>,
    esp_in: Option<EspSa>,
    esp_seq: u32,
    /// Highest sequence number received and the 64-packet replay window
    /// below it (RFC 4303 §3.4.3).
    esp_highest: u32,
    esp_window: u64,
    /// The peer sent REDIRECT_SUPPORTED or REDIRECTED_FROM (RFC 5685).
    peer_redirect: bool,
    redirected_from: Option<IpAddr>,
    /// The IKE SA this one replaces (after a redirect), deleted once this
    /// one is established.
    replaces: Option<u64>,
    /// IKE_SA_INIT attempt after UNEXPECTED_NAT_DETECTED (M-3.9-4).
    attempt: u32,
    /// Responder addresses still to try (RFC 4555 §3.1).
    next_peers: Vec<IpAddr>,
    /// Responder: our own move in progress, the address we left.
    moved_from: Option<SocketAddr>,
    /// Responder: the list to announce during a deliberate move.
    announce_only: Option<Vec<IpAddr>>,
    /// The peer's window (SET_WINDOW_SIZE), 1 until it says otherwise.
    peer_window: u32,
    /// ESP seen from addresses other than the IPsec SA's (M-3.12-1), noted once.
    esp_mismatch: Option<(SocketAddr, SocketAddr)>,
    last_path_test: Time,
    path_test_interval: Option<Time>,
}

/// The IKE port for an address of this SA: 4500 once NAT traversal moved
/// the SA there (RFC 4555 §3.3), else 500 (with no non-ESP marker).
fn ike_addr(natt: bool, addr: IpAddr) -> SocketAddr {
    SocketAddr::new(addr, if natt { NATT_PORT } else { IKE_PORT })
}

fn natt(addr: IpAddr) -> SocketAddr {
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

/// RFC 4555 §3.9 (M-3.9-2): a NO_NATS_ALLOWED that does not match the IP
/// header shows an address translator on the way. Its contents are used for
/// nothing but this comparison (M-3.9-5).
fn nat_prohibition_violated(payloads: &[Payload], src: SocketAddr, dst: SocketAddr) -> bool {
    payloads
        .iter()
        .filter_map(Payload::as_notify)
        .filter(|n| n.kind == NotifyType::NO_NATS_ALLOWED)
        .any(|n| match mobike_wire::notify::NotifyData::parse(n) {
            Ok(mobike_wire::notify::NotifyData::NoNatsAllowed { src: s, dst: d }) => {
                (s, d) != (src, dst)
            }
            _ => true,
        })
}

fn no_nats_allowed(src: SocketAddr, dst: SocketAddr) -> Option<Payload> {
    Notify::no_nats_allowed(src, dst).ok().map(Payload::Notify)
}

/// The retransmission schedule of our requests: the responder's is long
/// (RFC 4555 §3.11, M-3.11-1).
fn schedule(role: Role, settings: &crate::Settings) -> &crate::Retransmit {
    match role {
        Role::Initiator => &settings.retransmit,
        Role::Responder => &settings.responder_retransmit,
    }
}

/// The group 31 key exchange data and the nonce of an IKE_SA_INIT message.
fn ke_and_nonce(payloads: &[Payload]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let ke = payloads.iter().find_map(|p| match p {
        Payload::Ke { group, data } if *group == transform_id::DH_CURVE25519 => Some(data.clone()),
        _ => None,
    });
    let nonce = payloads.iter().find_map(|p| match p {
        Payload::Nonce(n) => Some(n.clone()),
        _ => None,
    });
    (ke, nonce)
}

/// The SPI of the ESP proposal in an SA payload.
fn esp_spi(payloads: &[Payload]) -> Option<u32> {
    payloads.iter().find_map(|p| match p {
        Payload::Sa(props) => props.iter().find_map(|pr| {
            (pr.protocol == mobike_wire::registry::ProtocolId::ESP)
                .then(|| {
                    <[u8; 4]>::try_from(pr.spi.as_slice())
                        .ok()
                        .map(u32::from_be_bytes)
                })
                .flatten()
        }),
        _ => None,
    })
}

/// N(SET_WINDOW_SIZE) when our window is above the default 1 (RFC 7296
/// §2.3).
fn set_window_size(ctx: &Ctx) -> Option<Payload> {
    let w = ctx.config.settings.window_size;
    (w > 1).then(|| notify(NotifyType::SET_WINDOW_SIZE, w.to_be_bytes().to_vec()))
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

    fn blank(ctx: &mut Ctx, role: Role, local: SocketAddr, remote: SocketAddr) -> IkeSa {
        let secret: [u8; 32] = ctx.random(32).try_into().unwrap_or([1; 32]);
        IkeSa {
            role,
            state: SaState::InitSent,
            spi_i: 0,
            spi_r: 0,
            dh: X25519::from_seed(secret),
            ni: Vec::new(),
            nr: Vec::new(),
            keys: None,
            init_request: Vec::new(),
            init_response: Vec::new(),
            iv_counter: 0,
            local,
            remote,
            ipsec: None,
            udp_encap: false,
            peer_addrs: vec![remote.ip()],
            mobike: false,
            peer_natt: false,
            natt: false,
            previous_path: None,
            nat_retries: 0,
            local_behind_nat: false,
            peer_behind_nat: false,
            natd_baseline: None,
            natd_init: None,
            pending_update: false,
            generation: 0,
            next_mid: 0,
            expect_mid: 0,
            outstanding: Vec::new(),
            queue: VecDeque::new(),
            answered: std::collections::BTreeMap::new(),
            current_request: Vec::new(),
            newest_update: None,
            newest_list: None,
            last_rx: ctx.now,
            last_tx: ctx.now,
            liveness_interval: ctx.config.settings.liveness_interval,
            keepalive_interval: ctx.config.settings.keepalive_interval,
            child_spi: 0,
            peer_child_spi: 0,
            esp_out: None,
            esp_in: None,
            esp_seq: 0,
            esp_highest: 0,
            esp_window: 0,
            peer_redirect: false,
            redirected_from: None,
            replaces: None,
            attempt: 0,
            next_peers: Vec::new(),
            moved_from: None,
            announce_only: None,
            peer_window: 1,
            esp_mismatch: None,
            last_path_test: ctx.now,
            path_test_interval: ctx.config.settings.path_test_interval,
        }
    }

    pub fn is_established(&self) -> bool {
        self.state == SaState::Established
    }

    fn set_pending(&mut self, ctx: &mut Ctx, pending: bool) {
        if self.pending_update != pending {
            self.pending_update = pending;
            ctx.events.push_back(Event::PendingUpdate {
                spi_i: self.spi_i,
                pending,
            });
        }
    }

    fn note(&self, ctx: &mut Ctx, text: impl Into<String>, rule: &str) {
        ctx.events.push_back(Event::Note {
            spi_i: self.spi_i,
            text: text.into(),
            rule: rule.to_string(),
        });
    }

    fn reject(&self, ctx: &mut Ctx, src: SocketAddr, dst: SocketAddr, reason: impl Into<String>) {
        ctx.events.push_back(Event::Rejected {
            src,
            dst,
            reason: reason.into(),
        });
    }

    fn header(&self, exchange: ExchangeType, mid: u32, response: bool) -> Header {
        Header {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            next_payload: mobike_wire::PayloadType::None,
            exchange,
            // I flag: set by the original initiator (RFC 7296 §3.1).
            flags: Flags::new(self.role == Role::Initiator, response),
            message_id: mid,
            length: 0,
        }
    }

    fn my_key(&self) -> Option<&crypto::GcmKey> {
        let k = self.keys.as_ref()?;
        Some(if self.role == Role::Initiator {
            &k.sk_ei
        } else {
            &k.sk_er
        })
    }

    fn peer_key(&self) -> Option<&crypto::GcmKey> {
        let k = self.keys.as_ref()?;
        Some(if self.role == Role::Initiator {
            &k.sk_er
        } else {
            &k.sk_ei
        })
    }

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

    // --------------------------------------------------------------- sending

    fn transmit(&mut self, ctx: &mut Ctx, src: SocketAddr, dst: SocketAddr, ike: &[u8]) {
        ctx.out.push_back(Transmit {
            src,
            dst,
            payload: frame_ike(ike, src.port(), dst.port()),
            protocol: IpProtocol::Udp,
        });
        self.last_tx = ctx.now;
    }

    fn delete(&mut self, ctx: &mut Ctx, reason: String, rule: &str) {
        self.state = SaState::Deleted;
        self.outstanding.clear();
        self.queue.clear();
        ctx.events.push_back(Event::Deleted {
            spi_i: self.spi_i,
            reason: format!("{reason} ({rule})"),
        });
    }

    /// Delete this IKE SA with an INFORMATIONAL exchange (RFC 7296 §1.4.1).
    pub fn start_delete(&mut self, ctx: &mut Ctx, reason: &str) {
        if self.state != SaState::Established {
            return;
        }
        self.queue.clear();
        self.queue(
            ctx,
            ReqKind::Delete {
                reason: reason.to_string(),
            },
        );
    }

    // -------------------------------------------------------------- receiving

    pub fn handle(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) {
        if self.state == SaState::Deleted {
            self.reject(ctx, src, dst, "message for a deleted IKE SA");
            return;
        }
        if header.flags.response() {
            self.handle_response(ctx, src, dst, header, bytes);
        } else {
            self.handle_request(ctx, src, dst, header, bytes);
        }
    }

    fn handle_request(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) {
        // RFC 7296 §2.1 (I-2.1-1, I-2.1-2): a retransmitted request only
        // makes us send the cached response again, to where it came from.
        if let Some((req, resp)) = self.answered.get(&header.message_id) {
            let resp = resp.clone();
            // A copy that is not bit for bit the request we answered must at
            // least pass the integrity check before it may trigger anything
            // (RFC 7296 §2.1).
            if bytes != req.as_slice()
                && (header.exchange != ExchangeType::IKE_SA_INIT || header.message_id != 0)
                && let Err(e) = self.open(bytes)
            {
                self.reject(ctx, src, dst, format!("{} request: {e}", header.exchange));
                return;
            }
            self.transmit(ctx, dst, src, &resp);
            return;
        }
        // Our receive window (RFC 7296 §2.3): the lowest unanswered ID and
        // the window_size - 1 after it.
        let window = if self.state == SaState::Established {
            ctx.config.settings.window_size.max(1)
        } else {
            1
        };
        if header.message_id < self.expect_mid
            || header.message_id >= self.expect_mid.saturating_add(window)
        {
            self.reject(
                ctx,
                src,
                dst,
                if window == 1 {
                    format!(
                        "request with message ID {} while expecting {}",
                        header.message_id, self.expect_mid
                    )
                } else {
                    format!(
                        "request with message ID {} outside our window {}..{}",
                        header.message_id,
                        self.expect_mid,
                        self.expect_mid + window - 1
                    )
                },
            );
            return;
        }
        let inner = match self.open(bytes) {
            Ok(p) => p,
            Err(e) => {
                self.reject(ctx, src, dst, format!("{} request: {e}", header.exchange));
                return;
            }
        };
        self.last_rx = ctx.now;
        self.current_request = bytes.to_vec();
        self.follow_nat_rebinding(ctx, src);
        match header.exchange {
            ExchangeType::IKE_AUTH
                if self.role == Role::Responder && self.state == SaState::InitDone =>
            {
                self.handle_auth_request(ctx, src, dst, header, &inner);
            }
            ExchangeType::INFORMATIONAL if self.state == SaState::Established => {
                self.handle_informational_request(ctx, src, dst, header, &inner);
            }
            other => self.reject(
                ctx,
                src,
                dst,
                format!("{other} request not expected in state {:?}", self.state),
            ),
        }
    }

    fn open(&self, bytes: &[u8]) -> Result<Vec<Payload>, mobike_wire::WireError> {
        let key = self.peer_key().ok_or(mobike_wire::WireError::NoKeys)?;
        message::decrypt(bytes, key)
    }

    fn handle_informational_request(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        inner: &[Payload],
    ) {
        let mid = header.message_id;
        if inner.iter().any(|p| {
            matches!(p, Payload::Delete(d) if d.protocol == mobike_wire::registry::ProtocolId::IKE)
        }) {
            // RFC 7296 §1.4.1: an empty response, and the IKE SA is gone.
            if let Some(resp) = self.encrypt(ExchangeType::INFORMATIONAL, mid, true, &[]) {
                self.send_response(ctx, mid, resp, dst, src);
            }
            self.delete(
                ctx,
                "the peer deleted the IKE SA".into(),
                "RFC 7296 §1.4.1",
            );
            return;
        }
        if let Some(n) = inner
            .iter()
            .filter_map(Payload::as_notify)
            .find(|n| n.kind == NotifyType::REDIRECT)
        {
            if let Some(resp) = self.encrypt(ExchangeType::INFORMATIONAL, mid, true, &[]) {
                self.send_response(ctx, mid, resp, dst, src);
            }
            match mobike_wire::notify::NotifyData::parse(n) {
                Ok(mobike_wire::notify::NotifyData::Redirect { gw, .. })
                    if self.role == Role::Initiator && ctx.config.settings.redirect =>
                {
                    let me = self.spi_i;
                    self.follow_redirect(ctx, &gw, "INFORMATIONAL", Some(me));
                }
                _ => self.note(
                    ctx,
                    "REDIRECT ignored: only the original responder may redirect, and only a peer that supports it",
                    "RFC 5685",
                ),
            }
            return;
        }
        let update = has_notify(inner, NotifyType::UPDATE_SA_ADDRESSES);
        let has_natd = has_notify(inner, NotifyType::NAT_DETECTION_SOURCE_IP);
        let has_list = inner.iter().any(|p| {
            p.as_notify().is_some_and(|n| {
                matches!(
                    n.kind,
                    NotifyType::ADDITIONAL_IP4_ADDRESS
                        | NotifyType::ADDITIONAL_IP6_ADDRESS
                        | NotifyType::NO_ADDITIONAL_ADDRESSES
                )
            })
        });
        // Refusals come before any state change: a translator where NATs are
        // not allowed (M-3.9-2), or addresses our policy does not accept
        // (B-3.5-9). The response goes to the request's source either way.
        let refusal = if !self.mobike || !(update || has_list) {
            None
        } else if !self.natt && nat_prohibition_violated(inner, src, dst) {
            Some(NotifyType::UNEXPECTED_NAT_DETECTED)
        } else if update
            && self.role == Role::Responder
            && ctx.config.settings.refuse_addresses.contains(&src.ip())
        {
            Some(NotifyType::UNACCEPTABLE_ADDRESSES)
        } else {
            None
        };
        let mut out = Vec::new();
        if let Some(kind) = refusal {
            out.push(notify(kind, vec![]));
        } else if has_natd && self.mobike {
            // M-3.8-2: NAT-D in the request ⇒ NAT-D in the response, for the
            // addresses this packet really used.
            out.extend(self.natd_pair(dst, src));
        }
        // M-3.7-5: COOKIE2 copied as it is.
        if let Some(c) = notify_data(inner, NotifyType::COOKIE2) {
            out.push(notify(NotifyType::COOKIE2, c.to_vec()));
        }
        if let Some(resp) = self.encrypt(ExchangeType::INFORMATIONAL, mid, true, &out) {
            self.send_response(ctx, mid, resp, dst, src);
        }
        if let Some(kind) = refusal {
            self.note(
                ctx,
                format!("{kind} to the request from {src}: nothing changes"),
                if kind == NotifyType::UNACCEPTABLE_ADDRESSES {
                    "RFC 4555 §3.5, B-3.5-9"
                } else {
                    "RFC 4555 §3.9, M-3.9-2, M-3.9-5"
                },
            );
            return;
        }
        if !self.mobike {
            return;
        }
        let older_list = has_list && self.newest_list.is_some_and(|m| mid < m);
        if has_list && !older_list {
            // B-3.6-1: the complete list replaces the old one, the IP header
            // address always part of it.
            self.newest_list = Some(mid);
            self.set_peer_addresses(ctx, src.ip(), inner);
        } else if older_list {
            // B-3.6-2: with a window above 1 an older list can arrive after
            // a newer one; it is answered and otherwise ignored.
            self.note(
                ctx,
                format!(
                    "address list in request {mid} is older than the one already taken: ignored"
                ),
                "RFC 4555 §3.6 (B-3.6-2)",
            );
        }
        let older_update = update && self.newest_update.is_some_and(|m| mid < m);
        if update && self.role == Role::Responder && older_update {
            // B-3.5-8: answered as usual, but nothing moves.
            self.note(
                ctx,
                format!("UPDATE_SA_ADDRESSES {mid} is older than one already handled: no action"),
                "RFC 4555 §3.5 (B-3.5-8)",
            );
        } else if update && self.role == Role::Responder {
            self.newest_update = Some(mid);
            self.handle_update_request(ctx, src, dst, inner);
        } else if update {
            self.note(
                ctx,
                "UPDATE_SA_ADDRESSES from the responder ignored",
                "RFC 4555 §3.5",
            );
        } else if has_list
            && self.role == Role::Initiator
            && !self.peer_addrs.contains(&self.remote.ip())
        {
            // §3.5 trigger: the responder's list dropped the address in use.
            let why = format!(
                "responder's address list no longer holds {}",
                self.remote.ip()
            );
            match ctx.config.settings.list_policy {
                ListPolicy::Strict => {
                    let local = self.local;
                    self.move_to(
                        ctx,
                        local,
                        ike_addr(self.natt, src.ip()),
                        &why,
                        "RFC 4555 §3.5 (re-evaluation trigger), §3.6; policy strict",
                    );
                }
                ListPolicy::Follow => {
                    // The request came from (src) to (dst), so that pair
                    // works both ways: IKE and IPsec SAs follow at once.
                    self.previous_path = Some((self.local, self.remote));
                    self.local = dst;
                    self.remote = src;
                    self.generation += 1;
                    ctx.events.push_back(Event::IkePathChanged {
                        spi_i: self.spi_i,
                        local: dst,
                        remote: src,
                    });
                    self.note(
                        ctx,
                        format!("{why}: following to {src} at once"),
                        "RFC 4555 §3.6; policy follow (as strongSwan)",
                    );
                    self.set_ipsec(ctx, dst, src);
                }
            }
        }
        // Otherwise (liveness, path test): no other action; the IKE SA does
        // not move (M-3.8-6).
    }

    fn handle_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) {
        let late = header.message_id < self.next_mid;
        let Some(pos) = self
            .outstanding
            .iter()
            .position(|r| r.mid == header.message_id)
        else {
            self.reject(
                ctx,
                src,
                dst,
                if late {
                    format!(
                        "late copy of the response {}: already answered or given up, discarded",
                        header.message_id
                    )
                } else {
                    format!("response {} to a request we never sent", header.message_id)
                },
            );
            return;
        };
        if header.exchange == ExchangeType::IKE_SA_INIT {
            self.handle_init_response(ctx, src, dst, header, bytes);
            return;
        }
        let inner = match self.open(bytes) {
            Ok(p) => p,
            Err(e) => {
                self.reject(ctx, src, dst, format!("{} response: {e}", header.exchange));
                return;
            }
        };
        self.last_rx = ctx.now;
        let req = self.outstanding.remove(pos);
        ctx.events.push_back(Event::RequestDone {
            spi_i: self.spi_i,
            mid: req.mid,
        });
        self.follow_nat_rebinding(ctx, src);
        match req.kind.clone() {
            ReqKind::Auth => self.handle_auth_response(ctx, src, dst, &inner),
            ReqKind::Liveness | ReqKind::PathTest => {
                self.handle_liveness_response(ctx, src, dst, &req, &inner)
            }
            ReqKind::LivenessRr => {
                // M-3.7-6, M-3.7-7 as for any COOKIE2.
                if notify_data(&inner, NotifyType::COOKIE2) != req.cookie2.as_deref() {
                    self.delete(
                        ctx,
                        "COOKIE2 mismatch in liveness check response".into(),
                        "RFC 4555 §3.7, §5.3, M-3.7-7",
                    );
                    return;
                }
                self.handle_liveness_response(ctx, src, dst, &req, &inner)
            }
            ReqKind::Update => self.handle_update_response(ctx, src, dst, &req, &inner),
            ReqKind::Delete { reason } => {
                self.delete(ctx, reason, "RFC 7296 §1.4.1");
                return;
            }
            ReqKind::Redirect { to } => self.note(
                ctx,
                format!("client acknowledged the redirect to {to}"),
                "RFC 5685",
            ),
            ReqKind::AddressList => {
                if self.role == Role::Responder
                    && self.moved_from.is_some_and(|old| old.ip() != dst.ip())
                    && (dst, src) == (self.local, self.remote)
                {
                    // Our own move was answered on the new pair: that
                    // pair works both ways, the IPsec SAs follow.
                    self.moved_from = None;
                    self.note(
                        ctx,
                        format!("client answered at {}: IPsec SAs move there", dst.ip()),
                        "reference §6.2 S-R1",
                    );
                    self.set_ipsec(ctx, dst, src);
                }
                if req.probing
                    && self.role == Role::Initiator
                    && (dst, src) != (self.local, self.remote)
                {
                    // The pair that answered works; the update that
                    // follows carries the list again (M-3.6-1).
                    self.move_to(
                        ctx,
                        dst,
                        src,
                        "address list update answered on another address pair",
                        "RFC 4555 §3.6 (M-3.6-2), §3.10",
                    );
                } else if req.multi_source {
                    // M-3.6-2: sent from several source addresses, so
                    // the peer may have taken the list with another
                    // one in the IP header: send it again, once.
                    self.note(
                        ctx,
                        "the list went out from several addresses: sending it again",
                        "RFC 4555 §3.6, M-3.6-2",
                    );
                    self.queue.push_back(ReqKind::AddressList);
                }
            }
            ReqKind::ReturnRoutability { local, remote } => {
                // M-3.7-6, M-3.7-7: the COOKIE2 must come back unchanged.
                if notify_data(&inner, NotifyType::COOKIE2) != req.cookie2.as_deref() {
                    self.delete(
                        ctx,
                        "COOKIE2 mismatch in return routability response".into(),
                        "RFC 4555 §3.7, M-3.7-7",
                    );
                    return;
                }
                if req.retargeted {
                    // It went to an older address too (B-3.7-1): no proof
                    // for the current one; check again.
                    let (l, r) = (self.local, self.remote);
                    self.queue.push_back(ReqKind::ReturnRoutability {
                        local: l,
                        remote: r,
                    });
                } else if (local, remote) == (self.local, self.remote) {
                    self.set_ipsec(ctx, local, remote);
                }
            }
            ReqKind::Init => {}
        }
        self.send_queued(ctx);
    }
}
