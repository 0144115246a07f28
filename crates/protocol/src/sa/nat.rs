//! NAT detection (RFC 7296 §2.23, RFC 4555 §3.8), the NAT prohibition
//! without NAT traversal (RFC 4555 §3.9) and, without MOBIKE, following a
//! NATed peer's new address (I-2.23-11, never with MOBIKE: M-3.8-6).

use super::*;

/// What NAT detection found, and whether NAT traversal is on.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct NatState {
    /// The peer sent NAT detection payloads in IKE_SA_INIT.
    pub(super) peer_natt: bool,
    /// NAT traversal is in effect: both sides sent NAT-D (RFC 7296 §2.23).
    pub(super) natt: bool,
    pub(super) local_behind_nat: bool,
    pub(super) peer_behind_nat: bool,
}

/// RFC 4555 §3.9 (M-3.9-2): a NO_NATS_ALLOWED that does not match the IP
/// header shows an address translator on the way. Its contents are used for
/// nothing but this comparison (M-3.9-5).
pub(super) fn prohibition_violated(payloads: &[Payload], src: SocketAddr, dst: SocketAddr) -> bool {
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

/// N(NO_NATS_ALLOWED) naming the addresses a request goes from and to
/// (M-3.9-1).
pub(super) fn no_nats_allowed(src: SocketAddr, dst: SocketAddr) -> Option<Payload> {
    Notify::no_nats_allowed(src, dst).ok().map(Payload::Notify)
}

impl IkeSa {
    /// Compares received NAT-D notifies with our own hashes (RFC 7296 §2.23):
    /// no NAT_DETECTION_SOURCE_IP matches ⇒ the peer is behind a NAT; the
    /// NAT_DETECTION_DESTINATION_IP does not match ⇒ we are. Returns the
    /// NAT_DETECTION_DESTINATION_IP received.
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
            self.note(ctx, Note::StaleNatDetection);
            return None;
        }
        let local = got_dst != dst_hash;
        let peer = !src_match;
        if local != self.nat.local_behind_nat
            || peer != self.nat.peer_behind_nat
            || !self.is_established()
        {
            self.set_nat(ctx, local, peer);
        }
        Some(got_dst)
    }

    /// Records and reports what NAT detection found (RFC 7296 §2.23).
    pub(super) fn set_nat(&mut self, ctx: &mut Ctx, local: bool, peer: bool) {
        self.nat.local_behind_nat = local;
        self.nat.peer_behind_nat = peer;
        ctx.event(Event::NatDetection {
            spi_i: self.spi_i,
            local_behind_nat: local,
            peer_behind_nat: peer,
        });
    }

    /// NAT_DETECTION_SOURCE_IP and NAT_DETECTION_DESTINATION_IP for a
    /// message from `local` to `remote`.
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
        let Some(e) = self.est() else { return };
        if e.mobike
            || !self.nat.natt
            || self.nat.local_behind_nat
            || !self.nat.peer_behind_nat
            || src == self.remote
        {
            return;
        }
        let from = self.remote;
        self.note(ctx, Note::FollowingRebinding { from, to: src });
        let local = self.local;
        self.set_ike_path(ctx, local, src);
        self.set_ipsec(ctx, local, src);
    }
}
