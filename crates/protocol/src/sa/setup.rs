use super::*;

impl IkeSa {
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

    pub(super) fn handle_auth_request(
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
    pub(super) fn idr_and_auth(&self, ctx: &Ctx, keys: &IkeKeys) -> Vec<Payload> {
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

    pub(super) fn establish(&mut self, ctx: &mut Ctx) {
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

    pub(super) fn send_auth(&mut self, ctx: &mut Ctx) {
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

    pub(super) fn handle_auth_response(
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
}
