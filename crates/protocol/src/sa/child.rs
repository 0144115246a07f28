use super::*;

impl IkeSa {
    /// KEYMAT for the Child SA made with IKE_AUTH (RFC 7296 §2.17): data from
    /// the initiator travels under the responder's SPI with the first key.
    pub(super) fn install_child_sa(&mut self, ctx: &mut Ctx) {
        let Some(keys) = &self.keys else { return };
        if self.peer_child_spi == 0 {
            return;
        }
        let Ok((i2r, r2i)) = esp::child_keys(&keys.sk_d, &self.ni, &self.nr, 16) else {
            return;
        };
        let (i_spi, r_spi) = match self.role {
            Role::Initiator => (self.child_spi, self.peer_child_spi),
            Role::Responder => (self.peer_child_spi, self.child_spi),
        };
        let to_r = EspSa {
            spi: r_spi,
            key: i2r,
        };
        let to_i = EspSa {
            spi: i_spi,
            key: r2i,
        };
        ctx.events.push_back(Event::ChildSa {
            spi_i: self.spi_i,
            initiator_to_responder: (to_r.spi, to_r.key.clone()),
            responder_to_initiator: (to_i.spi, to_i.key.clone()),
        });
        let (out, inb) = match self.role {
            Role::Initiator => (to_r, to_i),
            Role::Responder => (to_i, to_r),
        };
        self.esp_out = Some(out);
        self.esp_in = Some(inb);
    }

    /// Our inbound ESP SPI.
    pub fn inbound_spi(&self) -> Option<u32> {
        self.esp_in.as_ref().map(|s| s.spi)
    }

    /// Sends an inner packet through the Child SA on the IPsec SAs' current
    /// addresses: UDP-encapsulated on the IKE ports when NAT traversal is on
    /// (RFC 3948 §2.1, U-2.1-1), plain ESP otherwise.
    pub fn send_esp(&mut self, ctx: &mut Ctx, inner: &[u8]) -> bool {
        if self.state != SaState::Established {
            return false;
        }
        let (Some(out), Some((local, remote))) = (&self.esp_out, self.ipsec) else {
            return false;
        };
        self.esp_seq = self.esp_seq.wrapping_add(1);
        let Ok(packet) = out.seal(self.esp_seq, esp::NEXT_HEADER_IPV4, inner) else {
            return false;
        };
        let t = if self.udp_encap {
            Transmit {
                src: local,
                dst: remote,
                payload: packet,
                protocol: IpProtocol::Udp,
            }
        } else {
            Transmit {
                src: SocketAddr::new(local.ip(), 0),
                dst: SocketAddr::new(remote.ip(), 0),
                payload: packet,
                protocol: IpProtocol::Esp,
            }
        };
        ctx.out.push_back(t);
        self.last_tx = ctx.now;
        true
    }

    /// An ESP packet for our inbound SPI, plain or UDP-encapsulated (both
    /// are accepted at any time, I-2.23-4, I-2.23-10). Returns the inner
    /// packet. Replays and packets too old for the window are dropped.
    pub fn handle_esp(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        packet: &[u8],
    ) -> Option<Vec<u8>> {
        let sa = self.esp_in.as_ref()?;
        let plain = match sa.open(packet) {
            Ok(p) => p,
            Err(e) => {
                self.reject(ctx, src, dst, format!("ESP: {e}"));
                return None;
            }
        };
        // M-3.12-1: compare the packet's addresses with the IPsec SA's. A
        // packet from elsewhere is delivered (both sides may briefly
        // disagree during a move) but is no liveness evidence (M-3.12-2).
        let expected = self
            .ipsec
            .is_some_and(|(l, r)| l.ip() == dst.ip() && r.ip() == src.ip());
        if expected {
            self.esp_mismatch = None;
            if ctx.config.settings.esp_liveness {
                self.last_rx = ctx.now;
            }
        } else if self.esp_mismatch != Some((src, dst)) {
            self.esp_mismatch = Some((src, dst));
            if let Some((l, r)) = self.ipsec {
                self.note(
                    ctx,
                    format!(
                        "ESP from {} to {}, but the IPsec SA uses {} -> {}: not taken as liveness evidence",
                        src.ip(),
                        dst.ip(),
                        r.ip(),
                        l.ip()
                    ),
                    "RFC 4555 §3.12 (M-3.12-1, M-3.12-2)",
                );
            }
        }
        let seq = plain.seq;
        if seq > self.esp_highest {
            let shift = seq - self.esp_highest;
            self.esp_window = if shift >= 64 {
                0
            } else {
                self.esp_window << shift
            };
            self.esp_window |= 1;
            self.esp_highest = seq;
        } else {
            let back = self.esp_highest - seq;
            if back >= 64 || self.esp_window & (1 << back) != 0 {
                self.reject(
                    ctx,
                    src,
                    dst,
                    format!("ESP sequence number {seq} replayed or too old"),
                );
                return None;
            }
            self.esp_window |= 1 << back;
        }
        Some(plain.payload)
    }
}
