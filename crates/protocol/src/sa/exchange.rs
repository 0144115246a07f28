//! Receiving: a message of this IKE SA goes to the procedure that handles
//! it. Requests pass the retransmission cache and the receive window
//! (window.rs) and the integrity check first; responses are matched to the
//! outstanding request, whose task says what the answer means.

use super::*;
use crate::reason;
use mobike_wire::message::{has_notify, notify_data};
use mobike_wire::notify::NotifyData;

impl IkeSa {
    /// A datagram for this IKE SA (header already parsed).
    pub fn handle(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) {
        if self.is_deleted() {
            ctx.reject(src, dst, Rejection::SaDeleted);
            return;
        }
        if header.flags.response() {
            self.handle_response(ctx, src, dst, header, bytes);
        } else {
            self.handle_request(ctx, src, dst, header, bytes);
        }
    }

    fn handle_request(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) {
        if self.answered_before(ctx, src, dst, header, bytes)
            || !self.in_receive_window(ctx, src, dst, header.message_id)
        {
            return;
        }
        let Some(inner) = self.open_or_reject(ctx, src, dst, header, bytes) else {
            return;
        };
        self.last_rx = ctx.now;
        self.window.current_request = bytes.to_vec();
        self.follow_nat_rebinding(ctx, src);
        match (header.exchange, &self.life) {
            (ExchangeType::IKE_AUTH, Lifecycle::ExpectAuthRequest(_)) => {
                self.handle_auth_request(ctx, src, dst, header, &inner);
            }
            (ExchangeType::INFORMATIONAL, Lifecycle::Established(_)) => {
                self.handle_informational_request(ctx, src, dst, header.message_id, &inner);
            }
            (ExchangeType::CREATE_CHILD_SA, Lifecycle::Established(_)) => {
                self.handle_create_child_request(ctx, src, dst, header.message_id, &inner);
            }
            (exchange, _) => {
                let state = self.state();
                ctx.reject(src, dst, Rejection::NotExpected { exchange, state });
            }
        }
    }

    fn handle_informational_request(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        mid: u32,
        inner: &[Payload],
    ) {
        const INFO: ExchangeType = ExchangeType::INFORMATIONAL;
        if inner.iter().any(|p| {
            matches!(p, Payload::Delete(d) if d.protocol == mobike_wire::registry::ProtocolId::IKE)
        }) {
            // RFC 7296 §1.4.1: an empty response, and the IKE SA is gone
            // (after a rekey, its successor carries on, §1.3.2).
            self.respond(ctx, INFO, mid, &[], dst, src);
            // The peer's rekey crossed ours and it deletes the old IKE SA:
            // its new one stays (ours never came back). RFC 7296 §2.8.2.
            self.crossed_rekey_won(ctx);
            let reason = match self.rekeyed_to {
                Some(stays) if self.redundant => DeleteReason::PeerRedundant { stays },
                Some(new_spi_i) => DeleteReason::PeerRekeyed { new_spi_i },
                None => DeleteReason::PeerDeleted,
            };
            self.delete(ctx, reason);
            return;
        }
        let esp_deleted: Vec<u32> = inner
            .iter()
            .filter_map(|p| match p {
                Payload::Delete(d) => Some(d.esp_spis()),
                _ => None,
            })
            .flatten()
            .collect();
        if !esp_deleted.is_empty() {
            self.handle_delete_child_request(ctx, src, dst, mid, &esp_deleted);
            return;
        }
        if let Some(n) = inner
            .iter()
            .filter_map(Payload::as_notify)
            .find(|n| n.kind == NotifyType::REDIRECT)
        {
            self.respond(ctx, INFO, mid, &[], dst, src);
            self.handle_redirect_request(ctx, n);
            return;
        }
        let update = has_notify(inner, NotifyType::UPDATE_SA_ADDRESSES);
        let has_natd = has_notify(inner, NotifyType::NAT_DETECTION_SOURCE_IP);
        let has_list = inner.iter().any(|p| {
            p.as_notify().is_some_and(|n| {
                matches!(
                    n.kind,
                    NotifyType::ADDITIONAL_IP4_ADDRESS
                        | NotifyType::ADDITIONAL_IP6_ADDRESS
                        | NotifyType::NO_ADDITIONAL_ADDRESSES
                )
            })
        });
        let mobike = self.mobike();
        let refusal = if mobike && (update || has_list) {
            self.refusal(ctx, update, inner, src, dst)
        } else {
            None
        };
        let mut out = Vec::new();
        if let Some(kind) = refusal {
            out.push(notify(kind, vec![]));
        } else if has_natd && mobike {
            // M-3.8-2: NAT-D in the request ⇒ NAT-D in the response, for the
            // addresses this packet really used.
            out.extend(self.natd_pair(dst, src));
        }
        // M-3.7-5: COOKIE2 copied as it is.
        if let Some(c) = notify_data(inner, NotifyType::COOKIE2) {
            out.push(notify(NotifyType::COOKIE2, c.to_vec()));
        }
        self.respond(ctx, INFO, mid, &out, dst, src);
        if let Some(kind) = refusal {
            self.note(ctx, Note::Refused { kind, from: src });
            return;
        }
        if !mobike {
            return;
        }
        if has_list {
            self.take_address_list(ctx, mid, src, inner);
        }
        if update {
            self.handle_update_request(ctx, mid, src, dst, inner);
        } else if has_list {
            self.peer_list_changed(ctx, src, dst);
        }
        // Otherwise (liveness, path test): no other action; the IKE SA does
        // not move (M-3.8-6).
    }

    /// Refusals come before any state change: a translator where NATs are
    /// not allowed (M-3.9-2), or addresses our policy does not accept
    /// (B-3.5-9). The response goes to the request's source either way.
    fn refusal(
        &self,
        ctx: &Ctx,
        update: bool,
        inner: &[Payload],
        src: SocketAddr,
        dst: SocketAddr,
    ) -> Option<NotifyType> {
        if !self.nat.natt && nat::prohibition_violated(inner, src, dst) {
            Some(NotifyType::UNEXPECTED_NAT_DETECTED)
        } else if update
            && self.role == Role::Responder
            && ctx.config.settings.refuse_addresses.contains(&src.ip())
        {
            Some(NotifyType::UNACCEPTABLE_ADDRESSES)
        } else {
            None
        }
    }

    fn handle_response(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) {
        let mid = header.message_id;
        let Some(pos) = self.window.find(mid) else {
            let late = mid < self.window.next_mid;
            ctx.reject(
                src,
                dst,
                if late {
                    Rejection::LateResponse { mid }
                } else {
                    Rejection::UnsolicitedResponse { mid }
                },
            );
            return;
        };
        if header.exchange == ExchangeType::IKE_SA_INIT {
            self.handle_init_response(ctx, src, dst, header, bytes);
            return;
        }
        let Some(inner) = self.open_or_reject(ctx, src, dst, header, bytes) else {
            return;
        };
        self.last_rx = ctx.now;
        let req = self.window.outstanding.remove(pos);
        ctx.event(Event::RequestDone {
            spi_i: self.spi_i,
            mid: req.mid,
        });
        self.follow_nat_rebinding(ctx, src);
        let probing = req.probing.is_some();
        match req.task {
            Task::Auth => self.handle_auth_response(ctx, src, dst, &inner),
            Task::Liveness | Task::PathTest => {
                self.handle_liveness_response(ctx, src, dst, probing, &inner)
            }
            Task::LivenessRr { cookie2 } => {
                if !self.cookie2_matches(ctx, &cookie2, &inner, reason::Cookie2Exchange::Liveness) {
                    return;
                }
                self.handle_liveness_response(ctx, src, dst, probing, &inner)
            }
            Task::Update {
                cookie2,
                generation,
            } => self.handle_update_response(ctx, src, dst, &cookie2, generation, &inner),
            Task::Delete(reason) => {
                self.delete(ctx, DeleteReason::Local(reason));
                return;
            }
            Task::Redirect { to } => self.note(ctx, Note::RedirectAcknowledged { to }),
            Task::PathCheck(then) => self.handle_path_check_response(ctx, src, dst, then),
            Task::RekeyChild {
                old_in,
                new_in,
                ni,
                dh_seed,
            } => self.handle_child_response(ctx, Some(old_in), new_in, &ni, dh_seed, &inner),
            Task::NewChild {
                new_in,
                ni,
                dh_seed,
            } => self.handle_child_response(ctx, None, new_in, &ni, dh_seed, &inner),
            Task::DeleteChild { spi_in } => self.child_delete_answered(ctx, spi_in),
            Task::RekeyIke {
                new_spi,
                ni,
                dh_seed,
            } => self.handle_rekey_ike_response(ctx, new_spi, &ni, dh_seed, &inner),
            Task::AddressList => {
                self.handle_address_list_response(ctx, src, dst, probing, req.multi_source)
            }
            Task::ReturnRoutability {
                local,
                remote,
                cookie2,
                retargeted,
            } => {
                let exchange = reason::Cookie2Exchange::ReturnRoutability;
                if !self.cookie2_matches(ctx, &cookie2, &inner, exchange) {
                    return;
                }
                self.return_routability_answered(ctx, local, remote, retargeted);
            }
            Task::Init => {}
        }
        self.send_queued(ctx);
    }

    /// The SK payload's contents, or the message is refused with the reason
    /// (its integrity check failed, or it does not parse).
    fn open_or_reject(
        &self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) -> Option<Vec<Payload>> {
        let exchange = header.exchange;
        self.open(bytes)
            .map_err(|error| {
                let reason = if header.flags.response() {
                    Rejection::Response { exchange, error }
                } else {
                    Rejection::Request { exchange, error }
                };
                ctx.reject(src, dst, reason);
            })
            .ok()
    }

    /// The REDIRECT notify of an INFORMATIONAL request (RFC 5685): only the
    /// original responder may send one, only to a client that supports it.
    fn handle_redirect_request(&mut self, ctx: &mut Ctx, n: &Notify) {
        match NotifyData::parse(n) {
            Ok(NotifyData::Redirect { gw, .. })
                if self.role == Role::Initiator && ctx.config.settings.redirect =>
            {
                let me = self.spi_i;
                self.follow_redirect(ctx, &gw, "INFORMATIONAL", Some(me));
            }
            _ => self.note(ctx, Note::RedirectIgnored),
        }
    }
}
