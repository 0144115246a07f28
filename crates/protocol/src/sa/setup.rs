//! Setting up the IKE SA: IKE_SA_INIT and IKE_AUTH in both roles (RFC 7296
//! §1.2), with NAT detection in IKE_SA_INIT (§2.23), MOBIKE_SUPPORTED and
//! the address list in IKE_AUTH (RFC 4555 §3.2, §3.4) and the move to port
//! 4500 (§3.3). Each step hands its data to the next state; once
//! established, the setup data is gone.

use super::child::{Selectors, selectors_of};
use super::*;
use crate::reason::Rejection as R;
use mobike_wire::message::has_notify;
use mobike_wire::notify::NotifyData;
use mobike_wire::payload::{Identification, Proposal};
use mobike_wire::registry::{TransformType, transform_id};

/// The group 31 key exchange data and the nonce of an IKE_SA_INIT or
/// CREATE_CHILD_SA message.
pub(super) fn ke_and_nonce(payloads: &[Payload]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
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

/// Whether the IKE_AUTH request asks for a Child SA at all (RFC 6023: a
/// childless one has no SA payload), and the SPI of the first ESP
/// proposal we can make (AES-GCM-16), if any.
fn child_offer(payloads: &[Payload]) -> (bool, Option<u32>) {
    let mut asked = false;
    let spi = payloads.iter().find_map(|p| match p {
        Payload::Sa(props) => {
            asked = true;
            props.iter().find_map(esp_gcm_spi)
        }
        _ => None,
    });
    (asked, spi)
}

/// The reason to refuse a peer whose AUTH verified for `id` when another
/// identity is configured for it (RFC 7296 §2.15, §2.21.2).
fn unexpected_identity(ctx: &Ctx, id: &Identification) -> Option<DeleteReason> {
    let want = ctx.config.peer_id.as_ref()?;
    let got = id.to_string();
    (got != *want).then(|| DeleteReason::UnexpectedIdentity {
        expected: want.clone(),
        got,
    })
}

/// The notifies with which a responder refuses the Child SA of IKE_AUTH
/// while the IKE SA stands (RFC 7296 §1.2, §2.21.2).
const CHILD_REFUSALS: [NotifyType; 5] = [
    NotifyType::NO_PROPOSAL_CHOSEN,
    NotifyType::TS_UNACCEPTABLE,
    NotifyType::SINGLE_PAIR_REQUIRED,
    NotifyType::INTERNAL_ADDRESS_FAILURE,
    NotifyType::FAILED_CP_REQUIRED,
];

/// An ESP proposal we can make (AES-GCM-16): its 4-octet SPI.
pub(super) fn esp_gcm_spi(pr: &Proposal) -> Option<u32> {
    let ours = pr.protocol == mobike_wire::registry::ProtocolId::ESP
        && pr
            .transform(TransformType::ENCR)
            .is_some_and(|t| t.id == transform_id::ENCR_AES_GCM_16);
    let spi = <[u8; 4]>::try_from(pr.spi.as_slice()).ok()?;
    ours.then_some(u32::from_be_bytes(spi))
}

/// The IKE SA algorithms we take: AES-GCM-16, PRF_HMAC_SHA2_256,
/// Curve25519.
pub(super) fn ike_algorithms_ours(pr: &Proposal) -> bool {
    pr.transform(TransformType::ENCR)
        .is_some_and(|t| t.id == transform_id::ENCR_AES_GCM_16)
        && pr
            .transform(TransformType::PRF)
            .is_some_and(|t| t.id == transform_id::PRF_HMAC_SHA2_256)
        && pr
            .transform(TransformType::DH)
            .is_some_and(|t| t.id == transform_id::DH_CURVE25519)
}

/// The proposal we accept: AES-GCM-16, PRF_HMAC_SHA2_256, Curve25519.
fn proposal_acceptable(payloads: &[Payload]) -> bool {
    payloads.iter().any(|p| match p {
        Payload::Sa(props) => props.iter().any(ike_algorithms_ours),
        _ => false,
    })
}

/// What an initiator's AUTH is computed over and checked with.
struct AuthInput<'a> {
    keys: &'a IkeKeys,
    /// The peer's nonce and our IKE_SA_INIT message (RFC 7296 §2.15).
    nonce: &'a [u8],
    message: &'a [u8],
}

/// What `establish` needs from the setup that ends.
struct Setup {
    keys: IkeKeys,
    ni: Vec<u8>,
    nr: Vec<u8>,
    child_spi: u32,
    peer_child_spi: u32,
    mobike: bool,
    natd_init: Option<[u8; 20]>,
    replaces: Option<u64>,
    /// The Child SA's traffic selectors, ours first.
    ts: Selectors,
}

impl IkeSa {
    /// Initiator: builds and sends IKE_SA_INIT from the preferred address.
    pub fn initiate(ctx: &mut Ctx, opts: InitOptions) -> Option<IkeSa> {
        let InitOptions { peer, origin } = opts;
        let family: Vec<IpAddr> = ctx
            .local_addrs
            .iter()
            .copied()
            .filter(|a| same_family(*a, peer))
            .collect();
        // A retry after UNEXPECTED_NAT_DETECTED starts from the next of our
        // addresses (M-3.9-4).
        let Some(&local_ip) = family.get(origin.attempt as usize % family.len().max(1)) else {
            ctx.note(0, Note::NoLocalAddress { peer });
            return None;
        };
        let local = SocketAddr::new(local_ip, IKE_PORT);
        let remote = SocketAddr::new(peer, IKE_PORT);
        let dh = X25519::from_seed(ctx.random(32).try_into().unwrap_or([1; 32]));
        let spi_i = ctx.nonzero_u64();
        let ni = ctx.random(32);
        let mut payloads = vec![
            Payload::Sa(vec![Proposal::ike_default()]),
            Payload::Ke {
                group: transform_id::DH_CURVE25519,
                data: dh.public().to_vec(),
            },
            Payload::Nonce(ni.clone()),
        ];
        let settings = &ctx.config.settings;
        if settings.nat_traversal {
            // RFC 7296 §2.23 (I-2.23-6): NAT-D after Ni, SPIr zero as in the
            // header. The request may go out from any of our addresses
            // (M-3.1-1), so one NAT_DETECTION_SOURCE_IP per address (I-2.23-7).
            let sources: Vec<IpAddr> = if settings.multi_source_init {
                family.clone()
            } else {
                vec![local_ip]
            };
            for a in sources {
                payloads.push(notify(
                    NotifyType::NAT_DETECTION_SOURCE_IP,
                    crypto::nat_detection_hash(spi_i, 0, SocketAddr::new(a, IKE_PORT)).to_vec(),
                ));
            }
            payloads.push(notify(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                crypto::nat_detection_hash(spi_i, 0, remote).to_vec(),
            ));
        }
        if settings.redirect {
            // RFC 5685: REDIRECTED_FROM replaces REDIRECT_SUPPORTED after a
            // redirect.
            match origin.redirected_from {
                Some(gw) => {
                    if let Ok(n) = Notify::redirected_from(gw.into()) {
                        payloads.push(Payload::Notify(n));
                    }
                }
                None => payloads.push(Payload::Notify(Notify::redirect_supported())),
            }
        }
        if let Some(from) = origin.redirected_from {
            ctx.note(spi_i, Note::RedirectedTo { from, peer });
        } else if origin.attempt > 0 {
            let attempt = origin.attempt + 1;
            ctx.note(
                spi_i,
                Note::InitRetry {
                    attempt,
                    from: local_ip,
                },
            );
        }
        let placeholder = Lifecycle::Deleted(None);
        let mut sa = IkeSa::new(ctx, Role::Initiator, local, remote, placeholder);
        sa.spi_i = spi_i;
        let bytes = Message::emit_plain(sa.header(ExchangeType::IKE_SA_INIT, 0, false), &payloads);
        sa.life = Lifecycle::ExpectInitResponse(Box::new(ExpectInitResponse {
            dh,
            ni,
            init_request: bytes.clone(),
            origin,
            cookies: 0,
        }));
        sa.window.next_mid = 1;
        sa.start_request(ctx, Task::Init, 0, bytes);
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
                ctx.reject(src, dst, R::InitMalformed(e));
                return None;
            }
        };
        // The D-H secret is drawn for every well-formed request, refused
        // or not, so the seed's later draws do not depend on the refusal.
        let dh = X25519::from_seed(ctx.random(32).try_into().unwrap_or([1; 32]));
        let (ke, ni) = ke_and_nonce(&msg.payloads);
        let (Some(ke), Some(ni), true) = (ke, ni, proposal_acceptable(&msg.payloads)) else {
            ctx.reject(src, dst, R::InitUnacceptable);
            return None;
        };
        let mut sa = IkeSa::new(ctx, Role::Responder, dst, src, Lifecycle::Deleted(None));
        sa.spi_i = header.spi_i;
        sa.peer_redirect = has_notify(&msg.payloads, NotifyType::REDIRECT_SUPPORTED)
            || has_notify(&msg.payloads, NotifyType::REDIRECTED_FROM);
        if let Some(Ok(NotifyData::RedirectedFrom(by))) = msg
            .payloads
            .iter()
            .filter_map(Payload::as_notify)
            .find(|n| n.kind == NotifyType::REDIRECTED_FROM)
            .map(NotifyData::parse)
        {
            sa.note(ctx, Note::ClientRedirectedHere { by });
        }
        let settings = &ctx.config.settings;
        if let Some(to) = settings.redirect_on_init
            && settings.redirect
            && sa.peer_redirect
            && to != dst.ip()
        {
            // RFC 5685: a notify-only response with our SPI zero; the
            // Nonce Data is the client's Ni, so an off-path attacker cannot
            // forge it. No state is kept.
            if let Ok(n) = Notify::redirect(to.into(), Some(&ni)) {
                let resp = Message::emit_plain(
                    sa.header(ExchangeType::IKE_SA_INIT, 0, true),
                    &[Payload::Notify(n)],
                );
                sa.note(ctx, Note::RedirectingOnInit { client: src, to });
                sa.transmit(ctx, dst, src, &resp);
            }
            return None;
        }
        sa.spi_r = ctx.nonzero_u64();
        let nr = ctx.random(32);
        let shared = match dh.shared_secret(&ke) {
            Ok(s) => s,
            Err(e) => {
                ctx.reject(src, dst, R::InitKe(e));
                return None;
            }
        };
        let keys = match IkeKeys::derive(&ni, &nr, &shared, sa.spi_i, sa.spi_r, 16) {
            Ok(k) => k,
            Err(e) => {
                ctx.reject(src, dst, R::KeyDerivation(e));
                return None;
            }
        };
        ctx.event(Event::KeysDerived {
            spi_i: sa.spi_i,
            spi_r: sa.spi_r,
            keys: Box::new(keys.clone()),
        });
        // NAT detection with the request's SPIs (SPIr zero), RFC 7296 §2.23.
        sa.nat.peer_natt = has_notify(&msg.payloads, NotifyType::NAT_DETECTION_SOURCE_IP);
        sa.nat.natt = sa.nat.peer_natt && ctx.config.settings.nat_traversal;
        if sa.nat.natt {
            sa.detect_nat(ctx, &msg.payloads, header.spi_i, 0, src, dst);
        }
        sa.window.current_request = bytes.to_vec();
        let mut payloads = vec![
            Payload::Sa(vec![Proposal::ike_default()]),
            Payload::Ke {
                group: transform_id::DH_CURVE25519,
                data: dh.public().to_vec(),
            },
            Payload::Nonce(nr.clone()),
        ];
        if ctx.config.settings.nat_traversal {
            payloads.extend(sa.natd_pair(dst, src));
        }
        if ctx.config.settings.childless {
            // RFC 6023 §3: IKE SAs without a Child SA are welcome here.
            payloads.push(notify(NotifyType::CHILDLESS_IKEV2_SUPPORTED, vec![]));
        }
        let resp = Message::emit_plain(sa.header(ExchangeType::IKE_SA_INIT, 0, true), &payloads);
        sa.life = Lifecycle::ExpectAuthRequest(Box::new(ExpectAuthRequest {
            keys,
            ni,
            nr,
            init_request: bytes.to_vec(),
            init_response: resp.clone(),
        }));
        sa.send_response(ctx, 0, resp, dst, src);
        Some(sa)
    }

    /// The responder is under load and asks for a COOKIE (RFC 7296 §2.6):
    /// IKE_SA_INIT again, N(COOKIE) first and every other payload as
    /// before; the new octets are what our AUTH signs. At most three times.
    fn retry_with_cookie(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        cookie: Vec<u8>,
    ) {
        const MAX_COOKIES: u8 = 3;
        let header = self.header(ExchangeType::IKE_SA_INIT, 0, false);
        let Lifecycle::ExpectInitResponse(setup) = &mut self.life else {
            return;
        };
        if setup.cookies >= MAX_COOKIES || cookie.is_empty() || cookie.len() > 64 {
            ctx.reject(src, dst, R::InitResponseUnexpected);
            return;
        }
        let Ok(old) = Message::parse(&setup.init_request) else {
            return;
        };
        let mut payloads = vec![notify(NotifyType::COOKIE, cookie.clone())];
        payloads.extend(
            old.payloads
                .into_iter()
                .filter(|p| p.as_notify().is_none_or(|n| n.kind != NotifyType::COOKIE)),
        );
        let bytes = Message::emit_plain(header, &payloads);
        setup.init_request = bytes.clone();
        setup.cookies += 1;
        let wait = super::window::schedule(self.role, &ctx.config.settings).timeout(0);
        if let Some(r) = self.window.outstanding.iter_mut().find(|r| r.mid == 0) {
            r.bytes = bytes.clone();
            r.retransmissions = 0;
            r.next_at = ctx.now + wait;
        }
        self.note(
            ctx,
            Note::CookieReturned {
                octets: cookie.len(),
            },
        );
        let (local, remote) = (self.local, self.remote);
        self.transmit(ctx, local, remote, &bytes);
    }

    /// Initiator: the IKE_SA_INIT response (or a REDIRECT or a COOKIE
    /// request in its place).
    pub(super) fn handle_init_response(
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
                ctx.reject(src, dst, R::InitResponseMalformed(e));
                return;
            }
        };
        let Lifecycle::ExpectInitResponse(setup) = &self.life else {
            ctx.reject(src, dst, R::InitResponseUnexpected);
            return;
        };
        if header.spi_r == 0
            && let Some(n) = msg
                .payloads
                .iter()
                .filter_map(Payload::as_notify)
                .find(|n| n.kind == NotifyType::COOKIE)
        {
            let cookie = n.data.clone();
            self.retry_with_cookie(ctx, src, dst, cookie);
            return;
        }
        if let Some(n) = msg
            .payloads
            .iter()
            .filter_map(Payload::as_notify)
            .find(|n| n.kind == NotifyType::REDIRECT)
        {
            let ni = setup.ni.clone();
            let replaces = setup.origin.replaces;
            self.handle_init_redirect(ctx, src, dst, n, &ni, replaces);
            return;
        }
        if header.spi_r == 0 {
            ctx.reject(src, dst, R::InitResponseUnexpected);
            return;
        }
        let (ke, nr) = ke_and_nonce(&msg.payloads);
        let (Some(ke), Some(nr)) = (ke, nr) else {
            ctx.reject(src, dst, R::InitResponseIncomplete);
            return;
        };
        let shared = match setup.dh.shared_secret(&ke) {
            Ok(s) => s,
            Err(e) => {
                ctx.reject(src, dst, R::InitResponseKe(e));
                return;
            }
        };
        self.spi_r = header.spi_r;
        let keys = match IkeKeys::derive(&setup.ni, &nr, &shared, self.spi_i, self.spi_r, 16) {
            Ok(k) => k,
            Err(e) => {
                ctx.reject(src, dst, R::KeyDerivation(e));
                return;
            }
        };
        ctx.event(Event::KeysDerived {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            keys: Box::new(keys.clone()),
        });
        let Lifecycle::ExpectInitResponse(setup) =
            std::mem::replace(&mut self.life, Lifecycle::Deleted(None))
        else {
            return;
        };
        let ExpectInitResponse {
            ni,
            init_request,
            origin,
            ..
        } = *setup;
        self.window.outstanding.clear();
        ctx.event(Event::RequestDone {
            spi_i: self.spi_i,
            mid: 0,
        });
        self.last_rx = ctx.now;
        self.local = dst;
        self.remote = src;
        // I-2.23-9: NAT-D from the responder.
        self.nat.peer_natt = has_notify(&msg.payloads, NotifyType::NAT_DETECTION_SOURCE_IP);
        self.nat.natt = self.nat.peer_natt && ctx.config.settings.nat_traversal;
        let natd_init = if self.nat.natt {
            let (spi_i, spi_r) = (self.spi_i, self.spi_r);
            self.detect_nat(ctx, &msg.payloads, spi_i, spi_r, src, dst)
        } else {
            None
        };
        // RFC 4555 §3.3 (M-3.3-1): with MOBIKE and NAT-T on both sides, move
        // to port 4500 even without a NAT; I-2.23-2 with a NAT.
        if self.nat.natt
            && (ctx.config.settings.mobike || self.nat.local_behind_nat || self.nat.peer_behind_nat)
        {
            self.local = natt_port(self.local.ip());
            self.remote = natt_port(self.remote.ip());
        }
        // Our inbound Child SA SPI for IKE_AUTH.
        let child_spi = ctx.rng.next_u32() | 1;
        let auth = AuthInput {
            keys: &keys,
            nonce: &nr,
            message: &init_request,
        };
        // RFC 6023 §3: without a Child SA only where the responder said it
        // takes such IKE SAs.
        let childless = ctx.config.settings.childless
            && has_notify(&msg.payloads, NotifyType::CHILDLESS_IKEV2_SUPPORTED);
        let inner = self.auth_request_payloads(ctx, &auth, (!childless).then_some(child_spi));
        self.life = Lifecycle::ExpectAuthResponse(Box::new(ExpectAuthResponse {
            keys,
            ni,
            nr,
            init_response: bytes.to_vec(),
            child_spi,
            childless,
            natd_init,
            origin,
        }));
        let mid = self.window.next_mid;
        self.window.next_mid += 1;
        let Some(bytes) = self.encrypt(ExchangeType::IKE_AUTH, mid, false, &inner) else {
            return;
        };
        self.start_request(ctx, Task::Auth, mid, bytes);
    }

    /// The initiator's IKE_AUTH request: IDi, AUTH over our IKE_SA_INIT,
    /// the Child SA and, with MOBIKE, MOBIKE_SUPPORTED and our addresses.
    fn auth_request_payloads(
        &self,
        ctx: &Ctx,
        input: &AuthInput,
        child_spi: Option<u32>,
    ) -> Vec<Payload> {
        let idi = Identification::fqdn(&ctx.config.id);
        let auth = crypto::psk_auth(
            &ctx.config.psk,
            input.message,
            input.nonce,
            &input.keys.sk_pi,
            &idi.body(),
        );
        let mut inner = vec![
            Payload::IdI(idi),
            Payload::Auth {
                method: crypto::AUTH_SHARED_KEY_MIC,
                data: auth.to_vec(),
            },
        ];
        if let Some(spi) = child_spi {
            // With subnets behind the responder, the first one's Child SA
            // (the others follow with CREATE_CHILD_SA, rekey.rs).
            let tsr = match ctx.config.settings.child_subnets.first() {
                Some(s) => vec![s.selector()],
                None => any_ts(),
            };
            inner.extend([
                Payload::Sa(vec![Proposal::esp_default(spi)]),
                Payload::TsI(any_ts()),
                Payload::TsR(tsr),
            ]);
        }
        inner.extend(Self::set_window_size(ctx));
        if ctx.config.settings.mobike {
            // M-3.2-1 and M-3.4-1.
            inner.push(notify(NotifyType::MOBIKE_SUPPORTED, vec![]));
            inner.extend(self.address_list(ctx));
            if !self.nat.natt {
                // M-3.9-1: the first IKE_AUTH request, without NAT-T.
                inner.extend(nat::no_nats_allowed(self.local, self.remote));
            }
        }
        inner
    }

    /// RFC 4555 §3.1: IKE_SA_INIT unanswered here, so the next address of
    /// the responder gets an IKE_SA_INIT of its own (its NAT detection
    /// names the destination) and this SA goes. False if there is none.
    pub(super) fn try_next_destination(&mut self, ctx: &mut Ctx) -> bool {
        let Lifecycle::ExpectInitResponse(s) = &mut self.life else {
            return false;
        };
        if s.origin.next_peers.is_empty() {
            return false;
        }
        let next = s.origin.next_peers.remove(0);
        let origin = Origin {
            attempt: 0,
            next_peers: std::mem::take(&mut s.origin.next_peers),
            ..s.origin.clone()
        };
        ctx.actions
            .push(Action::Initiate(InitOptions { peer: next, origin }));
        let from = self.remote.ip();
        self.delete(ctx, DeleteReason::NextDestination { from, next });
        true
    }

    /// Responder: IKE_AUTH. AUTH verified, NO_NATS_ALLOWED checked, maybe
    /// a redirect; else the SA is established with the Child SA.
    pub(super) fn handle_auth_request(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        inner: &[Payload],
    ) {
        let Lifecycle::ExpectAuthRequest(setup) = &self.life else {
            return;
        };
        let setup = setup.clone();
        let mid = header.message_id;
        const AUTH: ExchangeType = ExchangeType::IKE_AUTH;
        let idi = inner.iter().find_map(|p| match p {
            Payload::IdI(id) => Some(id.clone()),
            _ => None,
        });
        let auth = inner.iter().find_map(|p| match p {
            Payload::Auth { method, data } => Some((*method, data.clone())),
            _ => None,
        });
        let (Some(idi), Some((method, auth))) = (idi, auth) else {
            ctx.reject(src, dst, R::AuthIncomplete);
            return;
        };
        let expected = crypto::psk_auth(
            &ctx.config.psk,
            &setup.init_request,
            &setup.nr,
            &setup.keys.sk_pi,
            &idi.body(),
        );
        if method != crypto::AUTH_SHARED_KEY_MIC || auth != expected {
            let failed = [notify(NotifyType::AUTHENTICATION_FAILED, vec![])];
            self.respond(ctx, AUTH, mid, &failed, dst, src);
            let id = idi.to_string();
            self.delete(ctx, DeleteReason::AuthFailed { id });
            return;
        }
        if let Some(reason) = unexpected_identity(ctx, &idi) {
            // RFC 7296 §2.21.2: an identity our policy does not take.
            let failed = [notify(NotifyType::AUTHENTICATION_FAILED, vec![])];
            self.respond(ctx, AUTH, mid, &failed, dst, src);
            self.delete(ctx, reason);
            return;
        }
        if !self.nat.natt && nat::prohibition_violated(inner, src, dst) {
            // M-3.9-2: answer to where the request came from, and do not
            // set up the SA.
            let refusal = [notify(NotifyType::UNEXPECTED_NAT_DETECTED, vec![])];
            self.respond(ctx, AUTH, mid, &refusal, dst, src);
            self.delete(ctx, DeleteReason::NatProhibited { src, dst });
            return;
        }
        let settings = &ctx.config.settings;
        if let Some(to) = settings.redirect_on_auth
            && settings.redirect
            && self.peer_redirect
            && to != dst.ip()
        {
            // RFC 5685: after authentication, IDr and AUTH with REDIRECT and
            // no Child SA; the client starts over with the new gateway.
            let mut out = idr_and_auth(ctx, &setup);
            if let Ok(n) = Notify::redirect(to.into(), None) {
                out.push(Payload::Notify(n));
            }
            self.respond(ctx, AUTH, mid, &out, dst, src);
            self.delete(ctx, DeleteReason::RedirectedClient { client: src, to });
            return;
        }
        // RFC 4555 §3.3 (B-3.3-1): the IKE SA's addresses come from the IP
        // header of the first IKE_AUTH request.
        self.local = dst;
        self.remote = src;
        // M-3.2-1; M-4.2.1-1: notify data is ignored on receipt.
        let mobike = has_notify(inner, NotifyType::MOBIKE_SUPPORTED) && ctx.config.settings.mobike;
        if mobike {
            // RFC 4555 §3.4 (M-3.4-1, B-3.4-1): store the list, nothing else.
            self.set_peer_addresses(ctx, src.ip(), inner);
        }
        let child_spi = ctx.rng.next_u32() | 1;
        // A Child SA where one is asked for and can be made; none where
        // none is asked for (childless, RFC 6023); NO_PROPOSAL_CHOSEN for
        // one we cannot make, and the IKE SA all the same (RFC 7296 §1.2).
        let (asked, offered) = child_offer(inner);
        // The selectors asked for (ours is TSr), narrowed to our subnets
        // (RFC 7296 §2.9); none of ours holds them: TS_UNACCEPTABLE.
        let (ours, theirs) = selectors_of(inner)
            .map(|(i, r)| (r, i))
            .unwrap_or_else(|| (any_ts(), any_ts()));
        let ts = rekey::narrow(&ctx.config.settings.child_subnets, ours, theirs);
        let acceptable = offered.is_some() && ts.is_some();
        let peer_child_spi = if acceptable { offered.unwrap_or(0) } else { 0 };
        let ts = ts.unwrap_or_default();
        let mut out = idr_and_auth(ctx, &setup);
        if acceptable {
            out.extend([
                Payload::Sa(vec![Proposal::esp_default(child_spi)]),
                Payload::TsI(ts.1.clone()),
                Payload::TsR(ts.0.clone()),
            ]);
        } else if offered.is_some() {
            out.push(notify(NotifyType::TS_UNACCEPTABLE, vec![]));
        } else if asked {
            out.push(notify(NotifyType::NO_PROPOSAL_CHOSEN, vec![]));
        }
        out.extend(Self::set_window_size(ctx));
        self.take_peer_window(ctx, inner);
        if mobike {
            out.push(notify(NotifyType::MOBIKE_SUPPORTED, vec![]));
            out.extend(self.address_list(ctx));
        }
        self.respond(ctx, AUTH, mid, &out, dst, src);
        let ExpectAuthRequest { keys, ni, nr, .. } = *setup;
        self.establish(
            ctx,
            Setup {
                keys,
                ni,
                nr,
                child_spi,
                peer_child_spi,
                mobike,
                natd_init: None,
                replaces: None,
                ts,
            },
        );
        if !acceptable {
            let refused = match offered {
                Some(_) => Some(NotifyType::TS_UNACCEPTABLE),
                None => asked.then_some(NotifyType::NO_PROPOSAL_CHOSEN),
            };
            self.note(ctx, Note::NoChildSa { refused });
        }
    }

    /// Initiator: the IKE_AUTH response.
    pub(super) fn handle_auth_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        inner: &[Payload],
    ) {
        let Lifecycle::ExpectAuthResponse(setup) = &self.life else {
            return;
        };
        let setup = setup.clone();
        if has_notify(inner, NotifyType::UNEXPECTED_NAT_DETECTED) {
            // M-3.9-4: retry from a new IKE_SA_INIT (from our next address),
            // as many times as a request is retransmitted.
            let attempt = setup.origin.attempt + 1;
            let retrying = attempt <= ctx.config.settings.retransmit_tries;
            if retrying {
                ctx.actions.push(Action::Initiate(InitOptions {
                    peer: self.remote.ip(),
                    origin: Origin {
                        attempt,
                        ..setup.origin.clone()
                    },
                }));
            }
            self.delete(ctx, DeleteReason::UnexpectedNat { retrying });
            return;
        }
        if has_notify(inner, NotifyType::AUTHENTICATION_FAILED) {
            self.delete(ctx, DeleteReason::AuthenticationFailed);
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
            self.delete(ctx, DeleteReason::AuthResponseIncomplete);
            return;
        };
        let expected = crypto::psk_auth(
            &ctx.config.psk,
            &setup.init_response,
            &setup.ni,
            &setup.keys.sk_pr,
            &idr.body(),
        );
        if auth != expected {
            let id = idr.to_string();
            self.delete(ctx, DeleteReason::AuthFailed { id });
            return;
        }
        if let Some(reason) = unexpected_identity(ctx, &idr) {
            self.delete(ctx, reason);
            return;
        }
        if let Some(n) = inner
            .iter()
            .filter_map(Payload::as_notify)
            .find(|n| n.kind == NotifyType::REDIRECT)
        {
            match NotifyData::parse(n) {
                Ok(NotifyData::Redirect { gw, .. }) if ctx.config.settings.redirect => {
                    self.follow_redirect(ctx, &gw, "IKE_AUTH", setup.origin.replaces);
                    self.delete(ctx, DeleteReason::RedirectedInAuth { gw });
                }
                _ => self.delete(ctx, DeleteReason::RedirectNotFollowed),
            }
            return;
        }
        self.local = dst;
        self.remote = src;
        self.take_peer_window(ctx, inner);
        // The responder may refuse the Child SA and keep the IKE SA (RFC
        // 7296 §1.2, §2.21.2); a childless request gets none (RFC 6023).
        let refused = inner
            .iter()
            .filter_map(Payload::as_notify)
            .map(|n| n.kind)
            .find(|k| CHILD_REFUSALS.contains(k));
        let asked_none = setup.childless;
        let peer_child_spi = if refused.is_some() {
            0
        } else {
            esp_spi(inner).unwrap_or(0)
        };
        let mobike = ctx.config.settings.mobike && has_notify(inner, NotifyType::MOBIKE_SUPPORTED);
        if mobike {
            self.set_peer_addresses(ctx, src.ip(), inner);
        }
        let ExpectAuthResponse {
            keys,
            ni,
            nr,
            child_spi,
            natd_init,
            origin,
            ..
        } = *setup;
        // The selectors as answered (TSi is ours; the responder may have
        // narrowed them, RFC 7296 §2.9).
        let ts = selectors_of(inner).unwrap_or_else(|| (any_ts(), any_ts()));
        self.establish(
            ctx,
            Setup {
                keys,
                ni,
                nr,
                child_spi,
                peer_child_spi,
                mobike,
                natd_init,
                replaces: origin.replaces,
                ts,
            },
        );
        if refused.is_some() || asked_none {
            self.note(ctx, Note::NoChildSa { refused });
        } else {
            // A Child SA for each further subnet behind the responder, one
            // CREATE_CHILD_SA after another (RFC 7296 §1.3.1).
            let more = ctx
                .config
                .settings
                .child_subnets
                .len()
                .min(usize::from(u8::MAX));
            for k in 1..more {
                self.queue(ctx, Job::NewChild(k as u8));
            }
        }
    }

    /// IKE_AUTH is done: the SA owns its keys, its Child SA and the MOBIKE
    /// state from here on.
    fn establish(&mut self, ctx: &mut Ctx, s: Setup) {
        if let Some(old) = s.replaces {
            // RFC 5685: the SA with the gateway that redirected us goes
            // once the new one is up.
            ctx.actions.push(Action::Delete {
                spi_i: old,
                reason: LocalDelete::Replaced {
                    by: self.remote.ip(),
                },
            });
        }
        let child = self.install_child_sa(ctx, &s);
        ctx.event(Event::Established {
            spi_i: self.spi_i,
            mobike: s.mobike,
        });
        ctx.event(Event::IkePathChanged {
            spi_i: self.spi_i,
            local: self.local,
            remote: self.remote,
        });
        // RFC 4555 §3.3: IPsec SA tunnel addresses come from the IKE SA
        // (none to tell of without a Child SA).
        let udp_encap = self.nat.local_behind_nat || self.nat.peer_behind_nat;
        if child.is_some() {
            ctx.event(Event::IpsecPathChanged {
                spi_i: self.spi_i,
                local: self.local,
                remote: self.remote,
                udp_encap,
            });
        }
        // §3.8 baseline: with no NAT found, a liveness response must show
        // our own address in NAT_DETECTION_DESTINATION_IP. With a NAT, the
        // port 500 mapping says nothing of the 4500 one; behind a NAT the
        // IKE_SA_INIT result is the one to compare with (RFC 4555 §3.8,
        // M-3.8-4), so that a mapping that changes before the first
        // liveness check is noticed too. It was taken on port 500, so the
        // first check after the float to 4500 differs and costs one update
        // that changes nothing if the mapping held.
        let natd_baseline = if ctx.config.settings.natd_first_check_baseline {
            // strongSwan: the first liveness check's answer is the baseline.
            None
        } else if !self.nat.local_behind_nat {
            Some(crypto::nat_detection_hash(
                self.spi_i, self.spi_r, self.local,
            ))
        } else if self.role == Role::Initiator {
            s.natd_init
        } else {
            None
        };
        self.life = Lifecycle::Established(Box::new(Established {
            keys: std::sync::Arc::new(s.keys),
            mobike: s.mobike,
            ipsec: (self.local, self.remote),
            udp_encap,
            children: child.into_iter().collect(),
            esp_mismatch: None,
            natd_baseline,
            natd_init: s.natd_init,
            pending_update: false,
            generation: 0,
            previous_path: None,
            nat_retries: 0,
            newest_update: None,
            newest_list: None,
            moved_from: None,
            announce_only: None,
            update_for_nat: false,
            ike_born: ctx.now,
            child_retry_after: 0,
            ike_retry_after: 0,
        }));
    }

    /// The Child SA made with IKE_AUTH (RFC 7296 §2.17): KEYMAT from the
    /// IKE_SA_INIT nonces, IKE_AUTH's initiator being the IKE SA's.
    fn install_child_sa(&self, ctx: &mut Ctx, s: &Setup) -> Option<ChildSa> {
        if s.peer_child_spi == 0 {
            return None;
        }
        self.new_child(
            ctx,
            &rekey::NewChild {
                sk_d: &s.keys.sk_d,
                ni: &s.ni,
                nr: &s.nr,
                shared: None,
                ours: self.role == Role::Initiator,
                my_spi: s.child_spi,
                peer_spi: s.peer_child_spi,
                replaces: None,
                ts: s.ts.clone(),
            },
        )
    }
}

/// The responder's IDr and AUTH (PSK, RFC 7296 §2.15) over its
/// IKE_SA_INIT response and the initiator's nonce.
fn idr_and_auth(ctx: &Ctx, setup: &ExpectAuthRequest) -> Vec<Payload> {
    let idr = Identification::fqdn(&ctx.config.id);
    let my_auth = crypto::psk_auth(
        &ctx.config.psk,
        &setup.init_response,
        &setup.ni,
        &setup.keys.sk_pr,
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
