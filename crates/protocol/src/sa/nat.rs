use super::*;

impl IkeSa {
    /// Compares received NAT-D notifies with our own hashes (RFC 7296 §2.23):
    /// no NAT_DETECTION_SOURCE_IP matches ⇒ the peer is behind a NAT; the
    /// NAT_DETECTION_DESTINATION_IP does not match ⇒ we are.
    pub(super) fn detect_nat(
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
    pub(super) fn set_nat(&mut self, ctx: &mut Ctx, local: bool, peer: bool) {
        self.local_behind_nat = local;
        self.peer_behind_nat = peer;
        ctx.events.push_back(Event::NatDetection {
            spi_i: self.spi_i,
            local_behind_nat: local,
            peer_behind_nat: peer,
        });
    }

    pub(super) fn natd_pair(&self, local: SocketAddr, remote: SocketAddr) -> [Payload; 2] {
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

    /// RFC 7296 §2.23 (I-2.23-11): without MOBIKE, a host that is not
    /// behind a NAT follows a NATed peer's new address and port, taken from
    /// a new authenticated message. With MOBIKE it never does (M-3.8-6).
    pub(super) fn follow_nat_rebinding(&mut self, ctx: &mut Ctx, src: SocketAddr) {
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
}
