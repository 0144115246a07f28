//! UPDATE_SA_ADDRESSES (RFC 4555 §3.5): the initiator moves the IKE SA and
//! tells the responder, which takes the new addresses from the IP header,
//! checks return routability (cookie2.rs) and moves the IPsec SAs.

use super::*;
use crate::reason::{Cookie2Exchange, MoveReason};
use mobike_wire::message::has_notify;

impl IkeSa {
    /// RFC 4555 §3.5 steps 1 and 5: pending_update set or cleared.
    pub(super) fn set_pending(&mut self, ctx: &mut Ctx, pending: bool) {
        let Some(e) = self.est_mut() else { return };
        if e.pending_update != pending {
            e.pending_update = pending;
            ctx.event(Event::PendingUpdate {
                spi_i: self.spi_i,
                pending,
            });
        }
    }

    /// The IPsec SAs now use this address pair, UDP-encapsulated when a NAT
    /// was found (RFC 7296 §2.23, RFC 3948).
    pub(super) fn set_ipsec(&mut self, ctx: &mut Ctx, local: SocketAddr, remote: SocketAddr) {
        let encap = self.nat.local_behind_nat || self.nat.peer_behind_nat;
        let spi_i = self.spi_i;
        let Some(e) = self.est_mut() else { return };
        if e.ipsec == (local, remote) && e.udp_encap == encap {
            return;
        }
        e.ipsec = (local, remote);
        e.udp_encap = encap;
        if !e.children.is_empty() {
            ctx.event(Event::IpsecPathChanged {
                spi_i,
                local,
                remote,
                udp_encap: encap,
            });
        }
    }

    /// A new address change: the next update supersedes any outstanding
    /// one (B-3.5-6).
    pub(super) fn new_generation(&mut self) {
        if let Some(e) = self.est_mut() {
            e.generation += 1;
        }
    }

    /// UPDATE_SA_ADDRESSES with NAT-D (or NO_NATS_ALLOWED), a fresh COOKIE2
    /// and the address list.
    pub(super) fn update_request(&mut self, ctx: &mut Ctx) -> (Vec<Payload>, Task) {
        // RFC 4555 §3.5 step 5: clears pending_update (B-3.5-5).
        self.set_pending(ctx, false);
        let mut inner = vec![notify(NotifyType::UPDATE_SA_ADDRESSES, vec![])]; // B-3.5-7
        if self.nat.natt {
            inner.extend(self.natd_pair(self.local, self.remote));
        } else {
            // M-3.9-1: without NAT-T, every address update carries the
            // addresses it is sent from and to.
            inner.extend(nat::no_nats_allowed(self.local, self.remote));
        }
        // RFC 4555 §3.7 (M-3.7-4, M-4.2.5-1): unpredictable COOKIE2.
        let cookie2 = Self::new_cookie2(ctx);
        inner.push(notify(NotifyType::COOKIE2, cookie2.clone()));
        // M-3.6-1: the address list may ride along (strongSwan: only in an
        // update for a local address change).
        let for_nat = self.est().is_some_and(|e| e.update_for_nat);
        if !for_nat || ctx.config.settings.list_in_nat_updates {
            inner.extend(self.address_list(ctx));
        }
        let generation = self.est().map_or(0, |e| e.generation);
        (
            inner,
            Task::Update {
                cookie2,
                generation,
            },
        )
    }
    /// The initiator moves the IKE SA (RFC 4555 §3.5 steps 1–5): new
    /// addresses, pending_update, the IPsec SAs (unless the responder's
    /// address is new to us), outstanding requests re-sent there, and an
    /// UPDATE_SA_ADDRESSES when the window allows.
    pub(super) fn move_to(
        &mut self,
        ctx: &mut Ctx,
        local: SocketAddr,
        remote: SocketAddr,
        why: MoveReason,
    ) {
        let old = (self.local, self.remote);
        let Some(e) = self.est_mut() else { return };
        e.previous_path = Some(old);
        e.nat_retries = 0;
        e.update_for_nat = false;
        // Step 1: update the IKE SA, set pending_update (B-3.5-1).
        e.generation += 1;
        self.set_pending(ctx, true);
        self.set_ike_path(ctx, local, remote);
        self.note(ctx, Note::Moving { why, local, remote });
        // Step 2 (B-3.5-2): the IPsec SAs follow at once, unless the
        // responder's address is new to us: then the COOKIE2 in the update
        // is the return routability check that must come first (§3.7).
        if remote.ip() == old.1.ip() {
            self.set_ipsec(ctx, local, remote);
        }
        // Step 4 (B-3.5-4): an outstanding request is retransmitted to the
        // new addresses now; a stale UPDATE's answer will be ignored (B-3.5-6).
        let resend: Vec<Vec<u8>> = self
            .window
            .outstanding
            .iter()
            .filter(|r| r.task.fixed_path().is_none())
            .map(|r| r.bytes.clone())
            .collect();
        for bytes in resend {
            self.transmit(ctx, local, remote, &bytes);
        }
        // Step 5: UPDATE_SA_ADDRESSES when the window allows.
        self.queue(ctx, Job::Update);
    }

    /// Responder side of UPDATE_SA_ADDRESSES (request `mid`).
    pub(super) fn handle_update_request(
        &mut self,
        ctx: &mut Ctx,
        mid: u32,
        src: SocketAddr,
        dst: SocketAddr,
        inner: &[Payload],
    ) {
        if self.role == Role::Initiator {
            self.note(ctx, Note::UpdateFromResponder);
            return;
        }
        let local_ip = self.local.ip();
        let Some(e) = self.est_mut() else { return };
        if e.newest_update.is_some_and(|m| mid < m) {
            // B-3.5-8: answered as usual, but nothing moves.
            self.note(ctx, Note::OlderUpdate { mid });
            return;
        }
        e.newest_update = Some(mid);
        if let Some(old) = e.moved_from
            && dst.ip() != local_ip
        {
            // The initiator decides the addresses (RFC 4555 §3.5): its
            // update to another of ours ends our own move.
            e.moved_from = None;
            e.announce_only = None;
            let (chose, left) = (dst.ip(), old.ip());
            self.note(ctx, Note::ClientEndedMove { chose, left });
        }
        // Step 4 (B-3.5-10): addresses from the IP header, not from payloads.
        if (self.local, self.remote) != (dst, src) {
            self.set_ike_path(ctx, dst, src);
        }
        if has_notify(inner, NotifyType::NAT_DETECTION_SOURCE_IP) {
            // Step 8 / B-3.5-13: NAT-T on or off from this exchange's NAT-D.
            let (spi_i, spi_r) = (self.spi_i, self.spi_r);
            self.detect_nat(ctx, inner, spi_i, spi_r, src, dst);
        }
        // Steps 6 and 7: the new address is checked before the IPsec SAs
        // move there (cookie2.rs).
        self.check_new_peer_address(ctx, dst, src);
    }

    /// Initiator: the answer to our UPDATE_SA_ADDRESSES.
    pub(super) fn handle_update_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        cookie2: &[u8],
        generation: u32,
        inner: &[Payload],
    ) {
        if self.est().is_some_and(|e| e.generation != generation) {
            // B-3.5-6, B-3.5-14: an address change happened since; this
            // answer is ignored and a new update is (or will be) sent.
            self.note(ctx, Note::OutdatedUpdateResponse);
            return;
        }
        // M-3.7-6, M-3.7-7.
        if !self.cookie2_matches(ctx, cookie2, inner, Cookie2Exchange::Update) {
            return;
        }
        if (dst, src) != (self.local, self.remote) {
            // Sent to several destinations: not a return routability proof (B-3.7-1).
            self.move_to(ctx, dst, src, MoveReason::UpdateAnsweredElsewhere);
            return;
        }
        if has_notify(inner, NotifyType::UNACCEPTABLE_ADDRESSES) {
            self.refused(ctx, dst);
            return;
        }
        if has_notify(inner, NotifyType::UNEXPECTED_NAT_DETECTED) {
            // M-3.9-3: retry with new INFORMATIONAL requests, as often as a
            // request would be retransmitted.
            let tries = ctx.config.settings.retransmit_tries;
            let Some(e) = self.est_mut() else { return };
            e.nat_retries += 1;
            let retry = e.nat_retries;
            if retry > tries {
                self.delete(ctx, DeleteReason::NatRetriesExhausted);
            } else {
                self.note(ctx, Note::NatRetry { retry });
                self.window.queue.push_back(Job::Update);
            }
            return;
        }
        let (spi_i, spi_r) = (self.spi_i, self.spi_r);
        if let Some(got) = self.detect_nat(ctx, inner, spi_i, spi_r, src, dst)
            && let Some(e) = self.est_mut()
        {
            e.natd_baseline = Some(got);
        }
        // Both sides enable or disable NAT-T from this exchange (B-3.5-13).
        self.set_ipsec(ctx, dst, src);
    }

    /// M-3.5-2: of the three choices (other addresses, the old ones,
    /// disconnect) we go back to the addresses before the move if they are
    /// still ours; else the SA is closed.
    fn refused(&mut self, ctx: &mut Ctx, refused: SocketAddr) {
        let previous = self.est().and_then(|e| e.previous_path);
        match previous {
            Some((local, remote)) if ctx.local_addrs.contains(&local.ip()) => {
                self.new_generation();
                self.set_ike_path(ctx, local, remote);
                self.note(
                    ctx,
                    Note::RefusedFallBack {
                        refused,
                        local,
                        remote,
                    },
                );
                self.set_ipsec(ctx, local, remote);
            }
            _ => self.delete(ctx, DeleteReason::Refused { address: refused }),
        }
    }
}
