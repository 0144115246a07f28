//! Return routability (RFC 4555 §3.7): a COOKIE2 the peer must echo
//! (M-3.7-5), checked by its sender (M-3.7-6; a mismatch closes the IKE
//! SA, M-3.7-7). The responder checks a new initiator address this way
//! before its IPsec SAs move there (M-3.7-1, B-3.5-12); a report of
//! unwanted traffic starts a liveness check with COOKIE2 (§5.3, M-5.3-1).

use super::*;
use crate::reason::Cookie2Exchange;
use mobike_wire::message::notify_data;

impl IkeSa {
    /// A fresh COOKIE2: unpredictable, 8..64 octets (M-3.7-4, M-4.2.5-1).
    pub(super) fn new_cookie2(ctx: &mut Ctx) -> Vec<u8> {
        ctx.random(ctx.config.settings.cookie2_len.clamp(8, 64))
    }

    /// M-3.7-6, M-3.7-7: the COOKIE2 must come back unchanged; if not, the
    /// IKE SA is closed. Returns whether it matched.
    pub(super) fn cookie2_matches(
        &mut self,
        ctx: &mut Ctx,
        sent: &[u8],
        inner: &[Payload],
        exchange: Cookie2Exchange,
    ) -> bool {
        if notify_data(inner, NotifyType::COOKIE2) == Some(sent) {
            return true;
        }
        self.delete(ctx, DeleteReason::Cookie2Mismatch(exchange));
        false
    }

    /// M-5.3-1: a liveness check whose COOKIE2 makes it a return
    /// routability test.
    pub(super) fn liveness_rr_request(&mut self, ctx: &mut Ctx) -> (Vec<Payload>, Task) {
        let mut inner = Vec::new();
        if self.mobike() && self.nat.natt {
            inner.extend(self.natd_pair(self.local, self.remote));
        }
        let cookie2 = Self::new_cookie2(ctx);
        inner.push(notify(NotifyType::COOKIE2, cookie2.clone()));
        (inner, Task::LivenessRr { cookie2 })
    }

    /// The responder's check of a new initiator address.
    pub(super) fn return_routability_request(
        &mut self,
        ctx: &mut Ctx,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> (Vec<Payload>, Task) {
        let cookie2 = Self::new_cookie2(ctx);
        let inner = vec![notify(NotifyType::COOKIE2, cookie2.clone())];
        let task = Task::ReturnRoutability {
            local,
            remote,
            cookie2,
            retargeted: false,
        };
        (inner, task)
    }

    /// Responder, RFC 4555 §3.5 steps 6 and 7: the initiator's update came
    /// from `remote` to our `local`. A new address is checked with our own
    /// COOKIE2 before the IPsec SAs move there (M-3.7-1, M-3.7-3,
    /// B-3.5-12); without return routability they move at once (M-3.7-2).
    pub(super) fn check_new_peer_address(
        &mut self,
        ctx: &mut Ctx,
        local: SocketAddr,
        remote: SocketAddr,
    ) {
        // An older check still waiting is for an address the initiator has
        // left: a queued one is dropped, an outstanding one goes to the new
        // address (message IDs must stay in sequence, B-3.5-4) and its
        // answer will not count (B-3.7-1).
        self.window
            .queue
            .retain(|j| !matches!(j, Job::ReturnRoutability { .. }));
        let retarget = self
            .window
            .outstanding
            .iter_mut()
            .find_map(|r| match &mut r.task {
                Task::ReturnRoutability {
                    local: l,
                    remote: to,
                    retargeted,
                    ..
                } => Some((l, to, retargeted, &r.bytes)),
                _ => None,
            });
        if let Some((l, to, retargeted, bytes)) = retarget
            && (*l, *to) != (local, remote)
        {
            *l = local;
            *to = remote;
            *retargeted = true;
            let bytes = bytes.clone();
            self.transmit(ctx, local, remote, &bytes);
            return;
        }
        let moved = self.est().is_some_and(|e| e.ipsec.1 != remote);
        let checking =
            self.window.outstanding.iter().any(
                |r| matches!(r.task, Task::ReturnRoutability { remote: to, .. } if to == remote),
            );
        if moved && checking {
            // The check of this very address is under way.
        } else if moved && ctx.config.settings.return_routability {
            self.note(ctx, Note::CheckingReturnRoutability { address: remote });
            self.queue(ctx, Job::ReturnRoutability { local, remote });
        } else {
            self.set_ipsec(ctx, local, remote);
        }
    }

    /// Our return routability check of `local` -> `remote` was answered
    /// with the right COOKIE2.
    pub(super) fn return_routability_answered(
        &mut self,
        ctx: &mut Ctx,
        local: SocketAddr,
        remote: SocketAddr,
        retargeted: bool,
    ) {
        if retargeted {
            // It went to an older address too (B-3.7-1): no proof for the
            // current one; check again.
            let (local, remote) = (self.local, self.remote);
            self.window
                .queue
                .push_back(Job::ReturnRoutability { local, remote });
        } else if (local, remote) == (self.local, self.remote) {
            self.set_ipsec(ctx, local, remote);
        }
    }

    /// Our own address is gone: outstanding checks leave from `local`
    /// instead (RFC 7296 §2.1 allows another IP header).
    pub(super) fn resend_return_routability_from(&mut self, ctx: &mut Ctx, local: SocketAddr) {
        let mut resend = Vec::new();
        for r in &mut self.window.outstanding {
            if let Task::ReturnRoutability {
                local: l,
                remote: to,
                ..
            } = &mut r.task
                && !ctx.local_addrs.contains(&l.ip())
            {
                *l = local;
                resend.push((*to, r.bytes.clone()));
            }
        }
        for (to, bytes) in resend {
            self.transmit(ctx, local, to, &bytes);
        }
    }
}
