use super::*;

impl IkeSa {
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

    pub(super) fn liveness_due(&self) -> Option<Time> {
        if self.role != Role::Initiator
            || self.state != SaState::Established
            || !self.outstanding.is_empty()
        {
            return None;
        }
        self.liveness_interval.map(|i| self.last_rx + i)
    }

    /// M-3.10-1: periodic path testing while the current path works.
    pub(super) fn path_test_due(&self) -> Option<Time> {
        if self.role != Role::Initiator
            || self.state != SaState::Established
            || !self.mobike
            || !self.outstanding.is_empty()
        {
            return None;
        }
        self.path_test_interval.map(|i| self.last_path_test + i)
    }

    pub(super) fn keepalive_due(&self) -> Option<Time> {
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
    pub(super) fn candidate_paths(&self, ctx: &Ctx) -> Vec<(SocketAddr, SocketAddr)> {
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

    pub(super) fn handle_liveness_response(
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
}
