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

/// What a request of ours is for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ReqKind {
    Init,
    Auth,
    /// An INFORMATIONAL liveness check (RFC 7296 §2.4), with NAT-D (RFC 4555 §3.8).
    Liveness,
    /// INFORMATIONAL with UPDATE_SA_ADDRESSES (RFC 4555 §3.5).
    Update,
    /// INFORMATIONAL with the address list only (RFC 4555 §3.6).
    AddressList,
    /// The responder's return routability check of a new initiator address
    /// (RFC 4555 §3.7): an INFORMATIONAL with COOKIE2.
    ReturnRoutability {
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// A liveness check with COOKIE2 after a report of unwanted traffic
    /// (RFC 4555 §5.3, M-5.3-1).
    LivenessRr,
    /// A liveness check sent over every address pair while the current one
    /// works (RFC 4555 §3.10, M-3.10-1).
    PathTest,
    /// INFORMATIONAL with Delete of the IKE SA (RFC 7296 §1.4.1).
    Delete {
        reason: String,
    },
    /// Responder: INFORMATIONAL with N(REDIRECT) (RFC 5685).
    Redirect {
        to: IpAddr,
    },
}

impl ReqKind {
    fn label(&self) -> &'static str {
        match self {
            ReqKind::Init => "IKE_SA_INIT",
            ReqKind::Auth => "IKE_AUTH",
            ReqKind::Liveness => "liveness check",
            ReqKind::Update => "UPDATE_SA_ADDRESSES",
            ReqKind::AddressList => "address list update",
            ReqKind::ReturnRoutability { .. } => "return routability check",
            ReqKind::LivenessRr => "liveness check with COOKIE2",
            ReqKind::PathTest => "path test",
            ReqKind::Delete { .. } => "Delete",
            ReqKind::Redirect { .. } => "REDIRECT",
        }
    }
}

/// A request waiting for its response (RFC 7296 §2.1: kept until answered).
#[derive(Clone)]
struct Request {
    mid: u32,
    kind: ReqKind,
    /// The IKE message as first sent; retransmissions reuse it bit for bit (I-2.1-7).
    bytes: Vec<u8>,
    retransmissions: u32,
    next_at: Time,
    /// Sent over several address pairs (RFC 4555 §3.10 path testing).
    probing: bool,
    cookie2: Option<Vec<u8>>,
    /// The SA's address generation when this request was made (B-3.5-6).
    generation: u32,
    /// A return routability check moved to a newer address while waiting:
    /// its answer proves nothing about either (B-3.7-1).
    retargeted: bool,
    /// Sends since path testing started (for `Settings::probe`).
    probes: u32,
    /// It went out from more than one of our addresses (M-3.6-2).
    multi_source: bool,
    /// The address it first went out from.
    first_src: IpAddr,
}

/// The IKE SA's state as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SaSnapshot {
    pub role: Role,
    pub state: SaState,
    pub spi_i: String,
    pub spi_r: String,
    pub mobike: bool,
    /// The IKE SA's address pair.
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The IPsec SAs' tunnel header addresses, once IKE_AUTH is done.
    pub ipsec_local: Option<SocketAddr>,
    pub ipsec_remote: Option<SocketAddr>,
    pub udp_encap: bool,
    pub own_addresses: Vec<IpAddr>,
    pub peer_addresses: Vec<IpAddr>,
    pub local_behind_nat: bool,
    pub peer_behind_nat: bool,
    pub pending_update: bool,
    pub cookie2_outstanding: Option<String>,
    /// The peer's window: how many requests we may have outstanding.
    pub window: u32,
    /// How many of our requests are outstanding now.
    pub in_flight: u32,
    /// The oldest outstanding request: what, message ID, retransmissions, next retransmission.
    pub outstanding: Option<OutstandingSnapshot>,
    pub next_liveness: Option<Time>,
    pub next_keepalive: Option<Time>,
    /// Requests waiting for the window, in order.
    pub queued: Vec<String>,
    /// The peer supports Redirect (RFC 5685).
    pub redirect_supported: bool,
    /// A responder's own move in progress: the address it left.
    pub moving_from: Option<SocketAddr>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutstandingSnapshot {
    pub what: String,
    pub mid: u32,
    pub retransmissions: u32,
    pub next_retransmit: Time,
    pub probing: bool,
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

    /// The peer's N(SET_WINDOW_SIZE) (RFC 7296 §2.3, I-2.3-3).
    fn take_peer_window(&mut self, ctx: &mut Ctx, inner: &[Payload]) {
        if let Some(d) = notify_data(inner, NotifyType::SET_WINDOW_SIZE)
            && let Ok(b) = <[u8; 4]>::try_from(d)
        {
            let size = u32::from_be_bytes(b).max(1);
            if size != self.peer_window {
                self.peer_window = size;
                ctx.events.push_back(Event::PeerWindow {
                    spi_i: self.spi_i,
                    size,
                });
            }
        }
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

    // ----------------------------------------------------------------- setup

    /// Initiator: builds and sends IKE_SA_INIT from the preferred address.
    pub fn initiate(ctx: &mut Ctx, peer: IpAddr, opts: InitOptions) -> Option<IkeSa> {
        let family: Vec<IpAddr> = ctx
            .local_addrs
            .iter()
            .copied()
            .filter(|a| same_family(*a, peer))
            .collect();
        // A retry after UNEXPECTED_NAT_DETECTED starts from the next of our
        // addresses (M-3.9-4).
        let Some(&local_ip) = family.get(opts.attempt as usize % family.len().max(1)) else {
            ctx.events.push_back(Event::Note {
                spi_i: 0,
                text: format!("no local address to reach {peer}"),
                rule: "RFC 4555 §3.1".into(),
            });
            return None;
        };
        let local = SocketAddr::new(local_ip, IKE_PORT);
        let remote = SocketAddr::new(peer, IKE_PORT);
        let mut sa = IkeSa::blank(ctx, Role::Initiator, local, remote);
        sa.redirected_from = opts.redirected_from;
        sa.replaces = opts.replaces;
        sa.attempt = opts.attempt;
        sa.next_peers = opts.next_peers.clone();
        sa.spi_i = ctx.nonzero_u64();
        sa.ni = ctx.random(32);
        let mut payloads = vec![
            Payload::Sa(vec![Proposal::ike_default()]),
            Payload::Ke {
                group: transform_id::DH_CURVE25519,
                data: sa.dh.public().to_vec(),
            },
            Payload::Nonce(sa.ni.clone()),
        ];
        let settings = &ctx.config.settings;
        if settings.nat_traversal {
            // RFC 7296 §2.23 (I-2.23-6): NAT-D after Ni, SPIr zero as in the
            // header. The request may go out from any of our addresses
            // (M-3.1-1), so one NAT_DETECTION_SOURCE_IP per address (I-2.23-7).
            let sources: Vec<IpAddr> = if settings.multi_source_init {
                ctx.local_addrs
                    .iter()
                    .copied()
                    .filter(|a| same_family(*a, peer))
                    .collect()
            } else {
                vec![local_ip]
            };
            for a in sources {
                payloads.push(notify(
                    NotifyType::NAT_DETECTION_SOURCE_IP,
                    crypto::nat_detection_hash(sa.spi_i, 0, SocketAddr::new(a, IKE_PORT)).to_vec(),
                ));
            }
            payloads.push(notify(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                crypto::nat_detection_hash(sa.spi_i, 0, remote).to_vec(),
            ));
        }
        if settings.redirect {
            // RFC 5685: REDIRECTED_FROM replaces REDIRECT_SUPPORTED after a
            // redirect.
            match opts.redirected_from {
                Some(gw) => {
                    if let Ok(n) = Notify::redirected_from(gw.into()) {
                        payloads.push(Payload::Notify(n));
                    }
                }
                None => payloads.push(Payload::Notify(Notify::redirect_supported())),
            }
        }
        if let Some(from) = opts.redirected_from {
            sa.note(
                ctx,
                format!("redirected by {from}: new IKE SA with {peer}"),
                "RFC 5685 (REDIRECTED_FROM)",
            );
        } else if opts.attempt > 0 {
            sa.note(
                ctx,
                format!(
                    "new IKE_SA_INIT (attempt {}) from {local_ip} after UNEXPECTED_NAT_DETECTED",
                    opts.attempt + 1
                ),
                "RFC 4555 §3.9, M-3.9-4",
            );
        }
        let header = sa.header(ExchangeType::IKE_SA_INIT, 0, false);
        let bytes = Message::emit_plain(header, &payloads);
        sa.init_request = bytes.clone();
        sa.next_mid = 1;
        sa.start_request(ctx, ReqKind::Init, 0, bytes, None);
        Some(sa)
    }

    /// Responder: answers a new IKE_SA_INIT request.
    pub fn accept(
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) -> Option<IkeSa> {
        let msg = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                ctx.events.push_back(Event::Rejected {
                    src,
                    dst,
                    reason: format!("IKE_SA_INIT: {e}"),
                });
                return None;
            }
        };
        let mut sa = IkeSa::blank(ctx, Role::Responder, dst, src);
        sa.spi_i = header.spi_i;
        let proposal_ok = msg.payloads.iter().any(|p| match p {
            Payload::Sa(props) => props.iter().any(|pr| {
                pr.transform(TransformType::ENCR)
                    .is_some_and(|t| t.id == transform_id::ENCR_AES_GCM_16)
                    && pr
                        .transform(TransformType::PRF)
                        .is_some_and(|t| t.id == transform_id::PRF_HMAC_SHA2_256)
                    && pr
                        .transform(TransformType::DH)
                        .is_some_and(|t| t.id == transform_id::DH_CURVE25519)
            }),
            _ => false,
        });
        let (ke, ni) = ke_and_nonce(&msg.payloads);
        let (Some(ke), Some(ni), true) = (ke, ni, proposal_ok) else {
            sa.reject(
                ctx,
                src,
                dst,
                "IKE_SA_INIT without an acceptable SA, KE (group 31) or Ni",
            );
            return None;
        };
        sa.peer_redirect = has_notify(&msg.payloads, NotifyType::REDIRECT_SUPPORTED)
            || has_notify(&msg.payloads, NotifyType::REDIRECTED_FROM);
        if let Some(Ok(mobike_wire::notify::NotifyData::RedirectedFrom(gw))) = msg
            .payloads
            .iter()
            .filter_map(Payload::as_notify)
            .find(|n| n.kind == NotifyType::REDIRECTED_FROM)
            .map(mobike_wire::notify::NotifyData::parse)
        {
            sa.note(
                ctx,
                format!("client was redirected here by {gw}"),
                "RFC 5685 (REDIRECTED_FROM)",
            );
        }
        let settings = &ctx.config.settings;
        if let Some(gw) = settings.redirect_on_init
            && settings.redirect
            && sa.peer_redirect
            && gw != dst.ip()
        {
            // RFC 5685: a notify-only response with our SPI zero; the
            // Nonce Data is the client's Ni, so an off-path attacker cannot
            // forge it. No state is kept.
            if let Ok(n) = Notify::redirect(gw.into(), Some(&ni)) {
                let resp = Message::emit_plain(
                    sa.header(ExchangeType::IKE_SA_INIT, 0, true),
                    &[Payload::Notify(n)],
                );
                sa.note(
                    ctx,
                    format!("redirecting the new client {src} to {gw} in IKE_SA_INIT"),
                    "RFC 5685 (redirect during IKE_SA_INIT)",
                );
                sa.transmit(ctx, dst, src, &resp);
            }
            return None;
        }
        sa.spi_r = ctx.nonzero_u64();
        sa.ni = ni;
        sa.nr = ctx.random(32);
        let shared = match sa.dh.shared_secret(&ke) {
            Ok(s) => s,
            Err(e) => {
                sa.reject(ctx, src, dst, format!("IKE_SA_INIT KE: {e}"));
                return None;
            }
        };
        let keys = match IkeKeys::derive(&sa.ni, &sa.nr, &shared, sa.spi_i, sa.spi_r, 16) {
            Ok(k) => k,
            Err(e) => {
                sa.reject(ctx, src, dst, format!("key derivation: {e}"));
                return None;
            }
        };
        ctx.events.push_back(Event::KeysDerived {
            spi_i: sa.spi_i,
            spi_r: sa.spi_r,
            keys: keys.clone(),
        });
        sa.keys = Some(keys);
        // NAT detection with the request's SPIs (SPIr zero), RFC 7296 §2.23.
        sa.peer_natt = has_notify(&msg.payloads, NotifyType::NAT_DETECTION_SOURCE_IP);
        sa.natt = sa.peer_natt && ctx.config.settings.nat_traversal;
        if sa.natt {
            sa.detect_nat(ctx, &msg.payloads, header.spi_i, 0, src, dst);
        }
        sa.init_request = bytes.to_vec();
        sa.current_request = bytes.to_vec();
        let mut payloads = vec![
            Payload::Sa(vec![Proposal::ike_default()]),
            Payload::Ke {
                group: transform_id::DH_CURVE25519,
                data: sa.dh.public().to_vec(),
            },
            Payload::Nonce(sa.nr.clone()),
        ];
        if ctx.config.settings.nat_traversal {
            payloads.extend(sa.natd_pair(dst, src));
        }
        let resp = Message::emit_plain(sa.header(ExchangeType::IKE_SA_INIT, 0, true), &payloads);
        sa.init_response = resp.clone();
        sa.state = SaState::InitDone;
        sa.send_response(ctx, 0, resp, dst, src);
        Some(sa)
    }

    /// Compares received NAT-D notifies with our own hashes (RFC 7296 §2.23):
    /// no NAT_DETECTION_SOURCE_IP matches ⇒ the peer is behind a NAT; the
    /// NAT_DETECTION_DESTINATION_IP does not match ⇒ we are.
    fn detect_nat(
        &mut self,
        ctx: &mut Ctx,
        payloads: &[Payload],
        spi_i: u64,
        spi_r: u64,
        src: SocketAddr,
        dst: SocketAddr,
    ) -> Option<[u8; 20]> {
        let src_hash = crypto::nat_detection_hash(spi_i, spi_r, src);
        let dst_hash = crypto::nat_detection_hash(spi_i, spi_r, dst);
        let mut any_src = false;
        let mut src_match = false;
        let mut got_dst = None;
        for n in payloads.iter().filter_map(Payload::as_notify) {
            match n.kind {
                NotifyType::NAT_DETECTION_SOURCE_IP => {
                    any_src = true;
                    src_match |= n.data == src_hash;
                }
                NotifyType::NAT_DETECTION_DESTINATION_IP => {
                    got_dst = n.data.as_slice().try_into().ok();
                }
                _ => {}
            }
        }
        let got_dst: [u8; 20] = got_dst?;
        if !any_src {
            return None;
        }
        // A request retransmitted unchanged to another of our addresses
        // still carries NAT-D for the first one (RFC 7296 §2.1 keeps the
        // octets): that is no NAT (reference §9).
        let stale = got_dst != dst_hash
            && ctx.local_addrs.iter().any(|a| {
                *a != dst.ip()
                    && got_dst
                        == crypto::nat_detection_hash(spi_i, spi_r, SocketAddr::new(*a, dst.port()))
            });
        if stale {
            self.note(
                ctx,
                "NAT_DETECTION_DESTINATION_IP names another of our addresses: a request re-sent to a new destination, not a NAT",
                "RFC 7296 §2.1, §2.23",
            );
            return None;
        }
        let local = got_dst != dst_hash;
        let peer = !src_match;
        if local != self.local_behind_nat
            || peer != self.peer_behind_nat
            || self.state != SaState::Established
        {
            self.set_nat(ctx, local, peer);
        }
        Some(got_dst)
    }

    /// Records and reports what NAT detection found (RFC 7296 §2.23).
    fn set_nat(&mut self, ctx: &mut Ctx, local: bool, peer: bool) {
        self.local_behind_nat = local;
        self.peer_behind_nat = peer;
        ctx.events.push_back(Event::NatDetection {
            spi_i: self.spi_i,
            local_behind_nat: local,
            peer_behind_nat: peer,
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

    fn start_request(
        &mut self,
        ctx: &mut Ctx,
        kind: ReqKind,
        mid: u32,
        bytes: Vec<u8>,
        cookie2: Option<Vec<u8>>,
    ) {
        let (src, dst) = match &kind {
            ReqKind::ReturnRoutability { local, remote } => (*local, *remote),
            _ => (self.local, self.remote),
        };
        self.transmit(ctx, src, dst, &bytes);
        let req = Request {
            mid,
            kind,
            bytes,
            retransmissions: 0,
            next_at: ctx.now + schedule(self.role, &ctx.config.settings).timeout(0),
            probing: false,
            cookie2,
            generation: self.generation,
            retargeted: false,
            probes: 0,
            multi_source: false,
            first_src: src.ip(),
        };
        self.report_request(ctx, &req);
        self.outstanding.push(req);
    }

    fn report_request(&self, ctx: &mut Ctx, req: &Request) {
        ctx.events.push_back(Event::RequestSent {
            spi_i: self.spi_i,
            what: req.kind.label().to_string(),
            mid: req.mid,
            retransmission: req.retransmissions,
            next_at: req.next_at,
            probing: req.probing,
            cookie2: req.cookie2.as_deref().map(hex),
        });
    }

    fn send_response(
        &mut self,
        ctx: &mut Ctx,
        mid: u32,
        bytes: Vec<u8>,
        src: SocketAddr,
        dst: SocketAddr,
    ) {
        // RFC 7296 §2.11 (I-2.11-2, I-2.11-3): to where the request came
        // from, from where it was received.
        self.transmit(ctx, src, dst, &bytes);
        // I-2.3-6: keep the responses of the last `window` requests.
        let req = std::mem::take(&mut self.current_request);
        self.answered.insert(mid, (req, bytes));
        while self.answered.contains_key(&self.expect_mid) {
            self.expect_mid += 1;
        }
        let keep = ctx.config.settings.window_size.max(1);
        let low = self.expect_mid.saturating_sub(keep);
        self.answered.retain(|m, _| *m >= low);
    }

    /// How many requests we may have outstanding: 1 until IKE_AUTH is done
    /// (I-2.3-1), then the peer's window (I-2.3-3, I-2.3-5).
    fn window_open(&self) -> bool {
        let limit = if self.state == SaState::Established {
            self.peer_window.max(1)
        } else {
            1
        };
        (self.outstanding.len() as u32) < limit
    }

    /// Queues an INFORMATIONAL request; window size 1 (RFC 7296 §2.3, I-2.3-2):
    /// it goes out when nothing is outstanding.
    fn queue(&mut self, ctx: &mut Ctx, kind: ReqKind) {
        if !self.queue.contains(&kind) {
            self.queue.push_back(kind);
        }
        self.send_queued(ctx);
    }

    fn send_queued(&mut self, ctx: &mut Ctx) {
        while self.window_open() && self.state == SaState::Established {
            let Some(kind) = self.queue.pop_front() else {
                return;
            };
            self.send_informational(ctx, kind);
        }
    }

    fn natd_pair(&self, local: SocketAddr, remote: SocketAddr) -> [Payload; 2] {
        [
            notify(
                NotifyType::NAT_DETECTION_SOURCE_IP,
                crypto::nat_detection_hash(self.spi_i, self.spi_r, local).to_vec(),
            ),
            notify(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                crypto::nat_detection_hash(self.spi_i, self.spi_r, remote).to_vec(),
            ),
        ]
    }

    /// Our address list (RFC 4555 §3.4, §3.6): every usable address other
    /// than the one in the IP header, or NO_ADDITIONAL_ADDRESSES.
    fn address_list(&self, ctx: &Ctx) -> Vec<Payload> {
        // A responder moving its peer on purpose announces only the
        // address it moves to (reference §6.2 S-R1).
        let addrs = self.announce_only.as_deref().unwrap_or(ctx.local_addrs);
        let others: Vec<Payload> = addrs
            .iter()
            .filter(|a| **a != self.local.ip())
            .map(|a| Payload::Notify(Notify::additional_address(*a)))
            .collect();
        if others.is_empty() {
            vec![notify(NotifyType::NO_ADDITIONAL_ADDRESSES, vec![])]
        } else {
            others
        }
    }

    fn send_informational(&mut self, ctx: &mut Ctx, kind: ReqKind) {
        let mut inner = Vec::new();
        let mut cookie2 = None;
        match &kind {
            ReqKind::Liveness | ReqKind::PathTest => {
                // RFC 4555 §3.8 (M-3.8-1, M-3.8-3): NAT-D in liveness checks
                // so a changed NAT mapping shows.
                if self.mobike
                    && self.natt
                    && (ctx.config.settings.liveness_natd_always || self.local_behind_nat)
                {
                    inner.extend(self.natd_pair(self.local, self.remote));
                }
            }
            ReqKind::LivenessRr => {
                if self.mobike && self.natt {
                    inner.extend(self.natd_pair(self.local, self.remote));
                }
                // M-5.3-1: the COOKIE2 makes it a return routability test.
                let c = ctx.random(ctx.config.settings.cookie2_len.clamp(8, 64));
                inner.push(notify(NotifyType::COOKIE2, c.clone()));
                cookie2 = Some(c);
            }
            ReqKind::Delete { .. } => {
                inner.push(Payload::Delete(mobike_wire::payload::Delete::ike()));
            }
            ReqKind::Redirect { to } => match Notify::redirect((*to).into(), None) {
                Ok(n) => inner.push(Payload::Notify(n)),
                Err(_) => return,
            },
            ReqKind::Update => {
                // RFC 4555 §3.5 step 5: clears pending_update (B-3.5-5).
                self.set_pending(ctx, false);
                inner.push(notify(NotifyType::UPDATE_SA_ADDRESSES, vec![])); // B-3.5-7
                if self.natt {
                    inner.extend(self.natd_pair(self.local, self.remote));
                } else {
                    // M-3.9-1: without NAT-T, every address update carries
                    // the addresses it is sent from and to.
                    inner.extend(no_nats_allowed(self.local, self.remote));
                }
                // RFC 4555 §3.7 (M-3.7-4, M-4.2.5-1): unpredictable COOKIE2, 8..64 octets.
                let c = ctx.random(ctx.config.settings.cookie2_len.clamp(8, 64));
                inner.push(notify(NotifyType::COOKIE2, c.clone()));
                cookie2 = Some(c);
                // M-3.6-1: the address list may ride along.
                inner.extend(self.address_list(ctx));
            }
            ReqKind::AddressList => {
                inner.extend(self.address_list(ctx));
                if !self.natt {
                    inner.extend(no_nats_allowed(self.local, self.remote)); // M-3.9-1
                }
            }
            ReqKind::ReturnRoutability { .. } => {
                let c = ctx.random(ctx.config.settings.cookie2_len.clamp(8, 64));
                inner.push(notify(NotifyType::COOKIE2, c.clone()));
                cookie2 = Some(c);
            }
            ReqKind::Init | ReqKind::Auth => return,
        }
        let mid = self.next_mid;
        self.next_mid += 1;
        let Some(bytes) = self.encrypt(ExchangeType::INFORMATIONAL, mid, false, &inner) else {
            return;
        };
        let path_test = kind == ReqKind::PathTest;
        self.start_request(ctx, kind, mid, bytes.clone(), cookie2);
        if path_test {
            // M-3.10-1: the same request over every other address pair too.
            self.last_path_test = ctx.now;
            let paths = self.candidate_paths(ctx);
            for (src, dst) in paths.iter().skip(1) {
                self.transmit(ctx, *src, *dst, &bytes);
            }
            if let Some(r) = self.outstanding.last_mut() {
                r.probing = true;
                r.multi_source = paths.iter().any(|(l, _)| *l != self.local);
            }
        }
    }

    // ---------------------------------------------------------------- timers

    pub fn next_timeout(&self) -> Option<Time> {
        if self.state == SaState::Deleted {
            return None;
        }
        [
            self.outstanding.iter().map(|r| r.next_at).min(),
            self.liveness_due(),
            self.keepalive_due(),
            self.path_test_due(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn liveness_due(&self) -> Option<Time> {
        if self.role != Role::Initiator
            || self.state != SaState::Established
            || !self.outstanding.is_empty()
        {
            return None;
        }
        self.liveness_interval.map(|i| self.last_rx + i)
    }

    /// M-3.10-1: periodic path testing while the current path works.
    fn path_test_due(&self) -> Option<Time> {
        if self.role != Role::Initiator
            || self.state != SaState::Established
            || !self.mobike
            || !self.outstanding.is_empty()
        {
            return None;
        }
        self.path_test_interval.map(|i| self.last_path_test + i)
    }

    fn keepalive_due(&self) -> Option<Time> {
        // RFC 3948 §4 (U-4-2), RFC 7296 §2.23 (I-2.23-8): the side behind a
        // NAT sends keepalives when it has sent nothing for the interval.
        if self.state == SaState::Established && self.local_behind_nat {
            Some(self.last_tx + self.keepalive_interval)
        } else {
            None
        }
    }

    pub fn handle_timeout(&mut self, ctx: &mut Ctx) {
        if self.state == SaState::Deleted {
            return;
        }
        let due: Vec<u32> = self
            .outstanding
            .iter()
            .filter(|r| r.next_at <= ctx.now)
            .map(|r| r.mid)
            .collect();
        for mid in due {
            if self.state != SaState::Deleted {
                self.retransmit(ctx, mid);
            }
        }
        if self.state == SaState::Deleted {
            return;
        }
        if self.path_test_due().is_some_and(|t| t <= ctx.now) && self.queue.is_empty() {
            self.send_informational(ctx, ReqKind::PathTest);
        }
        if self.liveness_due().is_some_and(|t| t <= ctx.now) && self.queue.is_empty() {
            self.send_informational(ctx, ReqKind::Liveness);
        }
        if self.keepalive_due().is_some_and(|t| t <= ctx.now) {
            ctx.out.push_back(Transmit {
                src: self.local,
                dst: self.remote,
                payload: mobike_wire::udp::KEEPALIVE.to_vec(),
                protocol: IpProtocol::Udp,
            });
            self.last_tx = ctx.now;
        }
    }

    /// Address pairs to test, the current one first (RFC 4555 §3.10):
    /// every usable local address with every peer address of its family.
    fn candidate_paths(&self, ctx: &Ctx) -> Vec<(SocketAddr, SocketAddr)> {
        let mut v = vec![(self.local, self.remote)];
        for l in ctx.local_addrs {
            for r in &self.peer_addrs {
                if !same_family(*l, *r) {
                    continue;
                }
                let remote = if *r == self.remote.ip() {
                    self.remote
                } else {
                    ike_addr(self.natt, *r)
                };
                let pair = (ike_addr(self.natt, *l), remote);
                if !v.contains(&pair) {
                    v.push(pair);
                }
            }
        }
        v
    }

    fn retransmit(&mut self, ctx: &mut Ctx, mid: u32) {
        let Some(i) = self.outstanding.iter().position(|r| r.mid == mid) else {
            return;
        };
        let req = &mut self.outstanding[i];
        let settings = &ctx.config.settings;
        let schedule = schedule(self.role, settings);
        let probe = settings.probe.as_ref().filter(|_| req.probing);
        let exhausted = match probe {
            Some(p) => req.probes >= p.tries,
            None => req.retransmissions >= schedule.tries,
        };
        if exhausted {
            // RFC 7296 §2.1 (I-2.1-6): give up, delete the IKE SA.
            let what = format!(
                "no response to {} (message ID {}) after {} retransmissions",
                req.kind.label(),
                req.mid,
                req.retransmissions
            );
            self.delete(ctx, what, "RFC 7296 §2.1, I-2.1-6");
            return;
        }
        req.retransmissions += 1;
        req.next_at = ctx.now + schedule.timeout(req.retransmissions);
        let n = req.retransmissions;
        let start_probing = self.role == Role::Initiator
            && self.mobike
            && self.state == SaState::Established
            && n >= settings.probe_after;
        if start_probing && let Some(p) = &settings.probe {
            // strongSwan's probing: a fixed schedule of its own.
            if req.probing {
                req.probes += 1;
            }
            req.next_at = ctx.now + p.timeout(req.probes);
        }
        // RFC 4555 §3.1: another destination needs an IKE_SA_INIT of its
        // own (its NAT detection names the destination), not this one re-sent.
        if req.kind == ReqKind::Init && n > settings.probe_after && !self.next_peers.is_empty() {
            let next = self.next_peers.remove(0);
            let from = self.remote.ip();
            ctx.actions.push(Action::Initiate(InitOptions {
                peer: next,
                redirected_from: self.redirected_from,
                replaces: self.replaces,
                attempt: 0,
                next_peers: std::mem::take(&mut self.next_peers),
            }));
            self.delete(
                ctx,
                format!("no answer from {from}: a new IKE_SA_INIT to {next}"),
                "RFC 4555 §3.1 (one IKE_SA_INIT per destination)",
            );
            return;
        }
        let req = &mut self.outstanding[i];
        // The responder's own move went unanswered (reference §6.2 S-R2).
        let fall_back = self.role == Role::Responder
            && req.kind == ReqKind::AddressList
            && n > settings.move_fallback_after
            && settings.move_fallback == crate::MoveFallback::AddOldBack
            && self
                .moved_from
                .is_some_and(|old| ctx.local_addrs.contains(&old.ip()));
        if fall_back {
            req.multi_source = true;
        }
        let bytes = req.bytes.clone();
        let fixed_path = match &req.kind {
            ReqKind::ReturnRoutability { local, remote } => Some((*local, *remote)),
            // M-3.1-1: IKE_SA_INIT goes out from our addresses in turn, the
            // same octets each time (I-2.1-7).
            ReqKind::Init if ctx.config.settings.multi_source_init => {
                let family: Vec<IpAddr> = ctx
                    .local_addrs
                    .iter()
                    .copied()
                    .filter(|a| same_family(*a, self.remote.ip()))
                    .collect();
                (!family.is_empty()).then(|| {
                    let a = family[n as usize % family.len()];
                    (SocketAddr::new(a, IKE_PORT), self.remote)
                })
            }
            _ => None,
        };
        if fall_back && let Some(old) = self.moved_from.take() {
            let new = self.local;
            self.local = old;
            self.announce_only = None;
            ctx.events.push_back(Event::IkePathChanged {
                spi_i: self.spi_i,
                local: old,
                remote: self.remote,
            });
            self.note(
                ctx,
                format!(
                    "no answer from {}: adding {} back and retransmitting from it",
                    new.ip(),
                    old.ip()
                ),
                "reference §6.2 S-R2 fallback A; RFC 7296 §2.1 (I-2.1-7)",
            );
        }
        let req = &mut self.outstanding[i];
        if start_probing && fixed_path.is_none() {
            let first = !req.probing;
            req.probing = true;
            let paths = self.candidate_paths(ctx);
            let req = &mut self.outstanding[i];
            req.multi_source |= paths.iter().any(|(l, _)| l.ip() != self.local.ip());
            if first {
                self.note(
                    ctx,
                    format!(
                        "{n} {} unanswered: testing {} address pairs with the same request",
                        if n == 1 { "send" } else { "sends" },
                        paths.len()
                    ),
                    "RFC 4555 §3.5, §3.10; RFC 7296 §2.1 (I-2.1-7)",
                );
            }
            for (src, dst) in paths {
                self.transmit(ctx, src, dst, &bytes);
            }
        } else {
            // B-3.5-4: retransmissions go to the IKE SA's current addresses.
            let (src, dst) = fixed_path.unwrap_or((self.local, self.remote));
            self.transmit(ctx, src, dst, &bytes);
            if let Some(r) = self.outstanding.get_mut(i)
                && r.first_src != src.ip()
            {
                r.multi_source = true;
            }
        }
        if let Some(r) = self.outstanding.get(i) {
            self.report_request(ctx, r);
        }
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

    // ------------------------------------------------------------- addresses

    /// RFC 4555 §3.5, initiator, once new addresses are chosen.
    fn move_to(
        &mut self,
        ctx: &mut Ctx,
        local: SocketAddr,
        remote: SocketAddr,
        why: &str,
        rule: &str,
    ) {
        let old_remote = self.remote;
        self.previous_path = Some((self.local, self.remote));
        self.nat_retries = 0;
        // Step 1: update the IKE SA, set pending_update (B-3.5-1).
        self.local = local;
        self.remote = remote;
        self.generation += 1;
        self.set_pending(ctx, true);
        ctx.events.push_back(Event::IkePathChanged {
            spi_i: self.spi_i,
            local,
            remote,
        });
        self.note(
            ctx,
            format!("{why}: IKE SA moves to {local} -> {remote}"),
            rule,
        );
        // Step 2 (B-3.5-2): the IPsec SAs follow at once, unless the
        // responder's address is new to us: then the COOKIE2 in the update
        // is the return routability check that must come first (§3.7).
        if remote.ip() == old_remote.ip() {
            self.set_ipsec(ctx, local, remote);
        }
        // Step 4 (B-3.5-4): an outstanding request is retransmitted to the
        // new addresses now; a stale UPDATE's answer will be ignored (B-3.5-6).
        let resend: Vec<Vec<u8>> = self
            .outstanding
            .iter()
            .filter(|r| !matches!(r.kind, ReqKind::ReturnRoutability { .. }))
            .map(|r| r.bytes.clone())
            .collect();
        for bytes in resend {
            self.transmit(ctx, local, remote, &bytes);
        }
        // Step 5: UPDATE_SA_ADDRESSES when the window allows.
        self.queue(ctx, ReqKind::Update);
    }

    fn set_ipsec(&mut self, ctx: &mut Ctx, local: SocketAddr, remote: SocketAddr) {
        let encap = self.local_behind_nat || self.peer_behind_nat;
        if self.ipsec == Some((local, remote)) && self.udp_encap == encap {
            return;
        }
        self.ipsec = Some((local, remote));
        self.udp_encap = encap;
        ctx.events.push_back(Event::IpsecPathChanged {
            spi_i: self.spi_i,
            local,
            remote,
            udp_encap: encap,
        });
    }

    /// A lower-layer hint: never a reason to move by itself (RFC 4555 §3.5).
    pub fn handle_hint(&mut self, ctx: &mut Ctx, hint: crate::Hint) {
        if self.role != Role::Initiator || self.state != SaState::Established {
            return;
        }
        let ours = |p: IpAddr| p == self.remote.ip() || self.peer_addrs.contains(&p);
        match hint {
            crate::Hint::Icmp { peer } if ours(peer) => {
                self.note(
                    ctx,
                    format!("ICMP error about {peer}: only a hint, checking liveness"),
                    "RFC 4555 §3.5 (M-3.5-1)",
                );
                self.queue(ctx, ReqKind::Liveness);
            }
            crate::Hint::InvalidSpi { peer } if ours(peer) => {
                self.note(
                    ctx,
                    format!("report of unwanted traffic to {peer}: liveness check with COOKIE2"),
                    "RFC 4555 §5.3 (M-5.3-1)",
                );
                self.queue(ctx, ReqKind::LivenessRr);
            }
            crate::Hint::NatMappingSuspected if self.mobike && self.natt => {
                if ctx.config.settings.update_on_nat_hint {
                    // B-3.5-3: UDP encapsulation on before the update, so
                    // the IPsec traffic already passes a NAT.
                    if !self.local_behind_nat {
                        let peer = self.peer_behind_nat;
                        self.set_nat(ctx, true, peer);
                        if let Some((l, r)) = self.ipsec {
                            self.set_ipsec(ctx, l, r);
                        }
                    }
                    self.note(
                        ctx,
                        "NAT mapping change suspected: UPDATE_SA_ADDRESSES at once, UDP encapsulation on",
                        "RFC 4555 §3.8 (M-3.8-5), §3.5 (B-3.5-3)",
                    );
                    self.set_pending(ctx, true);
                    self.generation += 1;
                    self.queue(ctx, ReqKind::Update);
                } else {
                    self.note(
                        ctx,
                        "NAT mapping change suspected: liveness check with NAT detection",
                        "RFC 4555 §3.8 (M-3.8-1)",
                    );
                    self.queue(ctx, ReqKind::Liveness);
                }
            }
            _ => {}
        }
    }

    /// Responder: move the peer to our address `to` on purpose (reference
    /// §6.2 S-R1): an address list holding only `to`, sent from `to`.
    pub fn move_self(&mut self, ctx: &mut Ctx, to: IpAddr) -> bool {
        if self.role != Role::Responder
            || self.state != SaState::Established
            || !self.mobike
            || !ctx.local_addrs.contains(&to)
            || to == self.local.ip()
            || !same_family(to, self.remote.ip())
        {
            return false;
        }
        let local = ike_addr(self.natt, to);
        self.moved_from = Some(self.local);
        self.previous_path = Some((self.local, self.remote));
        self.local = local;
        self.announce_only = Some(vec![to]);
        ctx.events.push_back(Event::IkePathChanged {
            spi_i: self.spi_i,
            local,
            remote: self.remote,
        });
        self.note(
            ctx,
            format!("moving the client to {to}: an address list of {to} alone, sent from {to}"),
            "RFC 4555 §3.6 (B-3.6-3); responder MOBIKE (reference §6.2 S-R1)",
        );
        self.queue(ctx, ReqKind::AddressList);
        true
    }

    /// Responder: REDIRECT the client of this established SA (RFC 5685).
    pub fn redirect(&mut self, ctx: &mut Ctx, to: IpAddr) -> bool {
        if self.role != Role::Responder
            || self.state != SaState::Established
            || !self.peer_redirect
            || !ctx.config.settings.redirect
        {
            return false;
        }
        self.queue(ctx, ReqKind::Redirect { to });
        true
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

    /// Follows RFC 5685's REDIRECT to `gw`: a new IKE SA there.
    fn follow_redirect(
        &mut self,
        ctx: &mut Ctx,
        gw: &mobike_wire::notify::GwIdentity,
        during: &str,
        replaces: Option<u64>,
    ) -> bool {
        let Some(to) = gw.address() else {
            self.note(
                ctx,
                format!("cannot follow the redirect to {gw}: no name resolution here"),
                "RFC 5685",
            );
            return false;
        };
        ctx.events.push_back(Event::Redirected {
            spi_i: self.spi_i,
            to,
            during: during.to_string(),
        });
        ctx.actions.push(Action::Initiate(InitOptions {
            peer: to,
            redirected_from: Some(self.remote.ip()),
            replaces,
            attempt: 0,
            next_peers: Vec::new(),
        }));
        true
    }

    /// RFC 7296 §2.23 (I-2.23-11): without MOBIKE, a host that is not
    /// behind a NAT follows a NATed peer's new address and port, taken from
    /// a new authenticated message. With MOBIKE it never does (M-3.8-6).
    fn follow_nat_rebinding(&mut self, ctx: &mut Ctx, src: SocketAddr) {
        if self.mobike
            || !self.natt
            || self.state != SaState::Established
            || self.local_behind_nat
            || !self.peer_behind_nat
            || src == self.remote
        {
            return;
        }
        self.note(
            ctx,
            format!(
                "no MOBIKE: following the peer from {} to {src}",
                self.remote
            ),
            "RFC 7296 §2.23 (I-2.23-11)",
        );
        self.remote = src;
        ctx.events.push_back(Event::IkePathChanged {
            spi_i: self.spi_i,
            local: self.local,
            remote: src,
        });
        let local = self.local;
        self.set_ipsec(ctx, local, src);
    }

    pub fn handle_local_addresses(&mut self, ctx: &mut Ctx, old: &[IpAddr]) {
        if self.state == SaState::Deleted {
            return;
        }
        if self.state != SaState::Established {
            return;
        }
        if !self.mobike {
            return;
        }
        let current_gone = !ctx.local_addrs.contains(&self.local.ip());
        if self.role == Role::Initiator && current_gone {
            let remote = self.remote;
            match ctx
                .local_addrs
                .iter()
                .find(|a| same_family(**a, remote.ip()))
            {
                Some(&new) => self.move_to(
                    ctx,
                    ike_addr(self.natt, new),
                    remote,
                    &format!("local address {} is gone", self.local.ip()),
                    "RFC 4555 §3.5 (lower-layer trigger)",
                ),
                None => self.note(
                    ctx,
                    format!(
                        "local address {} is gone and no other is usable",
                        self.local.ip()
                    ),
                    "RFC 4555 §3.5",
                ),
            }
            return;
        }
        if current_gone {
            // The responder's own address is gone. It may move its IPsec SAs
            // itself in this one case (B-3.5-15) and announces its new list
            // from an address that works (§3.6, B-3.6-3); with no other
            // address in the list, the initiator learns the old one is gone
            // (the 2018 "responder MOBIKE" move, reference §6.2 S-R1).
            let remote = self.remote;
            match ctx
                .local_addrs
                .iter()
                .find(|a| same_family(**a, remote.ip()))
            {
                Some(&new) => {
                    let local = ike_addr(self.natt, new);
                    self.previous_path = Some((self.local, self.remote));
                    self.local = local;
                    ctx.events.push_back(Event::IkePathChanged {
                        spi_i: self.spi_i,
                        local,
                        remote,
                    });
                    self.note(
                        ctx,
                        format!("own address gone: announcing the new list from {new}"),
                        "RFC 4555 §3.5 (B-3.5-15), §3.6 (B-3.6-3)",
                    );
                    // Only our own side moves: the IPsec SAs keep the peer
                    // address they have (a newer one may still be under
                    // its return routability check, M-3.7-3).
                    let peer = self.ipsec.map_or(remote, |(_, r)| r);
                    self.set_ipsec(ctx, local, peer);
                    // Requests waiting for an answer leave from an address
                    // we still have (RFC 7296 §2.1 allows another header).
                    let mut resend = Vec::new();
                    for r in &mut self.outstanding {
                        if let ReqKind::ReturnRoutability {
                            local: l,
                            remote: to,
                        } = &mut r.kind
                            && !ctx.local_addrs.contains(&l.ip())
                        {
                            *l = local;
                            resend.push((*to, r.bytes.clone()));
                        }
                    }
                    for (to, bytes) in resend {
                        self.transmit(ctx, local, to, &bytes);
                    }
                    self.queue(ctx, ReqKind::AddressList);
                }
                None => self.note(
                    ctx,
                    format!(
                        "own address {} is gone and no other is usable",
                        self.local.ip()
                    ),
                    "RFC 4555 §3.6",
                ),
            }
            return;
        }
        if old.iter().any(|a| !ctx.local_addrs.contains(a))
            || ctx.local_addrs.iter().any(|a| !old.contains(a))
        {
            // RFC 4555 §3.6: tell the peer our new complete list.
            self.queue(ctx, ReqKind::AddressList);
        }
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

    fn handle_auth_request(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        inner: &[Payload],
    ) {
        let Some(keys) = self.keys.clone() else {
            return;
        };
        let idi = inner.iter().find_map(|p| match p {
            Payload::IdI(id) => Some(id.clone()),
            _ => None,
        });
        let auth = inner.iter().find_map(|p| match p {
            Payload::Auth { method, data } => Some((*method, data.clone())),
            _ => None,
        });
        let (Some(idi), Some((method, auth))) = (idi, auth) else {
            self.reject(ctx, src, dst, "IKE_AUTH request without IDi or AUTH");
            return;
        };
        let expected = crypto::psk_auth(
            &ctx.config.psk,
            &self.init_request,
            &self.nr,
            &keys.sk_pi,
            &idi.body(),
        );
        if method != crypto::AUTH_SHARED_KEY_MIC || auth != expected {
            let resp = self.encrypt(
                ExchangeType::IKE_AUTH,
                header.message_id,
                true,
                &[notify(NotifyType::AUTHENTICATION_FAILED, vec![])],
            );
            if let Some(resp) = resp {
                self.send_response(ctx, header.message_id, resp, dst, src);
            }
            self.delete(
                ctx,
                format!("AUTH from {idi} did not verify"),
                "RFC 7296 §2.15",
            );
            return;
        }
        if !self.natt && nat_prohibition_violated(inner, src, dst) {
            // M-3.9-2: answer to where the request came from, and do not
            // set up the SA.
            if let Some(resp) = self.encrypt(
                ExchangeType::IKE_AUTH,
                header.message_id,
                true,
                &[notify(NotifyType::UNEXPECTED_NAT_DETECTED, vec![])],
            ) {
                self.send_response(ctx, header.message_id, resp, dst, src);
            }
            self.delete(
                ctx,
                format!("NO_NATS_ALLOWED does not match {src} -> {dst}: an address translator is on the way"),
                "RFC 4555 §3.9, M-3.9-2",
            );
            return;
        }
        let settings = &ctx.config.settings;
        if let Some(gw) = settings.redirect_on_auth
            && settings.redirect
            && self.peer_redirect
            && gw != dst.ip()
        {
            // RFC 5685: after authentication, IDr and AUTH with REDIRECT and
            // no Child SA; the client starts over with the new gateway.
            let mut out = self.idr_and_auth(ctx, &keys);
            if let Ok(n) = Notify::redirect(gw.into(), None) {
                out.push(Payload::Notify(n));
            }
            if let Some(resp) = self.encrypt(ExchangeType::IKE_AUTH, header.message_id, true, &out)
            {
                self.send_response(ctx, header.message_id, resp, dst, src);
            }
            self.delete(
                ctx,
                format!("client {src} redirected to {gw} in IKE_AUTH, no Child SA"),
                "RFC 5685 (redirect during IKE_AUTH)",
            );
            return;
        }
        // RFC 4555 §3.3 (B-3.3-1): the IKE SA's addresses come from the IP
        // header of the first IKE_AUTH request.
        self.local = dst;
        self.remote = src;
        // M-3.2-1; M-4.2.1-1: notify data is ignored on receipt.
        let peer_mobike = has_notify(inner, NotifyType::MOBIKE_SUPPORTED);
        self.mobike = peer_mobike && ctx.config.settings.mobike;
        if self.mobike {
            // RFC 4555 §3.4 (M-3.4-1, B-3.4-1): store the list, nothing else.
            self.set_peer_addresses(ctx, src.ip(), inner);
        }
        self.child_spi = ctx.rng.next_u32() | 1;
        self.peer_child_spi = esp_spi(inner).unwrap_or(0);
        let mut out = self.idr_and_auth(ctx, &keys);
        out.extend([
            Payload::Sa(vec![Proposal::esp_default(self.child_spi)]),
            Payload::TsI(any_ts()),
            Payload::TsR(any_ts()),
        ]);
        out.extend(set_window_size(ctx));
        self.take_peer_window(ctx, inner);
        if self.mobike {
            out.push(notify(NotifyType::MOBIKE_SUPPORTED, vec![]));
            out.extend(self.address_list(ctx));
        }
        if let Some(resp) = self.encrypt(ExchangeType::IKE_AUTH, header.message_id, true, &out) {
            self.send_response(ctx, header.message_id, resp, dst, src);
        }
        self.establish(ctx);
    }

    /// The responder's IDr and AUTH (PSK, RFC 7296 §2.15) over its
    /// IKE_SA_INIT response and the initiator's nonce.
    fn idr_and_auth(&self, ctx: &Ctx, keys: &IkeKeys) -> Vec<Payload> {
        let idr = Identification::fqdn(&ctx.config.id);
        let my_auth = crypto::psk_auth(
            &ctx.config.psk,
            &self.init_response,
            &self.ni,
            &keys.sk_pr,
            &idr.body(),
        );
        vec![
            Payload::IdR(idr),
            Payload::Auth {
                method: crypto::AUTH_SHARED_KEY_MIC,
                data: my_auth.to_vec(),
            },
        ]
    }

    fn establish(&mut self, ctx: &mut Ctx) {
        self.state = SaState::Established;
        if let Some(old) = self.replaces {
            // RFC 5685: the SA with the gateway that redirected us goes
            // once the new one is up.
            ctx.actions.push(Action::Delete {
                spi_i: old,
                reason: format!("replaced by the IKE SA with {}", self.remote.ip()),
            });
        }
        self.install_child_sa(ctx);
        ctx.events.push_back(Event::Established {
            spi_i: self.spi_i,
            mobike: self.mobike,
        });
        ctx.events.push_back(Event::IkePathChanged {
            spi_i: self.spi_i,
            local: self.local,
            remote: self.remote,
        });
        // RFC 4555 §3.3: IPsec SA tunnel addresses come from the IKE SA.
        self.set_ipsec(ctx, self.local, self.remote);
        // §3.8 baseline: with no NAT found, a liveness response must show
        // our own address in NAT_DETECTION_DESTINATION_IP. With a NAT, the
        // port 500 mapping says nothing of the 4500 one, so the first
        // liveness response sets the baseline.
        if !self.local_behind_nat {
            self.natd_baseline = Some(crypto::nat_detection_hash(
                self.spi_i, self.spi_r, self.local,
            ));
        } else if self.role == Role::Initiator {
            // Behind a NAT the IKE_SA_INIT result is the one to compare
            // with (RFC 4555 §3.8, M-3.8-4), so that a mapping that changes
            // before the first liveness check is noticed too. It was taken
            // on port 500, so the first check after the float to 4500
            // differs and costs one update that changes nothing if the
            // mapping held.
            self.natd_baseline = self.natd_init;
        }
    }

    /// KEYMAT for the Child SA made with IKE_AUTH (RFC 7296 §2.17): data from
    /// the initiator travels under the responder's SPI with the first key.
    fn install_child_sa(&mut self, ctx: &mut Ctx) {
        let Some(keys) = &self.keys else { return };
        if self.peer_child_spi == 0 {
            return;
        }
        let Ok((i2r, r2i)) = esp::child_keys(&keys.sk_d, &self.ni, &self.nr, 16) else {
            return;
        };
        let (i_spi, r_spi) = match self.role {
            Role::Initiator => (self.child_spi, self.peer_child_spi),
            Role::Responder => (self.peer_child_spi, self.child_spi),
        };
        let to_r = EspSa {
            spi: r_spi,
            key: i2r,
        };
        let to_i = EspSa {
            spi: i_spi,
            key: r2i,
        };
        ctx.events.push_back(Event::ChildSa {
            spi_i: self.spi_i,
            initiator_to_responder: (to_r.spi, to_r.key.clone()),
            responder_to_initiator: (to_i.spi, to_i.key.clone()),
        });
        let (out, inb) = match self.role {
            Role::Initiator => (to_r, to_i),
            Role::Responder => (to_i, to_r),
        };
        self.esp_out = Some(out);
        self.esp_in = Some(inb);
    }

    /// Our inbound ESP SPI.
    pub fn inbound_spi(&self) -> Option<u32> {
        self.esp_in.as_ref().map(|s| s.spi)
    }

    /// Sends an inner packet through the Child SA on the IPsec SAs' current
    /// addresses: UDP-encapsulated on the IKE ports when NAT traversal is on
    /// (RFC 3948 §2.1, U-2.1-1), plain ESP otherwise.
    pub fn send_esp(&mut self, ctx: &mut Ctx, inner: &[u8]) -> bool {
        if self.state != SaState::Established {
            return false;
        }
        let (Some(out), Some((local, remote))) = (&self.esp_out, self.ipsec) else {
            return false;
        };
        self.esp_seq = self.esp_seq.wrapping_add(1);
        let Ok(packet) = out.seal(self.esp_seq, esp::NEXT_HEADER_IPV4, inner) else {
            return false;
        };
        let t = if self.udp_encap {
            Transmit {
                src: local,
                dst: remote,
                payload: packet,
                protocol: IpProtocol::Udp,
            }
        } else {
            Transmit {
                src: SocketAddr::new(local.ip(), 0),
                dst: SocketAddr::new(remote.ip(), 0),
                payload: packet,
                protocol: IpProtocol::Esp,
            }
        };
        ctx.out.push_back(t);
        self.last_tx = ctx.now;
        true
    }

    /// An ESP packet for our inbound SPI, plain or UDP-encapsulated (both
    /// are accepted at any time, I-2.23-4, I-2.23-10). Returns the inner
    /// packet. Replays and packets too old for the window are dropped.
    pub fn handle_esp(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        packet: &[u8],
    ) -> Option<Vec<u8>> {
        let sa = self.esp_in.as_ref()?;
        let plain = match sa.open(packet) {
            Ok(p) => p,
            Err(e) => {
                self.reject(ctx, src, dst, format!("ESP: {e}"));
                return None;
            }
        };
        // M-3.12-1: compare the packet's addresses with the IPsec SA's. A
        // packet from elsewhere is delivered (both sides may briefly
        // disagree during a move) but is no liveness evidence (M-3.12-2).
        let expected = self
            .ipsec
            .is_some_and(|(l, r)| l.ip() == dst.ip() && r.ip() == src.ip());
        if expected {
            self.esp_mismatch = None;
            if ctx.config.settings.esp_liveness {
                self.last_rx = ctx.now;
            }
        } else if self.esp_mismatch != Some((src, dst)) {
            self.esp_mismatch = Some((src, dst));
            if let Some((l, r)) = self.ipsec {
                self.note(
                    ctx,
                    format!(
                        "ESP from {} to {}, but the IPsec SA uses {} -> {}: not taken as liveness evidence",
                        src.ip(),
                        dst.ip(),
                        r.ip(),
                        l.ip()
                    ),
                    "RFC 4555 §3.12 (M-3.12-1, M-3.12-2)",
                );
            }
        }
        let seq = plain.seq;
        if seq > self.esp_highest {
            let shift = seq - self.esp_highest;
            self.esp_window = if shift >= 64 {
                0
            } else {
                self.esp_window << shift
            };
            self.esp_window |= 1;
            self.esp_highest = seq;
        } else {
            let back = self.esp_highest - seq;
            if back >= 64 || self.esp_window & (1 << back) != 0 {
                self.reject(
                    ctx,
                    src,
                    dst,
                    format!("ESP sequence number {seq} replayed or too old"),
                );
                return None;
            }
            self.esp_window |= 1 << back;
        }
        Some(plain.payload)
    }

    fn set_peer_addresses(&mut self, ctx: &mut Ctx, header_addr: IpAddr, inner: &[Payload]) {
        let mut list = vec![header_addr];
        for n in inner.iter().filter_map(Payload::as_notify) {
            if let Some(a) = n.address()
                && !list.contains(&a)
            {
                list.push(a);
            }
        }
        if list != self.peer_addrs {
            self.peer_addrs = list.clone();
            ctx.events.push_back(Event::PeerAddresses {
                spi_i: self.spi_i,
                addresses: list,
            });
        }
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

    /// RFC 4555 §3.5, responder side of UPDATE_SA_ADDRESSES.
    fn handle_update_request(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        inner: &[Payload],
    ) {
        if let Some(old) = self.moved_from
            && dst.ip() != self.local.ip()
        {
            // The initiator decides the addresses (RFC 4555 §3.5): its
            // update to another of ours ends our own move.
            self.moved_from = None;
            self.announce_only = None;
            self.note(
                ctx,
                format!(
                    "the client's update chose {}: our move from {} ends",
                    dst.ip(),
                    old.ip()
                ),
                "RFC 4555 §3.5",
            );
        }
        // Step 4 (B-3.5-10): addresses from the IP header, not from payloads.
        if (self.local, self.remote) != (dst, src) {
            self.local = dst;
            self.remote = src;
            ctx.events.push_back(Event::IkePathChanged {
                spi_i: self.spi_i,
                local: dst,
                remote: src,
            });
        }
        if has_notify(inner, NotifyType::NAT_DETECTION_SOURCE_IP) {
            // Step 8 / B-3.5-13: NAT-T on or off from this exchange's NAT-D.
            self.detect_nat(ctx, inner, self.spi_i, self.spi_r, src, dst);
        }
        let target = (dst, src);
        // An older return routability check still waiting is for an address
        // the initiator has left: drop a queued one, and send an
        // outstanding one to the new address (message IDs must stay in
        // sequence, B-3.5-4); its answer will not count (B-3.7-1).
        self.queue
            .retain(|k| !matches!(k, ReqKind::ReturnRoutability { .. }));
        if let Some(req) = self
            .outstanding
            .iter_mut()
            .find(|r| matches!(r.kind, ReqKind::ReturnRoutability { .. }))
            && let ReqKind::ReturnRoutability { local, remote } = &mut req.kind
            && (*local, *remote) != target
        {
            *local = dst;
            *remote = src;
            req.retargeted = true;
            let bytes = req.bytes.clone();
            self.transmit(ctx, dst, src, &bytes);
            return;
        }
        let moved = self.ipsec.map(|(_, r)| r) != Some(src);
        let checking = self
            .outstanding
            .iter()
            .any(|r| matches!(r.kind, ReqKind::ReturnRoutability { remote, .. } if remote == src));
        if moved && checking {
            // The check of this very address is under way.
        } else if moved && ctx.config.settings.return_routability {
            // Step 6 (M-3.7-1, M-3.7-3, B-3.5-12): check the new address
            // with our own COOKIE2 before IPsec SAs move there.
            self.note(
                ctx,
                format!("checking return routability of {src} before moving IPsec SAs"),
                "RFC 4555 §3.7 (M-3.7-1)",
            );
            self.queue(
                ctx,
                ReqKind::ReturnRoutability {
                    local: dst,
                    remote: src,
                },
            );
        } else {
            // Step 7; M-3.7-2 when return routability is off.
            self.set_ipsec(ctx, target.0, target.1);
        }
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

    fn handle_init_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) {
        let msg = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.reject(ctx, src, dst, format!("IKE_SA_INIT response: {e}"));
                return;
            }
        };
        if self.state == SaState::InitSent
            && let Some(n) = msg
                .payloads
                .iter()
                .filter_map(Payload::as_notify)
                .find(|n| n.kind == NotifyType::REDIRECT)
        {
            self.handle_init_redirect(ctx, src, dst, n);
            return;
        }
        if self.state != SaState::InitSent || header.spi_r == 0 {
            self.reject(ctx, src, dst, "unexpected IKE_SA_INIT response");
            return;
        }
        let (ke, nr) = ke_and_nonce(&msg.payloads);
        let (Some(ke), Some(nr)) = (ke, nr) else {
            self.reject(ctx, src, dst, "IKE_SA_INIT response without KE or Nr");
            return;
        };
        let shared = match self.dh.shared_secret(&ke) {
            Ok(s) => s,
            Err(e) => {
                self.reject(ctx, src, dst, format!("IKE_SA_INIT response KE: {e}"));
                return;
            }
        };
        self.spi_r = header.spi_r;
        self.nr = nr;
        let keys = match IkeKeys::derive(&self.ni, &self.nr, &shared, self.spi_i, self.spi_r, 16) {
            Ok(k) => k,
            Err(e) => {
                self.reject(ctx, src, dst, format!("key derivation: {e}"));
                return;
            }
        };
        ctx.events.push_back(Event::KeysDerived {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            keys: keys.clone(),
        });
        self.keys = Some(keys);
        self.init_response = bytes.to_vec();
        self.outstanding.clear();
        ctx.events.push_back(Event::RequestDone {
            spi_i: self.spi_i,
            mid: 0,
        });
        self.last_rx = ctx.now;
        self.local = dst;
        self.remote = src;
        // I-2.23-9: NAT-D from the responder.
        self.peer_natt = has_notify(&msg.payloads, NotifyType::NAT_DETECTION_SOURCE_IP);
        self.natt = self.peer_natt && ctx.config.settings.nat_traversal;
        if self.natt {
            self.natd_init = self.detect_nat(ctx, &msg.payloads, self.spi_i, self.spi_r, src, dst);
        }
        // RFC 4555 §3.3 (M-3.3-1): with MOBIKE and NAT-T on both sides, move
        // to port 4500 even without a NAT; I-2.23-2 with a NAT.
        if self.natt
            && (ctx.config.settings.mobike || self.local_behind_nat || self.peer_behind_nat)
        {
            self.local = natt(self.local.ip());
            self.remote = natt(self.remote.ip());
        }
        self.send_auth(ctx);
    }

    /// RFC 5685: REDIRECT in the IKE_SA_INIT response. It is not
    /// authenticated; its Nonce Data must be our Ni, which only someone on
    /// the path saw.
    fn handle_init_redirect(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        n: &Notify,
    ) {
        if !ctx.config.settings.redirect {
            self.reject(
                ctx,
                src,
                dst,
                "REDIRECT in IKE_SA_INIT, but we did not send REDIRECT_SUPPORTED",
            );
            return;
        }
        match mobike_wire::notify::NotifyData::parse(n) {
            Ok(mobike_wire::notify::NotifyData::Redirect { gw, nonce }) => {
                if nonce.as_deref() != Some(self.ni.as_slice()) {
                    self.reject(
                        ctx,
                        src,
                        dst,
                        "REDIRECT whose Nonce Data is not our Ni: ignored (RFC 5685)",
                    );
                    return;
                }
                ctx.events.push_back(Event::RequestDone {
                    spi_i: self.spi_i,
                    mid: 0,
                });
                if self.follow_redirect(ctx, &gw, "IKE_SA_INIT", self.replaces) {
                    self.delete(
                        ctx,
                        format!("redirected to {gw} in IKE_SA_INIT"),
                        "RFC 5685 (redirect during IKE_SA_INIT)",
                    );
                }
            }
            Ok(_) | Err(_) => self.reject(ctx, src, dst, "malformed REDIRECT in IKE_SA_INIT"),
        }
    }

    fn send_auth(&mut self, ctx: &mut Ctx) {
        let Some(keys) = self.keys.clone() else {
            return;
        };
        let idi = Identification::fqdn(&ctx.config.id);
        let auth = crypto::psk_auth(
            &ctx.config.psk,
            &self.init_request,
            &self.nr,
            &keys.sk_pi,
            &idi.body(),
        );
        self.child_spi = ctx.rng.next_u32() | 1;
        let mut inner = vec![
            Payload::IdI(idi),
            Payload::Auth {
                method: crypto::AUTH_SHARED_KEY_MIC,
                data: auth.to_vec(),
            },
            Payload::Sa(vec![Proposal::esp_default(self.child_spi)]),
            Payload::TsI(any_ts()),
            Payload::TsR(any_ts()),
        ];
        inner.extend(set_window_size(ctx));
        if ctx.config.settings.mobike {
            // M-3.2-1 and M-3.4-1.
            inner.push(notify(NotifyType::MOBIKE_SUPPORTED, vec![]));
            inner.extend(self.address_list(ctx));
            if !self.natt {
                // M-3.9-1: the first IKE_AUTH request, without NAT-T.
                inner.extend(no_nats_allowed(self.local, self.remote));
            }
        }
        let mid = self.next_mid;
        self.next_mid += 1;
        let Some(bytes) = self.encrypt(ExchangeType::IKE_AUTH, mid, false, &inner) else {
            return;
        };
        self.state = SaState::AuthSent;
        self.start_request(ctx, ReqKind::Auth, mid, bytes, None);
    }

    fn handle_auth_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        inner: &[Payload],
    ) {
        let Some(keys) = self.keys.clone() else {
            return;
        };
        if has_notify(inner, NotifyType::UNEXPECTED_NAT_DETECTED) {
            // M-3.9-4: retry from a new IKE_SA_INIT (from our next address),
            // as many times as a request is retransmitted.
            let attempt = self.attempt + 1;
            let retry = attempt <= ctx.config.settings.retransmit.tries;
            if retry {
                ctx.actions.push(Action::Initiate(InitOptions {
                    peer: self.remote.ip(),
                    redirected_from: self.redirected_from,
                    replaces: self.replaces,
                    attempt,
                    next_peers: self.next_peers.clone(),
                }));
            }
            self.delete(
                ctx,
                format!(
                    "responder found an address translator (UNEXPECTED_NAT_DETECTED){}",
                    if retry {
                        ", retrying with a new IKE_SA_INIT"
                    } else {
                        ", no retries left"
                    }
                ),
                "RFC 4555 §3.9, M-3.9-4",
            );
            return;
        }
        if has_notify(inner, NotifyType::AUTHENTICATION_FAILED) {
            self.delete(
                ctx,
                "responder sent AUTHENTICATION_FAILED".into(),
                "RFC 7296 §2.21.2",
            );
            return;
        }
        let idr = inner.iter().find_map(|p| match p {
            Payload::IdR(id) => Some(id.clone()),
            _ => None,
        });
        let auth = inner.iter().find_map(|p| match p {
            Payload::Auth { data, .. } => Some(data.clone()),
            _ => None,
        });
        let (Some(idr), Some(auth)) = (idr, auth) else {
            self.delete(
                ctx,
                "IKE_AUTH response without IDr or AUTH".into(),
                "RFC 7296 §1.2",
            );
            return;
        };
        let expected = crypto::psk_auth(
            &ctx.config.psk,
            &self.init_response,
            &self.ni,
            &keys.sk_pr,
            &idr.body(),
        );
        if auth != expected {
            self.delete(
                ctx,
                format!("AUTH from {idr} did not verify"),
                "RFC 7296 §2.15",
            );
            return;
        }
        if let Some(n) = inner
            .iter()
            .filter_map(Payload::as_notify)
            .find(|n| n.kind == NotifyType::REDIRECT)
        {
            match mobike_wire::notify::NotifyData::parse(n) {
                Ok(mobike_wire::notify::NotifyData::Redirect { gw, .. })
                    if ctx.config.settings.redirect =>
                {
                    self.follow_redirect(ctx, &gw, "IKE_AUTH", self.replaces);
                    self.delete(
                        ctx,
                        format!("redirected to {gw} in IKE_AUTH"),
                        "RFC 5685 (redirect during IKE_AUTH)",
                    );
                }
                _ => self.delete(
                    ctx,
                    "IKE_AUTH response with a REDIRECT we cannot follow".into(),
                    "RFC 5685",
                ),
            }
            return;
        }
        self.local = dst;
        self.remote = src;
        self.take_peer_window(ctx, inner);
        self.peer_child_spi = esp_spi(inner).unwrap_or(0);
        self.mobike = ctx.config.settings.mobike && has_notify(inner, NotifyType::MOBIKE_SUPPORTED);
        if self.mobike {
            self.set_peer_addresses(ctx, src.ip(), inner);
        }
        self.establish(ctx);
    }

    fn handle_liveness_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        req: &Request,
        inner: &[Payload],
    ) {
        if (dst, src) != (self.local, self.remote) {
            if req.probing && self.role == Role::Initiator {
                // The pair that answered works (RFC 4555 §3.10). Its answer
                // is no return routability proof (B-3.7-1): a new
                // UPDATE_SA_ADDRESSES with COOKIE2 follows. Its NAT-D tells
                // whether that path has a NAT, so UDP encapsulation is
                // right before the IPsec SAs move (B-3.5-3). The
                // request's own NAT-D described the old pair, so only our
                // side can be judged from it.
                if self.mobike && self.natt {
                    let dst_hash = crypto::nat_detection_hash(self.spi_i, self.spi_r, dst);
                    if let Some(got) = notify_data(inner, NotifyType::NAT_DETECTION_DESTINATION_IP)
                        && got.len() == 20
                        && (got != dst_hash) != self.local_behind_nat
                    {
                        let peer = self.peer_behind_nat;
                        self.set_nat(ctx, got != dst_hash, peer);
                    }
                }
                self.move_to(
                    ctx,
                    dst,
                    src,
                    "path test answered on another address pair",
                    "RFC 4555 §3.5, §3.10, B-3.7-1",
                );
            }
            return;
        }
        if !has_notify(inner, NotifyType::NAT_DETECTION_DESTINATION_IP) {
            return;
        }
        let got: Option<[u8; 20]> = notify_data(inner, NotifyType::NAT_DETECTION_DESTINATION_IP)
            .and_then(|d| d.try_into().ok());
        match (self.natd_baseline, got) {
            (Some(base), Some(got)) if base != got => {
                // M-3.8-3, M-3.8-4: a changed mapping ⇒ UPDATE_SA_ADDRESSES.
                let text = if Some(base) == self.natd_init {
                    "NAT_DETECTION_DESTINATION_IP differs from the IKE_SA_INIT result (port 500, before the float to 4500): the mapping may have changed, updating"
                } else {
                    "NAT_DETECTION_DESTINATION_IP differs from the last result: NAT mapping changed"
                };
                self.note(ctx, text, "RFC 4555 §3.8 (M-3.8-4)");
                self.natd_baseline = Some(got);
                self.set_pending(ctx, true);
                self.generation += 1;
                self.queue.push_back(ReqKind::Update);
            }
            (None, Some(got)) => self.natd_baseline = Some(got),
            _ => {}
        }
    }

    fn handle_update_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        req: &Request,
        inner: &[Payload],
    ) {
        if req.generation != self.generation {
            // B-3.5-6, B-3.5-14: an address change happened since; this
            // answer is ignored and a new update is (or will be) sent.
            self.note(
                ctx,
                "response to an outdated UPDATE_SA_ADDRESSES ignored",
                "RFC 4555 §3.5 (B-3.5-14)",
            );
            return;
        }
        // M-3.7-6, M-3.7-7.
        if notify_data(inner, NotifyType::COOKIE2) != req.cookie2.as_deref() {
            self.delete(
                ctx,
                "COOKIE2 mismatch in UPDATE_SA_ADDRESSES response".into(),
                "RFC 4555 §3.7, M-3.7-7",
            );
            return;
        }
        if (dst, src) != (self.local, self.remote) {
            // Sent to several destinations: not a return routability proof (B-3.7-1).
            self.move_to(
                ctx,
                dst,
                src,
                "update answered on another address pair",
                "RFC 4555 §3.7 (B-3.7-1)",
            );
            return;
        }
        if has_notify(inner, NotifyType::UNACCEPTABLE_ADDRESSES) {
            // M-3.5-2: of the three choices (other addresses, the old ones,
            // disconnect) we go back to the addresses before the move if
            // they are still ours; else the SA is closed.
            match self.previous_path {
                Some((l, r)) if ctx.local_addrs.contains(&l.ip()) => {
                    self.local = l;
                    self.remote = r;
                    self.generation += 1;
                    ctx.events.push_back(Event::IkePathChanged {
                        spi_i: self.spi_i,
                        local: l,
                        remote: r,
                    });
                    self.note(
                        ctx,
                        format!("responder refused {dst}; back to {l} -> {r}"),
                        "RFC 4555 §3.5, M-3.5-2",
                    );
                    self.set_ipsec(ctx, l, r);
                }
                _ => self.delete(
                    ctx,
                    format!("responder refused {dst} and the old addresses are gone"),
                    "RFC 4555 §3.5, M-3.5-2",
                ),
            }
            return;
        }
        if has_notify(inner, NotifyType::UNEXPECTED_NAT_DETECTED) {
            // M-3.9-3: retry with new INFORMATIONAL requests, as often as a
            // request would be retransmitted.
            self.nat_retries += 1;
            if self.nat_retries > ctx.config.settings.retransmit.tries {
                self.delete(
                    ctx,
                    "UNEXPECTED_NAT_DETECTED on every retry".into(),
                    "RFC 4555 §3.9, M-3.9-3",
                );
            } else {
                self.note(
                    ctx,
                    format!(
                        "UNEXPECTED_NAT_DETECTED: retry {} with a new request",
                        self.nat_retries
                    ),
                    "RFC 4555 §3.9, M-3.9-3",
                );
                self.queue.push_back(ReqKind::Update);
            }
            return;
        }
        if let Some(got) = self.detect_nat(ctx, inner, self.spi_i, self.spi_r, src, dst) {
            self.natd_baseline = Some(got);
        }
        // Both sides enable or disable NAT-T from this exchange (B-3.5-13).
        self.set_ipsec(ctx, dst, src);
    }

    pub fn snapshot(&self, own: &[IpAddr]) -> SaSnapshot {
        SaSnapshot {
            role: self.role,
            state: self.state,
            spi_i: format!("{:016x}", self.spi_i),
            spi_r: format!("{:016x}", self.spi_r),
            mobike: self.mobike,
            local: self.local,
            remote: self.remote,
            ipsec_local: self.ipsec.map(|p| p.0),
            ipsec_remote: self.ipsec.map(|p| p.1),
            udp_encap: self.udp_encap,
            own_addresses: own.to_vec(),
            peer_addresses: self.peer_addrs.clone(),
            local_behind_nat: self.local_behind_nat,
            peer_behind_nat: self.peer_behind_nat,
            pending_update: self.pending_update,
            cookie2_outstanding: self
                .outstanding
                .iter()
                .find_map(|r| r.cookie2.as_ref())
                .map(|c| hex(c)),
            window: self.peer_window,
            in_flight: self.outstanding.len() as u32,
            outstanding: self.outstanding.first().map(|r| OutstandingSnapshot {
                what: r.kind.label().to_string(),
                mid: r.mid,
                retransmissions: r.retransmissions,
                next_retransmit: r.next_at,
                probing: r.probing,
            }),
            next_liveness: self.liveness_due(),
            next_keepalive: self.keepalive_due(),
            queued: self.queue.iter().map(|k| k.label().to_string()).collect(),
            redirect_supported: self.peer_redirect,
            moving_from: self.moved_from,
        }
    }
}
