use super::*;

impl IkeSa {
    // ------------------------------------------------------------- addresses

    /// RFC 4555 §3.5, initiator, once new addresses are chosen.
    pub(super) fn move_to(
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

    pub(super) fn set_ipsec(&mut self, ctx: &mut Ctx, local: SocketAddr, remote: SocketAddr) {
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

    /// RFC 4555 §3.5, responder side of UPDATE_SA_ADDRESSES.
    pub(super) fn handle_update_request(
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

    pub(super) fn handle_update_response(
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
}
