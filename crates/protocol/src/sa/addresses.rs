use super::*;

impl IkeSa {
    /// Our address list (RFC 4555 §3.4, §3.6): every usable address other
    /// than the one in the IP header, or NO_ADDITIONAL_ADDRESSES.
    pub(super) fn address_list(&self, ctx: &Ctx) -> Vec<Payload> {
        // A responder moving its peer on purpose announces only the
        // address it moves to (reference §6.2 S-R1).
        let addrs = self.announce_only.as_deref().unwrap_or(ctx.local_addrs);
        let others: Vec<Payload> = addrs
            .iter()
            .filter(|a| **a != self.local.ip())
            .map(|a| Payload::Notify(Notify::additional_address(*a)))
            .collect();
        if others.is_empty() {
            vec![notify(NotifyType::NO_ADDITIONAL_ADDRESSES, vec![])]
        } else {
            others
        }
    }

    /// Responder: move the peer to our address `to` on purpose (reference
    /// §6.2 S-R1): an address list holding only `to`, sent from `to`.
    pub fn move_self(&mut self, ctx: &mut Ctx, to: IpAddr) -> bool {
        if self.role != Role::Responder
            || self.state != SaState::Established
            || !self.mobike
            || !ctx.local_addrs.contains(&to)
            || to == self.local.ip()
            || !same_family(to, self.remote.ip())
        {
            return false;
        }
        let local = ike_addr(self.natt, to);
        self.moved_from = Some(self.local);
        self.previous_path = Some((self.local, self.remote));
        self.local = local;
        self.announce_only = Some(vec![to]);
        ctx.events.push_back(Event::IkePathChanged {
            spi_i: self.spi_i,
            local,
            remote: self.remote,
        });
        self.note(
            ctx,
            format!("moving the client to {to}: an address list of {to} alone, sent from {to}"),
            "RFC 4555 §3.6 (B-3.6-3); responder MOBIKE (reference §6.2 S-R1)",
        );
        self.queue(ctx, ReqKind::AddressList);
        true
    }

    pub fn handle_local_addresses(&mut self, ctx: &mut Ctx, old: &[IpAddr]) {
        if self.state == SaState::Deleted {
            return;
        }
        if self.state != SaState::Established {
            return;
        }
        if !self.mobike {
            return;
        }
        let current_gone = !ctx.local_addrs.contains(&self.local.ip());
        if self.role == Role::Initiator && current_gone {
            let remote = self.remote;
            match ctx
                .local_addrs
                .iter()
                .find(|a| same_family(**a, remote.ip()))
            {
                Some(&new) => self.move_to(
                    ctx,
                    ike_addr(self.natt, new),
                    remote,
                    &format!("local address {} is gone", self.local.ip()),
                    "RFC 4555 §3.5 (lower-layer trigger)",
                ),
                None => self.note(
                    ctx,
                    format!(
                        "local address {} is gone and no other is usable",
                        self.local.ip()
                    ),
                    "RFC 4555 §3.5",
                ),
            }
            return;
        }
        if current_gone {
            // The responder's own address is gone. It may move its IPsec SAs
            // itself in this one case (B-3.5-15) and announces its new list
            // from an address that works (§3.6, B-3.6-3); with no other
            // address in the list, the initiator learns the old one is gone
            // (the 2018 "responder MOBIKE" move, reference §6.2 S-R1).
            let remote = self.remote;
            match ctx
                .local_addrs
                .iter()
                .find(|a| same_family(**a, remote.ip()))
            {
                Some(&new) => {
                    let local = ike_addr(self.natt, new);
                    self.previous_path = Some((self.local, self.remote));
                    self.local = local;
                    ctx.events.push_back(Event::IkePathChanged {
                        spi_i: self.spi_i,
                        local,
                        remote,
                    });
                    self.note(
                        ctx,
                        format!("own address gone: announcing the new list from {new}"),
                        "RFC 4555 §3.5 (B-3.5-15), §3.6 (B-3.6-3)",
                    );
                    // Only our own side moves: the IPsec SAs keep the peer
                    // address they have (a newer one may still be under
                    // its return routability check, M-3.7-3).
                    let peer = self.ipsec.map_or(remote, |(_, r)| r);
                    self.set_ipsec(ctx, local, peer);
                    // Requests waiting for an answer leave from an address
                    // we still have (RFC 7296 §2.1 allows another header).
                    let mut resend = Vec::new();
                    for r in &mut self.outstanding {
                        if let ReqKind::ReturnRoutability {
                            local: l,
                            remote: to,
                        } = &mut r.kind
                            && !ctx.local_addrs.contains(&l.ip())
                        {
                            *l = local;
                            resend.push((*to, r.bytes.clone()));
                        }
                    }
                    for (to, bytes) in resend {
                        self.transmit(ctx, local, to, &bytes);
                    }
                    self.queue(ctx, ReqKind::AddressList);
                }
                None => self.note(
                    ctx,
                    format!(
                        "own address {} is gone and no other is usable",
                        self.local.ip()
                    ),
                    "RFC 4555 §3.6",
                ),
            }
            return;
        }
        if old.iter().any(|a| !ctx.local_addrs.contains(a))
            || ctx.local_addrs.iter().any(|a| !old.contains(a))
        {
            // RFC 4555 §3.6: tell the peer our new complete list.
            self.queue(ctx, ReqKind::AddressList);
        }
    }

    pub(super) fn set_peer_addresses(
        &mut self,
        ctx: &mut Ctx,
        header_addr: IpAddr,
        inner: &[Payload],
    ) {
        let mut list = vec![header_addr];
        for n in inner.iter().filter_map(Payload::as_notify) {
            if let Some(a) = n.address()
                && !list.contains(&a)
            {
                list.push(a);
            }
        }
        if list != self.peer_addrs {
            self.peer_addrs = list.clone();
            ctx.events.push_back(Event::PeerAddresses {
                spi_i: self.spi_i,
                addresses: list,
            });
        }
    }
}
