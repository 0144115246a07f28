use super::*;

impl IkeSa {
    /// Responder: REDIRECT the client of this established SA (RFC 5685).
    pub fn redirect(&mut self, ctx: &mut Ctx, to: IpAddr) -> bool {
        if self.role != Role::Responder
            || self.state != SaState::Established
            || !self.peer_redirect
            || !ctx.config.settings.redirect
        {
            return false;
        }
        self.queue(ctx, ReqKind::Redirect { to });
        true
    }

    /// Follows RFC 5685's REDIRECT to `gw`: a new IKE SA there.
    pub(super) fn follow_redirect(
        &mut self,
        ctx: &mut Ctx,
        gw: &mobike_wire::notify::GwIdentity,
        during: &str,
        replaces: Option<u64>,
    ) -> bool {
        let Some(to) = gw.address() else {
            self.note(
                ctx,
                format!("cannot follow the redirect to {gw}: no name resolution here"),
                "RFC 5685",
            );
            return false;
        };
        ctx.events.push_back(Event::Redirected {
            spi_i: self.spi_i,
            to,
            during: during.to_string(),
        });
        ctx.actions.push(Action::Initiate(InitOptions {
            peer: to,
            redirected_from: Some(self.remote.ip()),
            replaces,
            attempt: 0,
            next_peers: Vec::new(),
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
    ) {
        if !ctx.config.settings.redirect {
            self.reject(
                ctx,
                src,
                dst,
                "REDIRECT in IKE_SA_INIT, but we did not send REDIRECT_SUPPORTED",
            );
            return;
        }
        match mobike_wire::notify::NotifyData::parse(n) {
            Ok(mobike_wire::notify::NotifyData::Redirect { gw, nonce }) => {
                if nonce.as_deref() != Some(self.ni.as_slice()) {
                    self.reject(
                        ctx,
                        src,
                        dst,
                        "REDIRECT whose Nonce Data is not our Ni: ignored (RFC 5685)",
                    );
                    return;
                }
                ctx.events.push_back(Event::RequestDone {
                    spi_i: self.spi_i,
                    mid: 0,
                });
                if self.follow_redirect(ctx, &gw, "IKE_SA_INIT", self.replaces) {
                    self.delete(
                        ctx,
                        format!("redirected to {gw} in IKE_SA_INIT"),
                        "RFC 5685 (redirect during IKE_SA_INIT)",
                    );
                }
            }
            Ok(_) | Err(_) => self.reject(ctx, src, dst, "malformed REDIRECT in IKE_SA_INIT"),
        }
    }
}
