//! Redirect (RFC 5685): a gateway sends its client elsewhere, in
//! IKE_SA_INIT, in IKE_AUTH or (here) in an INFORMATIONAL on an
//! established SA; the client follows with a new IKE SA that replaces the
//! old one.

use super::*;
use mobike_wire::notify::{GwIdentity, NotifyData};

impl IkeSa {
    /// Responder: REDIRECT the client of this established SA (RFC 5685).
    pub fn redirect(&mut self, ctx: &mut Ctx, to: IpAddr) -> bool {
        if self.role != Role::Responder
            || !self.is_established()
            || !self.peer_redirect
            || !ctx.config.settings.redirect
        {
            return false;
        }
        self.queue(ctx, Job::Redirect { to });
        true
    }

    /// The INFORMATIONAL request's N(REDIRECT).
    pub(super) fn redirect_payloads(&self, to: IpAddr) -> Option<Vec<Payload>> {
        Notify::redirect(to.into(), None)
            .ok()
            .map(|n| vec![Payload::Notify(n)])
    }

    /// Follows RFC 5685's REDIRECT to `gw`: a new IKE SA there. Returns
    /// false when `gw` is a name (there is no resolver here).
    pub(super) fn follow_redirect(
        &mut self,
        ctx: &mut Ctx,
        gw: &GwIdentity,
        during: &str,
        replaces: Option<u64>,
    ) -> bool {
        let Some(to) = gw.address() else {
            self.note(ctx, Note::CannotResolve { gw: gw.clone() });
            return false;
        };
        ctx.event(Event::Redirected {
            spi_i: self.spi_i,
            to,
            during: during.to_string(),
        });
        ctx.actions.push(Action::Initiate(InitOptions {
            peer: to,
            origin: Origin {
                redirected_from: Some(self.remote.ip()),
                replaces,
                ..Origin::default()
            },
        }));
        true
    }

    /// RFC 5685: REDIRECT in the IKE_SA_INIT response. It is not
    /// authenticated; its Nonce Data must be our Ni, which only someone on
    /// the path saw.
    pub(super) fn handle_init_redirect(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        n: &Notify,
        ni: &[u8],
        replaces: Option<u64>,
    ) {
        if !ctx.config.settings.redirect {
            ctx.reject(src, dst, Rejection::RedirectNotOffered);
            return;
        }
        match NotifyData::parse(n) {
            Ok(NotifyData::Redirect { gw, nonce }) => {
                if nonce.as_deref() != Some(ni) {
                    ctx.reject(src, dst, Rejection::RedirectNonce);
                    return;
                }
                ctx.event(Event::RequestDone {
                    spi_i: self.spi_i,
                    mid: 0,
                });
                if self.follow_redirect(ctx, &gw, "IKE_SA_INIT", replaces) {
                    self.delete(ctx, DeleteReason::RedirectedInInit { gw });
                }
            }
            Ok(_) | Err(_) => ctx.reject(src, dst, Rejection::RedirectMalformed),
        }
    }
}
