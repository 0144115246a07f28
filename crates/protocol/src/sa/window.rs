use super::*;

/// What a request of ours is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ReqKind {
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
    pub(super) fn label(&self) -> &'static str {
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
pub(super) struct Request {
    pub(super) mid: u32,
    pub(super) kind: ReqKind,
    /// The IKE message as first sent; retransmissions reuse it bit for bit (I-2.1-7).
    pub(super) bytes: Vec<u8>,
    pub(super) retransmissions: u32,
    pub(super) next_at: Time,
    /// Sent over several address pairs (RFC 4555 §3.10 path testing).
    pub(super) probing: bool,
    pub(super) cookie2: Option<Vec<u8>>,
    /// The SA's address generation when this request was made (B-3.5-6).
    pub(super) generation: u32,
    /// A return routability check moved to a newer address while waiting:
    /// its answer proves nothing about either (B-3.7-1).
    pub(super) retargeted: bool,
    /// Sends since path testing started (for `Settings::probe`).
    pub(super) probes: u32,
    /// It went out from more than one of our addresses (M-3.6-2).
    pub(super) multi_source: bool,
    /// The address it first went out from.
    pub(super) first_src: IpAddr,
}

impl IkeSa {
    /// The peer's N(SET_WINDOW_SIZE) (RFC 7296 §2.3, I-2.3-3).
    pub(super) fn take_peer_window(&mut self, ctx: &mut Ctx, inner: &[Payload]) {
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

    pub(super) fn start_request(
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

    pub(super) fn report_request(&self, ctx: &mut Ctx, req: &Request) {
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

    pub(super) fn send_response(
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
    pub(super) fn window_open(&self) -> bool {
        let limit = if self.state == SaState::Established {
            self.peer_window.max(1)
        } else {
            1
        };
        (self.outstanding.len() as u32) < limit
    }

    /// Queues an INFORMATIONAL request; window size 1 (RFC 7296 §2.3, I-2.3-2):
    /// it goes out when nothing is outstanding.
    pub(super) fn queue(&mut self, ctx: &mut Ctx, kind: ReqKind) {
        if !self.queue.contains(&kind) {
            self.queue.push_back(kind);
        }
        self.send_queued(ctx);
    }

    pub(super) fn send_queued(&mut self, ctx: &mut Ctx) {
        while self.window_open() && self.state == SaState::Established {
            let Some(kind) = self.queue.pop_front() else {
                return;
            };
            self.send_informational(ctx, kind);
        }
    }

    pub(super) fn send_informational(&mut self, ctx: &mut Ctx, kind: ReqKind) {
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

    pub(super) fn retransmit(&mut self, ctx: &mut Ctx, mid: u32) {
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
}
