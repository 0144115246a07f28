//! Address lists (RFC 4555 §3.4, §3.6): ours in IKE_AUTH and whenever our
//! addresses change, the peer's taken as a whole; a local address that
//! goes away (the §3.5 trigger); and the responder moving its client on
//! purpose with a list of one address (reference §6.2 S-R1).

use super::*;
use crate::ListPolicy;
use crate::reason::MoveReason;

impl IkeSa {
    /// Our address list (RFC 4555 §3.4, §3.6): every usable address other
    /// than the one in the IP header, or NO_ADDITIONAL_ADDRESSES.
    pub(super) fn address_list(&self, ctx: &Ctx) -> Vec<Payload> {
        // A responder moving its peer on purpose announces only the
        // address it moves to (reference §6.2 S-R1).
        let addrs = self
            .est()
            .and_then(|e| e.announce_only.as_deref())
            .unwrap_or(ctx.local_addrs);
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

    /// An INFORMATIONAL request with our address list only.
    pub(super) fn address_list_payloads(&self, ctx: &Ctx) -> Vec<Payload> {
        let mut inner = self.address_list(ctx);
        if !self.nat.natt {
            inner.extend(nat::no_nats_allowed(self.local, self.remote)); // M-3.9-1
        }
        inner
    }

    /// The peer's complete list replaces the old one, the IP header's
    /// address always part of it (B-3.6-1).
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
            ctx.event(Event::PeerAddresses {
                spi_i: self.spi_i,
                addresses: list,
            });
        }
    }

    /// An address list in request `mid`: taken unless a newer one was
    /// (B-3.6-2: with a window above 1 an older list can arrive after a
    /// newer one; it is answered and otherwise ignored).
    pub(super) fn take_address_list(
        &mut self,
        ctx: &mut Ctx,
        mid: u32,
        src: SocketAddr,
        inner: &[Payload],
    ) {
        let Some(e) = self.est_mut() else { return };
        if e.newest_list.is_some_and(|m| mid < m) {
            self.note(ctx, Note::OlderList { mid });
            return;
        }
        e.newest_list = Some(mid);
        self.set_peer_addresses(ctx, src.ip(), inner);
    }

    /// Initiator: the responder's new list (from `src` to `dst`) no longer
    /// holds the address in use: the §3.5 trigger, handled by policy.
    pub(super) fn peer_list_changed(&mut self, ctx: &mut Ctx, src: SocketAddr, dst: SocketAddr) {
        if self.role != Role::Initiator || self.peer_addrs.contains(&self.remote.ip()) {
            return;
        }
        let why = MoveReason::PeerListDropped {
            address: self.remote.ip(),
        };
        match ctx.config.settings.list_policy {
            ListPolicy::Strict => {
                // The address the list came to is ours, of its family (a
                // list from an IPv6 address after the IPv4 one went).
                let local = if same_family(self.local.ip(), src.ip()) {
                    self.local
                } else {
                    ike_addr(self.nat.natt, dst.ip())
                };
                let remote = ike_addr(self.nat.natt, src.ip());
                self.move_to(ctx, local, remote, why);
            }
            ListPolicy::Follow => {
                // The request came from (src) to (dst), so that pair works
                // both ways: IKE and IPsec SAs follow at once.
                let old = (self.local, self.remote);
                let Some(e) = self.est_mut() else { return };
                e.previous_path = Some(old);
                e.generation += 1;
                self.set_ike_path(ctx, dst, src);
                self.note(ctx, Note::FollowingList { why, to: src });
                self.set_ipsec(ctx, dst, src);
            }
        }
    }

    /// The answer to our address list update.
    pub(super) fn handle_address_list_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        probing: bool,
        multi_source: bool,
    ) {
        let on_pair = (dst, src) == (self.local, self.remote);
        if self.role == Role::Responder && on_pair {
            let Some(e) = self.est_mut() else { return };
            if e.moved_from.is_some_and(|old| old.ip() != dst.ip()) {
                // Our own move was answered on the new pair: that pair works
                // both ways, the IPsec SAs follow.
                e.moved_from = None;
                self.note(ctx, Note::MoveAnswered { at: dst.ip() });
                self.set_ipsec(ctx, dst, src);
            }
        }
        if probing && self.role == Role::Initiator && !on_pair {
            // The pair that answered works; the update that follows carries
            // the list again (M-3.6-1).
            self.move_to(ctx, dst, src, MoveReason::ListAnsweredElsewhere);
        } else if multi_source {
            // M-3.6-2: sent from several source addresses, so the peer may
            // have taken the list with another one in the IP header: send
            // it again, once.
            self.note(ctx, Note::ListAgain);
            self.window.queue.push_back(Job::AddressList);
        }
    }

    /// Responder: move the peer to our address `to` on purpose (reference
    /// §6.2 S-R1): an address list holding only `to`, sent from `to`.
    pub fn move_self(&mut self, ctx: &mut Ctx, to: IpAddr) -> bool {
        if self.role != Role::Responder
            || !self.mobike()
            || !ctx.local_addrs.contains(&to)
            || to == self.local.ip()
            || !same_family(to, self.remote.ip())
        {
            return false;
        }
        let local = ike_addr(self.nat.natt, to);
        let old = (self.local, self.remote);
        let Some(e) = self.est_mut() else {
            return false;
        };
        e.moved_from = Some(old.0);
        e.previous_path = Some(old);
        e.announce_only = Some(vec![to]);
        self.set_ike_path(ctx, local, old.1);
        self.note(ctx, Note::MovingClient { to });
        self.queue(ctx, Job::AddressList);
        true
    }

    /// Responder: our own move (an address list sent from the new address)
    /// went unanswered `sends` times, e.g. because the initiator's NAT has
    /// no filter entry for that address (reference §6.2 S-R2). With
    /// fallback "add_old_back" the same request is re-sent from the old
    /// address if it is still ours (RFC 7296 §2.1 allows other IP headers,
    /// I-2.1-7). Returns whether it fell back.
    pub(super) fn fall_back_from_move(&mut self, ctx: &mut Ctx, i: usize, sends: u32) -> bool {
        let settings = &ctx.config.settings;
        if self.role != Role::Responder
            || self.window.outstanding[i].task != Task::AddressList
            || sends <= settings.move_fallback_after
            || settings.move_fallback != crate::MoveFallback::AddOldBack
        {
            return false;
        }
        let new = self.local;
        let Some(e) = self.est_mut() else {
            return false;
        };
        let Some(old) = e
            .moved_from
            .filter(|old| ctx.local_addrs.contains(&old.ip()))
        else {
            return false;
        };
        e.moved_from = None;
        e.announce_only = None;
        let remote = self.remote;
        self.set_ike_path(ctx, old, remote);
        let (new, old) = (new.ip(), old.ip());
        self.note(ctx, Note::MoveFallback { new, old });
        true
    }

    /// Our addresses changed (`old` were the addresses before). With a
    /// reaction delay (strongSwan), the SA acts when it is over, on the
    /// addresses then, against those before the first change.
    pub fn handle_local_addresses(&mut self, ctx: &mut Ctx, old: &[IpAddr]) {
        if !self.mobike() || self.retired() {
            return;
        }
        let delay = ctx.config.settings.reaction_delay.micros();
        if delay > 0 {
            if self.reaction.is_none() {
                self.reaction = Some((ctx.now + delay, old.to_vec()));
            }
            return;
        }
        self.react_to_addresses(ctx, old);
    }

    /// Acts on a change of our addresses (`old` were the addresses before).
    pub(super) fn react_to_addresses(&mut self, ctx: &mut Ctx, old: &[IpAddr]) {
        if !self.mobike() {
            return;
        }
        let current_gone = !ctx.local_addrs.contains(&self.local.ip());
        if current_gone && self.role == Role::Initiator {
            self.local_address_gone(ctx);
        } else if current_gone {
            self.own_address_gone(ctx);
        } else if old.iter().any(|a| !ctx.local_addrs.contains(a))
            || ctx.local_addrs.iter().any(|a| !old.contains(a))
        {
            // RFC 4555 §3.6: tell the peer our new complete list.
            self.queue(ctx, Job::AddressList);
        }
    }

    /// A pair to move to when our address in use is gone: one of ours of
    /// the peer's current family (the peer address stays), or else one of
    /// ours with a peer address of the same family from its list (a
    /// dual-stack move between IPv4 and IPv6: RFC 4555 §3.5 and §3.6 are
    /// written for both, and a pair of mixed families is no path, D3).
    fn pair_after_loss(&self, ctx: &Ctx) -> Option<(IpAddr, IpAddr)> {
        let remote = self.remote.ip();
        if let Some(&local) = ctx.local_addrs.iter().find(|a| same_family(**a, remote)) {
            return Some((local, remote));
        }
        ctx.local_addrs.iter().find_map(|&local| {
            self.peer_addrs
                .iter()
                .find(|p| same_family(**p, local))
                .map(|&peer| (local, peer))
        })
    }

    /// Initiator: the address in use is gone (RFC 4555 §3.5's lower-layer
    /// trigger): move to another address, of the peer's family if we have
    /// one, or else to a pair of the other family.
    fn local_address_gone(&mut self, ctx: &mut Ctx) {
        let address = self.local.ip();
        match self.pair_after_loss(ctx) {
            Some(_) if ctx.config.settings.path_check_first => {
                self.path_check(ctx, address, AfterCheck::Update { gone: address });
            }
            Some((local, remote)) => {
                let local = ike_addr(self.nat.natt, local);
                let remote = if remote == self.remote.ip() {
                    self.remote
                } else {
                    ike_addr(self.nat.natt, remote)
                };
                self.move_to(ctx, local, remote, MoveReason::LocalAddressGone { address });
            }
            None => self.note(ctx, Note::NoUsableAddress { address }),
        }
    }

    /// Responder: our own address is gone. We may move our IPsec SAs
    /// ourselves in this one case (B-3.5-15) and announce the new list from
    /// an address that works (§3.6, B-3.6-3); with no other address in the
    /// list, the initiator learns the old one is gone (the 2018 "responder
    /// MOBIKE" move, reference §6.2 S-R1).
    fn own_address_gone(&mut self, ctx: &mut Ctx) {
        let Some((new, peer)) = self.pair_after_loss(ctx) else {
            let address = self.local.ip();
            self.note(ctx, Note::NoUsableOwnAddress { address });
            return;
        };
        if ctx.config.settings.path_check_first {
            let gone = self.local.ip();
            self.path_check(ctx, gone, AfterCheck::AddressList);
            return;
        }
        let local = ike_addr(self.nat.natt, new);
        // Another family: the list goes to the initiator's address of that
        // family, from its own list (B-3.6-3); the IKE SA's port stays.
        let remote = if same_family(peer, self.remote.ip()) {
            self.remote
        } else {
            SocketAddr::new(peer, self.remote.port())
        };
        self.own_move(ctx, local, remote);
    }

    /// strongSwan checks the paths from the addresses left before it moves
    /// (`Settings::path_check_first`, reference §8.1 items 4–6).
    fn path_check(&mut self, ctx: &mut Ctx, gone: IpAddr, then: AfterCheck) {
        let pairs = self.present_paths(ctx).len();
        self.note(ctx, Note::PathCheck { gone, pairs });
        self.queue(ctx, Job::PathCheck(then));
    }

    /// A path check was answered on `dst` -> `src`: that path works, and
    /// the SA moves there.
    pub(super) fn handle_path_check_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        then: AfterCheck,
    ) {
        match then {
            AfterCheck::Update { gone } => {
                self.move_to(ctx, dst, src, MoveReason::PathCheckAnswered { gone });
            }
            AfterCheck::AddressList => self.own_move(ctx, dst, src),
        }
    }

    /// Responder: our side moves to `local` (our address in use is gone).
    fn own_move(&mut self, ctx: &mut Ctx, local: SocketAddr, remote: SocketAddr) {
        let new = local.ip();
        let old = (self.local, self.remote);
        let Some(e) = self.est_mut() else { return };
        e.previous_path = Some(old);
        // Only our own side moves: the IPsec SAs keep the peer address they
        // have (a newer one may still be under its return routability
        // check, M-3.7-3).
        let peer = e.ipsec.1;
        self.set_ike_path(ctx, local, remote);
        self.note(ctx, Note::OwnAddressGone { from: new });
        // A peer address of the other family is no path for them: they
        // wait for the initiator's UPDATE_SA_ADDRESSES (RFC 4555 §3.5).
        if same_family(peer.ip(), new) {
            self.set_ipsec(ctx, local, peer);
        }
        // Requests waiting for an answer leave from an address we still
        // have (RFC 7296 §2.1 allows another header).
        self.resend_return_routability_from(ctx, local);
        self.queue(ctx, Job::AddressList);
    }
}
