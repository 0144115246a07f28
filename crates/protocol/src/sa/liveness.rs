//! Timers and the checks they start: liveness checks (RFC 7296 §2.4, with
//! NAT detection, RFC 4555 §3.8), path testing over every address pair
//! (§3.10), NAT-keepalives (RFC 3948 §4) and lower-layer hints, which are
//! never a reason to move by themselves (§3.5).

use super::*;
use crate::Settings;
use crate::reason::MoveReason;
use mobike_wire::message::{has_notify, notify_data};

impl IkeSa {
    /// When this SA next needs `handle_timeout`.
    pub fn next_timeout(&self, settings: &Settings) -> Option<Time> {
        if self.is_deleted() {
            return None;
        }
        if self.retired() {
            // Replaced by a rekey: only its Delete is retransmitted, or it
            // waits for the peer's.
            return self
                .window
                .outstanding
                .iter()
                .map(|r| r.next_at)
                .chain(self.retired_wait_ends())
                .min();
        }
        [
            self.reaction.as_ref().map(|r| r.0),
            self.window.outstanding.iter().map(|r| r.next_at).min(),
            self.liveness_due(settings),
            self.keepalive_due(settings),
            self.path_test_due(settings),
            self.child_rekey_due(settings),
            self.ike_rekey_due(settings),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The initiator checks liveness after `liveness_interval` without
    /// hearing from the peer (nothing else outstanding).
    pub(super) fn liveness_due(&self, settings: &Settings) -> Option<Time> {
        if self.role != Role::Initiator
            || !self.is_established()
            || !self.window.outstanding.is_empty()
        {
            return None;
        }
        settings.liveness_check_after().map(|i| self.last_rx + i)
    }

    /// M-3.10-1: periodic path testing while the current path works.
    fn path_test_due(&self, settings: &Settings) -> Option<Time> {
        if self.role != Role::Initiator || !self.mobike() || !self.window.outstanding.is_empty() {
            return None;
        }
        settings
            .path_test_interval
            .map(|i| self.last_path_test + i.micros())
    }

    /// RFC 3948 §4 (U-4-2), RFC 7296 §2.23 (I-2.23-8): the side behind a
    /// NAT sends keepalives when it has sent nothing for the interval.
    pub(super) fn keepalive_due(&self, settings: &Settings) -> Option<Time> {
        (self.is_established() && self.nat.local_behind_nat)
            .then(|| self.last_tx + settings.keepalive_interval.micros())
    }

    /// Timers due at `ctx.now` fire: retransmissions first, then a path
    /// test or liveness check, then a keepalive.
    pub fn handle_timeout(&mut self, ctx: &mut Ctx) {
        if self.is_deleted() {
            return;
        }
        // An address change whose reaction delay is over.
        if self.reaction.as_ref().is_some_and(|r| r.0 <= ctx.now)
            && let Some((_, old)) = self.reaction.take()
        {
            self.react_to_addresses(ctx, &old);
        }
        let due: Vec<u32> = self
            .window
            .outstanding
            .iter()
            .filter(|r| r.next_at <= ctx.now)
            .map(|r| r.mid)
            .collect();
        for mid in due {
            if !self.is_deleted() {
                self.retransmit(ctx, mid);
            }
        }
        if self.is_deleted() {
            return;
        }
        if self.retired() {
            if self.retired_wait_ends().is_some_and(|t| t <= ctx.now) {
                self.retired_wait_over(ctx);
            }
            return;
        }
        let settings = &ctx.config.settings;
        let now = ctx.now;
        if self.path_test_due(settings).is_some_and(|t| t <= now) && self.window.queue.is_empty() {
            self.send_informational(ctx, Job::PathTest);
        }
        let settings = &ctx.config.settings;
        if self.liveness_due(settings).is_some_and(|t| t <= now) && self.window.queue.is_empty() {
            self.send_informational(ctx, Job::Liveness);
        }
        let settings = &ctx.config.settings;
        if self.ike_rekey_due(settings).is_some_and(|t| t <= now) {
            self.ike_lifetime_over(ctx);
        }
        let settings = &ctx.config.settings;
        if self.child_rekey_due(settings).is_some_and(|t| t <= now) {
            self.child_lifetime_over(ctx);
        }
        let settings = &ctx.config.settings;
        if self.keepalive_due(settings).is_some_and(|t| t <= now) {
            ctx.out.push_back(Transmit {
                src: self.local,
                dst: self.remote,
                payload: mobike_wire::udp::KEEPALIVE.to_vec(),
                protocol: IpProtocol::Udp,
            });
            self.last_tx = now;
        }
    }

    /// A liveness check (or path test): NAT-D so a changed NAT mapping
    /// shows (RFC 4555 §3.8, M-3.8-1, M-3.8-3), always or, as strongSwan,
    /// only while we are behind a NAT.
    pub(super) fn liveness_payloads(&self, ctx: &Ctx) -> Vec<Payload> {
        let always = ctx.config.settings.liveness_natd_always;
        if self.mobike() && self.nat.natt && (always || self.nat.local_behind_nat) {
            self.natd_pair(self.local, self.remote).to_vec()
        } else {
            Vec::new()
        }
    }

    /// [`IkeSa::candidate_paths`] from the addresses we still have.
    pub(super) fn present_paths(&self, ctx: &Ctx) -> Vec<(SocketAddr, SocketAddr)> {
        let mut paths = self.candidate_paths(ctx);
        paths.retain(|(l, _)| ctx.local_addrs.contains(&l.ip()));
        paths
    }

    /// Address pairs to test, the current one first (RFC 4555 §3.10):
    /// every usable local address with every peer address of its family.
    pub(super) fn candidate_paths(&self, ctx: &Ctx) -> Vec<(SocketAddr, SocketAddr)> {
        let natt = self.nat.natt;
        let mut v = vec![(self.local, self.remote)];
        for l in ctx.local_addrs {
            for r in &self.peer_addrs {
                if !same_family(*l, *r) {
                    continue;
                }
                let remote = if *r == self.remote.ip() {
                    self.remote
                } else {
                    ike_addr(natt, *r)
                };
                let pair = (ike_addr(natt, *l), remote);
                if !v.contains(&pair) {
                    v.push(pair);
                }
            }
        }
        v
    }

    /// M-3.10-1: a path test goes over every other address pair too, the
    /// same octets (I-2.1-7).
    pub(super) fn send_path_test_copies(&mut self, ctx: &mut Ctx, bytes: &[u8]) {
        self.last_path_test = ctx.now;
        let paths = self.candidate_paths(ctx);
        for (src, dst) in paths.iter().skip(1) {
            self.transmit(ctx, *src, *dst, bytes);
        }
        let local = self.local;
        if let Some(r) = self.window.outstanding.last_mut() {
            r.probing = Some(0);
            r.multi_source = paths.iter().any(|(l, _)| *l != local);
        }
    }

    /// A liveness check asked for now (the endpoint's user: a real
    /// network's operator, a test). Returns whether the SA can run one.
    pub fn check_liveness(&mut self, ctx: &mut Ctx) -> bool {
        if !self.is_established() {
            return false;
        }
        self.queue(ctx, Job::Liveness);
        true
    }

    /// A lower-layer hint: never a reason to move by itself (RFC 4555 §3.5).
    pub fn handle_hint(&mut self, ctx: &mut Ctx, hint: crate::Hint) {
        if self.role != Role::Initiator || !self.is_established() || self.retired() {
            return;
        }
        let ours = |p: IpAddr| p == self.remote.ip() || self.peer_addrs.contains(&p);
        match hint {
            crate::Hint::Icmp { peer } if ours(peer) => {
                self.note(ctx, Note::IcmpHint { peer });
                self.queue(ctx, Job::Liveness);
            }
            crate::Hint::InvalidSpi { peer } if ours(peer) => {
                self.note(ctx, Note::UnwantedTrafficHint { peer });
                self.queue(ctx, Job::LivenessRr);
            }
            crate::Hint::NatMappingSuspected if self.mobike() && self.nat.natt => {
                if ctx.config.settings.update_on_nat_hint {
                    // B-3.5-3: UDP encapsulation on before the update, so
                    // the IPsec traffic already passes a NAT.
                    if !self.nat.local_behind_nat {
                        let peer = self.nat.peer_behind_nat;
                        self.set_nat(ctx, true, peer);
                        if let Some((l, r)) = self.est().map(|e| e.ipsec) {
                            self.set_ipsec(ctx, l, r);
                        }
                    }
                    self.note(ctx, Note::NatHintUpdate);
                    if let Some(e) = self.est_mut() {
                        e.update_for_nat = true;
                    }
                    self.set_pending(ctx, true);
                    self.new_generation();
                    self.queue(ctx, Job::Update);
                } else {
                    self.note(ctx, Note::NatHintCheck);
                    self.queue(ctx, Job::Liveness);
                }
            }
            _ => {}
        }
    }

    /// The answer to a liveness check or path test.
    pub(super) fn handle_liveness_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        probing: bool,
        inner: &[Payload],
    ) {
        if (dst, src) != (self.local, self.remote) {
            if probing && self.role == Role::Initiator {
                self.path_answered_elsewhere(ctx, src, dst, inner);
            }
            return;
        }
        if !has_notify(inner, NotifyType::NAT_DETECTION_DESTINATION_IP) {
            return;
        }
        let got: Option<[u8; 20]> = notify_data(inner, NotifyType::NAT_DETECTION_DESTINATION_IP)
            .and_then(|d| d.try_into().ok());
        let Some(e) = self.est_mut() else { return };
        match (e.natd_baseline, got) {
            (Some(base), Some(got)) if base != got => {
                // M-3.8-3, M-3.8-4: a changed mapping ⇒ UPDATE_SA_ADDRESSES.
                let note = if Some(base) == e.natd_init {
                    Note::NatDifferentFromInit
                } else {
                    Note::NatMappingChanged
                };
                e.natd_baseline = Some(got);
                e.update_for_nat = true;
                self.note(ctx, note);
                self.set_pending(ctx, true);
                self.new_generation();
                self.window.queue.push_back(Job::Update);
            }
            (None, Some(got)) => e.natd_baseline = Some(got),
            _ => {}
        }
    }

    /// The pair that answered works (RFC 4555 §3.10). Its answer is no
    /// return routability proof (B-3.7-1): a new UPDATE_SA_ADDRESSES with
    /// COOKIE2 follows. Its NAT-D tells whether that path has a NAT, so UDP
    /// encapsulation is right before the IPsec SAs move (B-3.5-3). The
    /// request's own NAT-D described the old pair, so only our side can be
    /// judged from it.
    fn path_answered_elsewhere(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        inner: &[Payload],
    ) {
        if self.mobike() && self.nat.natt {
            let dst_hash = crypto::nat_detection_hash(self.spi_i, self.spi_r, dst);
            if let Some(got) = notify_data(inner, NotifyType::NAT_DETECTION_DESTINATION_IP)
                && got.len() == 20
                && (got != dst_hash) != self.nat.local_behind_nat
            {
                let peer = self.nat.peer_behind_nat;
                self.set_nat(ctx, got != dst_hash, peer);
            }
        }
        self.move_to(ctx, dst, src, MoveReason::PathTestAnsweredElsewhere);
    }
}
