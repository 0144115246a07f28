//! Rekeying the Child SA (RFC 7296 §1.3.3, §2.8): a CREATE_CHILD_SA
//! exchange with N(REKEY_SA) naming the SA it replaces makes a new Child
//! SA with fresh nonces and, with `Settings::rekey_pfs`, a fresh D-H
//! exchange (KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), §2.17); the
//! rekey's initiator then deletes the old one (§1.4.1). Either side may
//! start it: when its `child_lifetime` runs out, or when told to. Two rekeys
//! of one Child SA that cross (§2.8.1): both are answered, and the new SA
//! made by the exchange with the lowest of the four nonces is redundant;
//! whoever started that exchange deletes it, the other the old SA.
//!
//! The IKE SA is rekeyed the same way (§1.3.2, §2.18): an IKE proposal
//! with the new SPI, Ni and KEi; SKEYSEED = prf(SK_d (old), g^ir (new) |
//! Ni | Nr); the new IKE SA takes the addresses, NAT state, MOBIKE state
//! and Child SAs along, and the rekey's initiator becomes its original
//! initiator (I flag, SK_ei) while the MOBIKE roles stay (RFC 4555 §1.3).
//! Two IKE SA rekeys that cross (§2.8.2) both go through: the IKE SA the
//! peer's made waits aside until ours is answered, then the one made by
//! the exchange with the lowest of the four nonces is redundant (its maker
//! deletes it) and the other takes over (its maker deletes the old one).
//! Any other rekey that meets a request of ours under way, or asks for a
//! Child SA we are deleting (§2.25.1), is answered TEMPORARY_FAILURE
//! (§2.25) and tried again 5 to 15 s later. An IKE SA a rekey replaced
//! waits a while for its Delete, then goes without one (`RETIRED_WAIT`).
//! Another Child SA (`Settings::child_subnets`, §1.3.1) is a CREATE_CHILD_SA
//! without REKEY_SA; without subnets it is answered NO_ADDITIONAL_SAS
//! (§3.10.1); a REKEY_SA for an SA we do not have, CHILD_SA_NOT_FOUND.

use super::child::{Selectors, selector_list, selectors_of};
use super::*;
use crate::Settings;
use crate::reason::RekeyWhy;
use mobike_wire::esp::{self, EspSa};
use mobike_wire::payload::{Delete, Proposal, Transform};
use mobike_wire::registry::{ProtocolId, TransformType, transform_id};

/// N(REKEY_SA) for the ESP SA whose inbound SPI (ours) is `spi`: "the SPI
/// the exchange initiator would expect in inbound ESP packets" (RFC 7296
/// §1.3.3).
fn rekey_sa(spi: u32) -> Payload {
    Payload::Notify(Notify {
        protocol_id: ProtocolId::ESP.value(),
        spi: spi.to_be_bytes().to_vec(),
        kind: NotifyType::REKEY_SA,
        data: Vec::new(),
    })
}

/// The ESP proposal we offer or accept, with D-H group 31 when the rekey
/// has perfect forward secrecy.
fn esp_proposal(spi: u32, pfs: bool) -> Proposal {
    let mut p = Proposal::esp_default(spi);
    if pfs {
        p.transforms.insert(
            1,
            Transform {
                kind: TransformType::DH,
                id: transform_id::DH_CURVE25519,
                key_length: None,
            },
        );
    }
    p
}

/// The ESP proposal of a CREATE_CHILD_SA message we can take: its SPI and
/// whether it asks for a D-H exchange (group 31; another group is none we
/// can make).
fn esp_offer(inner: &[Payload]) -> Option<(u32, bool)> {
    inner.iter().find_map(|p| match p {
        Payload::Sa(props) => props.iter().find_map(|pr| {
            let dh = pr.transform(TransformType::DH).map(|t| t.id);
            let spi = setup::esp_gcm_spi(pr)?;
            dh.is_none_or(|g| g == transform_id::DH_CURVE25519)
                .then_some((spi, dh.is_some()))
        }),
        _ => None,
    })
}

/// A Child SA made by an exchange (IKE_AUTH or CREATE_CHILD_SA): KEYMAT =
/// prf+(SK_d, [g^ir (new) |] Ni | Nr) with the exchange's nonces, the first
/// key for the data from the exchange's initiator (RFC 7296 §2.17).
pub(super) struct NewChild<'a> {
    pub(super) sk_d: &'a [u8],
    pub(super) ni: &'a [u8],
    pub(super) nr: &'a [u8],
    pub(super) shared: Option<[u8; 32]>,
    /// We started the exchange.
    pub(super) ours: bool,
    pub(super) my_spi: u32,
    pub(super) peer_spi: u32,
    /// The inbound SPI of the Child SA it rekeys, if it does.
    pub(super) replaces: Option<u32>,
    /// Its traffic selectors, ours first.
    pub(super) ts: Selectors,
}

impl IkeSa {
    /// Starts rekeying the Child SA that is oldest among those in use (the
    /// page's or timeline's "rekey now"). False when there is none or a
    /// rekey is under way.
    pub fn rekey_child(&mut self, ctx: &mut Ctx) -> bool {
        if !self.is_established() || self.retired() || self.any_rekey_under_way() {
            return false;
        }
        let Some(spi) = self.rekey_target().map(|c| c.inbound.spi) else {
            return false;
        };
        self.note(
            ctx,
            Note::RekeyingChild {
                spi,
                why: RekeyWhy::Asked,
                pfs: ctx.config.settings.rekey_pfs,
            },
        );
        self.queue(ctx, Job::RekeyChild);
        true
    }

    /// A request of ours is queued as `job` or waits for its answer with
    /// a task that `is_task` recognises.
    fn under_way(&self, job: &Job, is_task: fn(&Task) -> bool) -> bool {
        self.window.queue.contains(job) || self.window.outstanding.iter().any(|r| is_task(&r.task))
    }

    /// A Child SA rekey of ours is queued or waiting for its answer.
    fn rekey_under_way(&self) -> bool {
        self.under_way(&Job::RekeyChild, |t| matches!(t, Task::RekeyChild { .. }))
    }

    /// The Child SAs in use: those no newer one with their selectors
    /// superseded.
    fn current_children(&self) -> impl Iterator<Item = &ChildSa> + '_ {
        let children = self.est().map_or(&[][..], |e| &e.children[..]);
        (0..children.len())
            .filter(move |&k| !super::child::superseded(children, k))
            .map(move |k| &children[k])
    }

    /// The Child SA whose lifetime runs out first: the one a rekey replaces.
    pub(super) fn rekey_target(&self) -> Option<&ChildSa> {
        self.current_children().min_by_key(|c| c.born)
    }

    /// When the lifetime of the oldest Child SA in use runs out (RFC 7296
    /// §2.8: the lifetime is local policy), unless a rekey is under way.
    pub(super) fn child_rekey_due(&self, settings: &Settings) -> Option<Time> {
        let e = self.est()?;
        let oldest = self.rekey_target()?;
        if self.any_rekey_under_way() || self.retired() {
            return None;
        }
        rekey_due(settings.child_lifetime, oldest.born, e.child_retry_after)
    }

    /// The lifetime ran out, or a refused rekey's wait is over: rekey.
    pub(super) fn child_lifetime_over(&mut self, ctx: &mut Ctx) {
        let Some(spi) = self.rekey_target().map(|c| c.inbound.spi) else {
            return;
        };
        let Some(e) = self.est_mut() else { return };
        let why = if e.child_retry_after > 0 {
            RekeyWhy::Retry
        } else {
            RekeyWhy::Lifetime
        };
        e.child_retry_after = 0;
        self.note(
            ctx,
            Note::RekeyingChild {
                spi,
                why,
                pfs: ctx.config.settings.rekey_pfs,
            },
        );
        self.queue(ctx, Job::RekeyChild);
    }

    /// The CREATE_CHILD_SA request: HDR, SK {N(REKEY_SA), SA, Ni, [KEi],
    /// TSi, TSr} (RFC 7296 §1.3.3), with the selectors of the SA it
    /// replaces.
    pub(super) fn rekey_child_request(&mut self, ctx: &mut Ctx) -> Option<(Vec<Payload>, Task)> {
        let old = self.rekey_target()?;
        let (old_in, ts) = (old.inbound.spi, old.ts.clone());
        let (out, fresh) = child_request(ctx, Some(old_in), ts);
        let task = Task::RekeyChild {
            old_in,
            new_in: fresh.new_in,
            ni: fresh.ni,
            dh_seed: fresh.dh_seed,
        };
        Some((out, task))
    }

    /// The CREATE_CHILD_SA request for another Child SA, for the subnet
    /// `child_subnets[k]` behind the responder: HDR, SK {SA, Ni, [KEi],
    /// TSi, TSr} (RFC 7296 §1.3.1).
    pub(super) fn new_child_request(
        &mut self,
        ctx: &mut Ctx,
        k: u8,
    ) -> Option<(Vec<Payload>, Task)> {
        let subnet = *ctx.config.settings.child_subnets.get(usize::from(k))?;
        let (out, fresh) = child_request(ctx, None, (any_ts(), vec![subnet.selector()]));
        let task = Task::NewChild {
            new_in: fresh.new_in,
            ni: fresh.ni,
            dh_seed: fresh.dh_seed,
        };
        Some((out, task))
    }

    /// The Child SA an exchange made, its keys reported (the trace's
    /// `ChildSa` event, which Wireshark's `esp_sa` file is written from).
    pub(super) fn new_child(&self, ctx: &mut Ctx, n: &NewChild) -> Option<ChildSa> {
        let mut first = n.shared.map(|s| s.to_vec()).unwrap_or_default();
        first.extend_from_slice(n.ni);
        let (i2r, r2i) = esp::child_keys(n.sk_d, &first, n.nr, 16).ok()?;
        // The exchange initiator's data goes under the responder's SPI.
        let (init_in, resp_in) = if n.ours {
            (n.my_spi, n.peer_spi)
        } else {
            (n.peer_spi, n.my_spi)
        };
        let to_resp = EspSa {
            spi: resp_in,
            key: i2r,
        };
        let to_init = EspSa {
            spi: init_in,
            key: r2i,
        };
        ctx.event(Event::ChildSa {
            spi_i: self.spi_i,
            initiator_to_responder: Box::new((to_resp.spi, to_resp.key.clone())),
            responder_to_initiator: Box::new((to_init.spi, to_init.key.clone())),
        });
        let (out, inbound) = if n.ours {
            (to_resp, to_init)
        } else {
            (to_init, to_resp)
        };
        Some(ChildSa::new(
            out,
            inbound,
            ctx.now,
            [n.ni, n.nr],
            (n.ours, n.replaces),
            n.ts.clone(),
        ))
    }

    /// Installs a Child SA made by CREATE_CHILD_SA: a rekey's, or another
    /// one. Returns our inbound SPI.
    fn install_new_child(&mut self, ctx: &mut Ctx, n: NewChild) -> Option<u32> {
        let child = self.new_child(ctx, &n)?;
        self.est_mut()?.children.push(child);
        let note = match n.replaces {
            Some(old) => Note::ChildRekeyed {
                old,
                new: n.my_spi,
                pfs: n.shared.is_some(),
            },
            None => Note::ChildCreated {
                spi: n.my_spi,
                ours: selector_list(&n.ts.0),
                theirs: selector_list(&n.ts.1),
            },
        };
        self.note(ctx, note);
        Some(n.my_spi)
    }

    /// Exchange responder: a CREATE_CHILD_SA request.
    pub(super) fn handle_create_child_request(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        mid: u32,
        inner: &[Payload],
    ) {
        let refuse = |sa: &mut IkeSa, ctx: &mut Ctx, kind: NotifyType| {
            sa.refuse_create_child(ctx, mid, src, dst, kind)
        };
        let rekey = inner
            .iter()
            .filter_map(Payload::as_notify)
            .find(|n| n.kind == NotifyType::REKEY_SA && n.protocol_id == ProtocolId::ESP.value());
        if rekey.is_none() && asks_ike_rekey(inner) {
            return self.handle_rekey_ike_request(ctx, src, dst, mid, inner);
        }
        let subnets = ctx.config.settings.child_subnets.clone();
        if rekey.is_none() && subnets.is_empty() {
            // Another Child SA: none is made here.
            return refuse(self, ctx, NotifyType::NO_ADDITIONAL_SAS);
        }
        if self.retired() || self.ike_rekey_under_way() {
            // The IKE SA is being rekeyed: try later (RFC 7296 §2.25).
            return refuse(self, ctx, NotifyType::TEMPORARY_FAILURE);
        }
        let Some(e) = self.est() else { return };
        let proposed = selectors_of(inner).map(|(i, r)| (r, i));
        let (old_in, ts) = match rekey {
            Some(rekey) => {
                // The peer's inbound SPI is our outbound one.
                let old = <[u8; 4]>::try_from(rekey.spi.as_slice())
                    .ok()
                    .map(u32::from_be_bytes)
                    .and_then(|peer_old| e.children.iter().find(|c| c.out.spi == peer_old));
                let Some(old) = old else {
                    return refuse(self, ctx, NotifyType::CHILD_SA_NOT_FOUND);
                };
                // RFC 7296 §2.25.1: a rekey of a Child SA we are closing
                // (ours replaced it, or it lost a crossing) is answered
                // TEMPORARY_FAILURE; our Delete tells the peer the rest.
                // Answered as usual, it would make a Child SA the peer
                // may drop unseen, once our Delete reaches it first.
                if self.closing_child(old.inbound.spi) {
                    return refuse(self, ctx, NotifyType::TEMPORARY_FAILURE);
                }
                // The new SA carries what the old one did.
                (Some(old.inbound.spi), old.ts.clone())
            }
            None => {
                // Another Child SA: for traffic to one of our subnets only
                // (RFC 7296 §2.9, §3.10.1: TS_UNACCEPTABLE otherwise).
                let Some(ts) = proposed.and_then(|(ours, theirs)| narrow(&subnets, ours, theirs))
                else {
                    return refuse(self, ctx, NotifyType::TS_UNACCEPTABLE);
                };
                (None, ts)
            }
        };
        let sk_d = e.keys.sk_d.clone();
        let (ke, ni) = setup::ke_and_nonce(inner);
        let (Some((peer_spi, pfs)), Some(ni)) = (esp_offer(inner), ni) else {
            return refuse(self, ctx, NotifyType::NO_PROPOSAL_CHOSEN);
        };
        if pfs && ke.is_none() {
            return refuse(self, ctx, NotifyType::INVALID_KE_PAYLOAD);
        }
        let my_spi = ctx.rng.next_u32() | 1;
        let nr = ctx.random(32);
        let mut out = vec![
            Payload::Sa(vec![esp_proposal(my_spi, pfs)]),
            Payload::Nonce(nr.clone()),
        ];
        let mut shared = None;
        if let (true, Some(ke)) = (pfs, ke) {
            let dh = X25519::from_seed(ctx.random(32).try_into().unwrap_or([1; 32]));
            let Ok(s) = dh.shared_secret(&ke) else {
                return refuse(self, ctx, NotifyType::INVALID_KE_PAYLOAD);
            };
            shared = Some(s);
            out.push(Payload::Ke {
                group: transform_id::DH_CURVE25519,
                data: dh.public().to_vec(),
            });
        }
        // TSi is the exchange initiator's side: the peer's.
        out.extend([Payload::TsI(ts.1.clone()), Payload::TsR(ts.0.clone())]);
        self.respond(ctx, ExchangeType::CREATE_CHILD_SA, mid, &out, dst, src);
        let Some(peer_new) = self.install_new_child(
            ctx,
            NewChild {
                sk_d: &sk_d,
                ni: &ni,
                nr: &nr,
                shared,
                ours: false,
                my_spi,
                peer_spi,
                replaces: old_in,
                ts,
            },
        ) else {
            return;
        };
        // §2.8.1: a rekey of ours of the same SA crossed this one and is
        // already done: settle now which new SA is redundant. (Still
        // outstanding, it settles when its answer comes.)
        if let Some(old_in) = old_in
            && let Some(mine) = self.rekeyed_by(old_in, true)
        {
            self.settle_crossed_rekeys(ctx, old_in, mine, peer_new);
        }
    }

    /// Exchange initiator: the answer to our CREATE_CHILD_SA request,
    /// rekeying the Child SA `old_in` or (none) making another one.
    pub(super) fn handle_child_response(
        &mut self,
        ctx: &mut Ctx,
        old_in: Option<u32>,
        new_in: u32,
        ni: &[u8],
        dh_seed: Option<[u8; 32]>,
        inner: &[Payload],
    ) {
        let refused = |sa: &mut IkeSa, ctx: &mut Ctx, kind: NotifyType| match old_in {
            // The old Child SA stays (RFC 7296 §1.3.3), and a rekey is
            // tried again later.
            Some(_) => sa.child_rekey_refused(ctx, kind),
            None => sa.note(ctx, Note::NewChildRefused { kind }),
        };
        if let Some(kind) = inner
            .iter()
            .filter_map(Payload::as_notify)
            .map(|n| n.kind)
            .find(|k| k.value() < 16384)
        {
            return refused(self, ctx, kind);
        }
        let Some(e) = self.est() else { return };
        let old = old_in.map(|spi| e.children.iter().find(|c| c.inbound.spi == spi));
        if let Some(None) = old {
            // The peer deleted the SA meanwhile: nothing to replace.
            return;
        }
        // The selectors as answered (the responder may narrow them, §2.9);
        // a rekey's stay those of the SA it replaces.
        let ts = match (old.flatten(), selectors_of(inner)) {
            (Some(old), _) => Some(old.ts.clone()),
            (None, answered) => answered,
        };
        let sk_d = e.keys.sk_d.clone();
        let (ke, nr) = setup::ke_and_nonce(inner);
        let (Some((peer_spi, pfs)), Some(nr), Some(ts)) = (esp_offer(inner), nr, ts) else {
            return refused(self, ctx, NotifyType::NO_PROPOSAL_CHOSEN);
        };
        // PFS both ways or neither, and a D-H value that works.
        let shared = match (dh_seed, pfs, ke) {
            (None, false, None) => None,
            (Some(seed), true, Some(ke)) => match X25519::from_seed(seed).shared_secret(&ke) {
                Ok(s) => Some(s),
                Err(_) => return refused(self, ctx, NotifyType::INVALID_KE_PAYLOAD),
            },
            _ => return refused(self, ctx, NotifyType::INVALID_KE_PAYLOAD),
        };
        let Some(mine) = self.install_new_child(
            ctx,
            NewChild {
                sk_d: &sk_d,
                ni,
                nr: &nr,
                shared,
                ours: true,
                my_spi: new_in,
                peer_spi,
                replaces: old_in,
                ts,
            },
        ) else {
            return;
        };
        let Some(old_in) = old_in else { return };
        match self.rekeyed_by(old_in, false) {
            Some(theirs) => self.settle_crossed_rekeys(ctx, old_in, mine, theirs),
            // The rekey's initiator deletes the old SA (RFC 7296 §1.3.3).
            None => self.queue(ctx, Job::DeleteChild { spi_in: old_in }),
        }
    }

    /// A Delete of ours for the Child SA `spi_in` is queued or under way.
    fn closing_child(&self, spi_in: u32) -> bool {
        self.under_way(&Job::DeleteChild { spi_in }, |_| false)
            || self
                .window
                .outstanding
                .iter()
                .any(|r| r.task == Task::DeleteChild { spi_in })
    }

    /// Our inbound SPI of the Child SA that replaced `old_in` by a rekey
    /// we (`ours`) or the peer started.
    fn rekeyed_by(&self, old_in: u32, ours: bool) -> Option<u32> {
        self.est()?
            .children
            .iter()
            .find(|c| c.ours == ours && c.replaces == Some(old_in))
            .map(|c| c.inbound.spi)
    }

    /// Answers a CREATE_CHILD_SA request with an error notify and makes
    /// nothing (RFC 7296 §1.3, §3.10.1).
    fn refuse_create_child(
        &mut self,
        ctx: &mut Ctx,
        mid: u32,
        src: SocketAddr,
        dst: SocketAddr,
        kind: NotifyType,
    ) {
        let out = [notify(kind, vec![])];
        self.respond(ctx, ExchangeType::CREATE_CHILD_SA, mid, &out, dst, src);
        self.note(ctx, Note::CreateChildRefused { kind });
    }

    fn child_rekey_refused(&mut self, ctx: &mut Ctx, kind: NotifyType) {
        let retry = retry_delay(ctx);
        if let Some(e) = self.est_mut() {
            e.child_retry_after = ctx.now + retry;
        }
        self.note(ctx, Note::ChildRekeyRefused { kind, retry });
    }

    /// Two rekeys of the Child SA `old_in` crossed (RFC 7296 §2.8.1): the
    /// new SA made with the lowest of the four nonces is redundant, and the
    /// side that started its exchange deletes it; the other side deletes
    /// the old SA.
    fn settle_crossed_rekeys(&mut self, ctx: &mut Ctx, old_in: u32, mine: u32, theirs: u32) {
        let Some(e) = self.est() else { return };
        let lowest = |spi: u32| {
            e.children
                .iter()
                .find(|c| c.inbound.spi == spi)
                .map(|c| c.lowest_nonce.clone())
        };
        let (Some(m), Some(t)) = (lowest(mine), lowest(theirs)) else {
            return;
        };
        let ours_redundant = m < t;
        let redundant = if ours_redundant { mine } else { theirs };
        self.note(
            ctx,
            Note::RekeyCollision {
                redundant,
                by_us: ours_redundant,
            },
        );
        let doomed = if ours_redundant { mine } else { old_in };
        self.queue(ctx, Job::DeleteChild { spi_in: doomed });
    }

    /// Exchange responder: INFORMATIONAL with Delete(ESP): the SAs whose
    /// inbound SPIs (the peer's) it names go, and the answer names ours of
    /// the same pairs (RFC 7296 §1.4.1); one we no longer have is simply
    /// not named.
    pub(super) fn handle_delete_child_request(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        mid: u32,
        spis: &[u32],
    ) {
        let mut ours = Vec::new();
        if let Some(e) = self.est_mut() {
            e.children.retain(|c| {
                let gone = spis.contains(&c.out.spi);
                if gone {
                    ours.push(c.inbound.spi);
                }
                !gone
            });
        }
        // A delete of ours for the same SA crossed this one: it is done.
        self.window
            .queue
            .retain(|j| !matches!(j, Job::DeleteChild { spi_in } if ours.contains(spi_in)));
        let out: Vec<Payload> = if ours.is_empty() {
            Vec::new()
        } else {
            vec![Payload::Delete(Delete::esp(&ours))]
        };
        self.respond(ctx, ExchangeType::INFORMATIONAL, mid, &out, dst, src);
        for spi in ours {
            self.note(ctx, Note::ChildDeleted { spi, by_us: false });
        }
    }

    /// Our Delete(ESP) was answered: the SA is gone.
    pub(super) fn child_delete_answered(&mut self, ctx: &mut Ctx, spi_in: u32) {
        let Some(e) = self.est_mut() else { return };
        let before = e.children.len();
        e.children.retain(|c| c.inbound.spi != spi_in);
        if e.children.len() < before {
            self.note(
                ctx,
                Note::ChildDeleted {
                    spi: spi_in,
                    by_us: true,
                },
            );
        }
    }
}

/// The SPI of the IKE proposal in a CREATE_CHILD_SA message, when it is one
/// we can make (the playground's algorithms, an 8-octet SPI).
fn ike_offer(inner: &[Payload]) -> Option<u64> {
    inner.iter().find_map(|p| match p {
        Payload::Sa(props) => props.iter().find_map(|pr| {
            let ours = pr.protocol == ProtocolId::IKE && setup::ike_algorithms_ours(pr);
            let spi = u64::from_be_bytes(<[u8; 8]>::try_from(pr.spi.as_slice()).ok()?);
            (ours && spi != 0).then_some(spi)
        }),
        _ => None,
    })
}

/// Whether a CREATE_CHILD_SA request would rekey the IKE SA: an SA payload
/// for protocol IKE (RFC 7296 §1.3.2).
fn asks_ike_rekey(inner: &[Payload]) -> bool {
    inner.iter().any(|p| match p {
        Payload::Sa(props) => props.iter().any(|pr| pr.protocol == ProtocolId::IKE),
        _ => false,
    })
}

/// When an SA made at `born` is rekeyed: at the end of its lifetime (none:
/// never), and a refused rekey not before `retry_after` (0: none refused),
/// asked for or not.
fn rekey_due(lifetime: Option<crate::Dur>, born: Time, retry_after: Time) -> Option<Time> {
    match lifetime {
        Some(life) => Some((born + life.micros()).max(retry_after)),
        None => (retry_after > 0).then_some(retry_after),
    }
}

/// A CREATE_CHILD_SA request's fresh values: our inbound SPI, our nonce
/// and, with PFS, our D-H secret's seed.
struct Fresh {
    new_in: u32,
    ni: Vec<u8>,
    dh_seed: Option<[u8; 32]>,
}

/// HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr} (RFC 7296 §1.3.1,
/// §1.3.3): a rekey of our inbound SPI `rekey`, or another Child SA; `ts`
/// ours first (TSi is the exchange initiator's side).
fn child_request(ctx: &mut Ctx, rekey: Option<u32>, ts: Selectors) -> (Vec<Payload>, Fresh) {
    let pfs = ctx.config.settings.rekey_pfs;
    let new_in = ctx.rng.next_u32() | 1;
    let ni = ctx.random(32);
    let dh_seed: Option<[u8; 32]> = pfs.then(|| ctx.random(32).try_into().unwrap_or([1; 32]));
    let mut out: Vec<Payload> = rekey.map(rekey_sa).into_iter().collect();
    out.extend([
        Payload::Sa(vec![esp_proposal(new_in, pfs)]),
        Payload::Nonce(ni.clone()),
    ]);
    if let Some(seed) = dh_seed {
        out.push(Payload::Ke {
            group: transform_id::DH_CURVE25519,
            data: X25519::from_seed(seed).public().to_vec(),
        });
    }
    out.extend([Payload::TsI(ts.0), Payload::TsR(ts.1)]);
    (
        out,
        Fresh {
            new_in,
            ni,
            dh_seed,
        },
    )
}

/// The selectors of a Child SA the responder makes for a request of
/// `theirs` to `ours` (RFC 7296 §2.9): with no subnets of ours, as asked;
/// else the subnet of ours that holds what was asked for, or the first that
/// a wider request holds (narrowed). None: outside every subnet of ours.
pub(super) fn narrow(
    subnets: &[crate::Subnet],
    ours: Vec<TrafficSelector>,
    theirs: Vec<TrafficSelector>,
) -> Option<Selectors> {
    if subnets.is_empty() {
        return Some((ours, theirs));
    }
    let within = subnets
        .iter()
        .map(|s| s.selector())
        .find(|s| ours.iter().all(|t| s.covers(t)));
    let narrowed = || {
        subnets
            .iter()
            .map(|s| s.selector())
            .find(|s| ours.iter().any(|t| t.covers(s)))
            .map(|s| vec![s])
    };
    match within {
        Some(_) if !ours.is_empty() => Some((ours, theirs)),
        _ => narrowed().map(|ours| (ours, theirs)),
    }
}

/// The peer's IKE SA rekey, answered while ours waited for its answer
/// (RFC 7296 §2.8.2): the IKE SA it made, kept aside until ours is
/// answered.
#[derive(Clone)]
pub(crate) struct CrossedIkeRekey {
    spi_i: u64,
    spi_r: u64,
    keys: IkeKeys,
    /// The lower of that exchange's two nonces.
    lowest_nonce: Vec<u8>,
}

/// How long a refused rekey waits before it is tried again: 5 to 15 s,
/// drawn, so that two sides refused at once do not meet again (RFC 7296
/// §2.25 leaves the wait to the implementation).
fn retry_delay(ctx: &mut Ctx) -> Time {
    (5_000 + ctx.rng.next_u64() % 10_001) * crate::MS
}

/// How long an IKE SA a rekey replaced waits for the peer's Delete, or for
/// the answer to its own, before it goes without one. RFC 7296 §1.3.2 has
/// the rekey's initiator delete the old IKE SA, but that Delete can be
/// lost for good: it goes to the old SA's addresses, which a move may have
/// taken away, and a MOBIKE responder retransmits for minutes (M-3.11-1).
/// strongSwan's waits: 90 s after a rekey, 30 s for the redundant IKE SA
/// of two crossed rekeys.
pub(crate) const RETIRED_WAIT: Time = 90 * crate::SEC;
pub(crate) const REDUNDANT_WAIT: Time = 30 * crate::SEC;

impl IkeSa {
    /// A rekey replaced this IKE SA: it only waits for its Delete.
    pub(crate) fn retired(&self) -> bool {
        self.rekeyed_to.is_some()
    }

    /// Replaced: when it stops waiting for the peer's Delete, or for the
    /// answer to its own.
    pub(super) fn retired_wait_ends(&self) -> Option<Time> {
        self.retired().then_some(self.retired_until)
    }

    /// The wait of this replaced IKE SA is over: the peer's Delete never
    /// came, or ours was never answered. It goes without one (its Child
    /// SAs went over to its successor).
    pub(super) fn retired_wait_over(&mut self, ctx: &mut Ctx) {
        let Some(successor) = self.rekeyed_to else {
            return;
        };
        let waited = if self.redundant {
            REDUNDANT_WAIT
        } else {
            RETIRED_WAIT
        };
        let our_delete = self
            .window
            .outstanding
            .iter()
            .any(|r| matches!(r.task, Task::Delete(_)));
        self.delete(
            ctx,
            DeleteReason::RetiredWaitOver {
                successor,
                redundant: self.redundant,
                our_delete,
                waited_s: waited / crate::SEC,
            },
        );
    }

    /// Sends what waits for the window (a new SA's inherited requests).
    pub(crate) fn send_waiting(&mut self, ctx: &mut Ctx) {
        self.send_queued(ctx);
    }

    /// Starts rekeying the IKE SA now (the page's or timeline's "rekey
    /// now"). False when it is not established, already replaced, or a
    /// rekey is under way.
    pub fn rekey_ike(&mut self, ctx: &mut Ctx) -> bool {
        if !self.is_established() || self.retired() || self.any_rekey_under_way() {
            return false;
        }
        self.note(
            ctx,
            Note::RekeyingIke {
                why: RekeyWhy::Asked,
            },
        );
        self.queue(ctx, Job::RekeyIke);
        true
    }

    fn ike_rekey_under_way(&self) -> bool {
        self.under_way(&Job::RekeyIke, |t| matches!(t, Task::RekeyIke { .. }))
    }

    fn any_rekey_under_way(&self) -> bool {
        self.rekey_under_way() || self.ike_rekey_under_way()
    }

    /// When the IKE SA's lifetime runs out (`Settings::ike_lifetime`).
    pub(super) fn ike_rekey_due(&self, settings: &Settings) -> Option<Time> {
        let e = self.est()?;
        if self.retired() || self.any_rekey_under_way() {
            return None;
        }
        rekey_due(settings.ike_lifetime, e.ike_born, e.ike_retry_after)
    }

    pub(super) fn ike_lifetime_over(&mut self, ctx: &mut Ctx) {
        let Some(e) = self.est_mut() else { return };
        let why = if e.ike_retry_after > 0 {
            RekeyWhy::Retry
        } else {
            RekeyWhy::Lifetime
        };
        e.ike_retry_after = 0;
        self.note(ctx, Note::RekeyingIke { why });
        self.queue(ctx, Job::RekeyIke);
    }

    /// HDR, SK {SA, Ni, KEi}: an IKE proposal with our new SPI (RFC 7296
    /// §1.3.2).
    pub(super) fn rekey_ike_request(&mut self, ctx: &mut Ctx) -> Option<(Vec<Payload>, Task)> {
        let new_spi = ctx.nonzero_u64();
        let ni = ctx.random(32);
        let dh_seed: [u8; 32] = ctx.random(32).try_into().unwrap_or([1; 32]);
        let mut proposal = Proposal::ike_default();
        proposal.spi = new_spi.to_be_bytes().to_vec();
        let out = vec![
            Payload::Sa(vec![proposal]),
            Payload::Nonce(ni.clone()),
            Payload::Ke {
                group: transform_id::DH_CURVE25519,
                data: X25519::from_seed(dh_seed).public().to_vec(),
            },
        ];
        Some((
            out,
            Task::RekeyIke {
                new_spi,
                ni,
                dh_seed,
            },
        ))
    }

    /// The IKE SA that replaces this one: the new SPIs and keys, the same
    /// addresses, NAT state, MOBIKE state and Child SAs (RFC 4555 keeps
    /// the MOBIKE roles of the first IKE SA, §1.3), message IDs from 0.
    /// This one keeps nothing but its wait for the Delete.
    fn successor(
        &mut self,
        ctx: &mut Ctx,
        spi_i: u64,
        spi_r: u64,
        keys: IkeKeys,
        orig_initiator: bool,
    ) -> Option<IkeSa> {
        let now = ctx.now;
        let e = self.est_mut()?;
        let children = std::mem::take(&mut e.children);
        let mut next = self.clone();
        next.spi_i = spi_i;
        next.spi_r = spi_r;
        next.orig_initiator = orig_initiator;
        next.rekeyed_to = None;
        next.retired_until = 0;
        next.crossed = None;
        // Requests waiting for the window go over to the new SA (a return
        // routability check, an address list): none is started on the old
        // one from now on (RFC 7296 §2.18).
        let queue = self
            .window
            .queue
            .drain(..)
            .filter(|j| !matches!(j, Job::RekeyIke | Job::Delete(_)))
            .collect();
        next.window = Window {
            peer_window: self.window.peer_window,
            queue,
            ..Window::default()
        };
        next.iv_counter = 0;
        next.last_rx = now;
        next.last_tx = now;
        next.last_path_test = now;
        let local_behind_nat = next.nat.local_behind_nat;
        let local = next.local;
        let Lifecycle::Established(e) = &mut next.life else {
            return None;
        };
        e.keys = std::sync::Arc::new(keys);
        e.children = children;
        e.ike_born = now;
        e.ike_retry_after = 0;
        e.child_retry_after = 0;
        e.newest_update = None;
        e.newest_list = None;
        e.nat_retries = 0;
        // NAT detection hashes name the SPIs (RFC 4555 §3.8): the baseline
        // is taken anew, from our own address when no NAT is in front of
        // us, else from the first liveness check.
        e.natd_baseline =
            (!local_behind_nat).then(|| crypto::nat_detection_hash(spi_i, spi_r, local));
        e.natd_init = None;
        self.rekeyed_to = Some(spi_i);
        self.retired_until = now + RETIRED_WAIT;
        Some(next)
    }

    /// Exchange responder: a CREATE_CHILD_SA with an IKE proposal rekeys
    /// the IKE SA (RFC 7296 §1.3.2): HDR, SK {SA, Nr, KEr}.
    fn handle_rekey_ike_request(
        &mut self,
        ctx: &mut Ctx,
        src: SocketAddr,
        dst: SocketAddr,
        mid: u32,
        inner: &[Payload],
    ) {
        let refuse = |sa: &mut IkeSa, ctx: &mut Ctx, kind: NotifyType| {
            sa.refuse_create_child(ctx, mid, src, dst, kind)
        };
        // Our own IKE SA rekey waits for its answer, and nothing else of
        // ours is under way: the two rekeys crossed. Both go through, and
        // the nonces tell which new IKE SA stays (RFC 7296 §2.8.2, §2.25.2).
        let crossing = self.crossed.is_none()
            && !self.retired()
            && !self.rekey_under_way()
            && self.window.queue.is_empty()
            && self.window.outstanding.len() == 1
            && matches!(self.window.outstanding[0].task, Task::RekeyIke { .. });
        if !crossing
            && (self.retired() || self.any_rekey_under_way() || !self.window.outstanding.is_empty())
        {
            // A rekey of ours, or another request of ours, is under way on
            // this SA: try later (RFC 7296 §2.25), so that no exchange is
            // left behind on the old SA.
            return refuse(self, ctx, NotifyType::TEMPORARY_FAILURE);
        }
        let (ke, ni) = setup::ke_and_nonce(inner);
        let (Some(peer_spi), Some(ni), Some(ke)) = (ike_offer(inner), ni, ke) else {
            return refuse(self, ctx, NotifyType::NO_PROPOSAL_CHOSEN);
        };
        let dh = X25519::from_seed(ctx.random(32).try_into().unwrap_or([1; 32]));
        let Ok(shared) = dh.shared_secret(&ke) else {
            return refuse(self, ctx, NotifyType::INVALID_KE_PAYLOAD);
        };
        let my_spi = ctx.nonzero_u64();
        let nr = ctx.random(32);
        let Some(old) = self.est() else { return };
        // The rekey's initiator's SPI is SPIi of the new SA.
        let Ok(keys) =
            IkeKeys::derive_rekey(&old.keys.sk_d, &ni, &nr, &shared, peer_spi, my_spi, 16)
        else {
            return;
        };
        let mut proposal = Proposal::ike_default();
        proposal.spi = my_spi.to_be_bytes().to_vec();
        let out = vec![
            Payload::Sa(vec![proposal]),
            Payload::Nonce(nr.clone()),
            Payload::Ke {
                group: transform_id::DH_CURVE25519,
                data: dh.public().to_vec(),
            },
        ];
        self.respond(ctx, ExchangeType::CREATE_CHILD_SA, mid, &out, dst, src);
        if crossing {
            self.note(ctx, Note::IkeRekeysCrossed);
            self.crossed = Some(Box::new(CrossedIkeRekey {
                spi_i: peer_spi,
                spi_r: my_spi,
                keys,
                lowest_nonce: (&ni).min(&nr).clone(),
            }));
            return;
        }
        self.adopt_successor(ctx, peer_spi, my_spi, keys, false);
    }

    /// Exchange initiator: the answer to our IKE SA rekey.
    pub(super) fn handle_rekey_ike_response(
        &mut self,
        ctx: &mut Ctx,
        new_spi: u64,
        ni: &[u8],
        dh_seed: [u8; 32],
        inner: &[Payload],
    ) {
        if let Some(kind) = inner
            .iter()
            .filter_map(Payload::as_notify)
            .map(|n| n.kind)
            .find(|k| k.value() < 16384)
        {
            self.ike_rekey_refused(ctx, kind);
            return;
        }
        let (ke, nr) = setup::ke_and_nonce(inner);
        let (Some(peer_spi), Some(nr), Some(ke)) = (ike_offer(inner), nr, ke) else {
            self.ike_rekey_refused(ctx, NotifyType::NO_PROPOSAL_CHOSEN);
            return;
        };
        let Ok(shared) = X25519::from_seed(dh_seed).shared_secret(&ke) else {
            self.ike_rekey_refused(ctx, NotifyType::INVALID_KE_PAYLOAD);
            return;
        };
        if let Some(theirs) = self.crossed.take() {
            let Some(old) = self.est() else { return };
            let Ok(keys) =
                IkeKeys::derive_rekey(&old.keys.sk_d, ni, &nr, &shared, new_spi, peer_spi, 16)
            else {
                return;
            };
            let ours = (new_spi, peer_spi, keys, ni.min(nr.as_slice()).to_vec());
            return self.settle_crossed_ike_rekeys(ctx, ours, *theirs);
        }
        let Some(old) = self.est() else { return };
        let Ok(keys) =
            IkeKeys::derive_rekey(&old.keys.sk_d, ni, &nr, &shared, new_spi, peer_spi, 16)
        else {
            return;
        };
        self.adopt_successor(ctx, new_spi, peer_spi, keys, true);
        // The rekey's initiator deletes the old IKE SA (RFC 7296 §1.3.2).
        self.window.queue.clear();
        self.queue(
            ctx,
            Job::Delete(LocalDelete::Rekeyed { new_spi_i: new_spi }),
        );
    }

    /// Both IKE SA rekeys went through (RFC 7296 §2.8.2): the new IKE SA
    /// made by the exchange with the lowest of the four nonces is
    /// redundant and whoever made it deletes it; the other takes over, and
    /// whoever made that one deletes the old IKE SA. `ours`: the SPIs,
    /// keys and lowest nonce of the IKE SA our rekey made.
    fn settle_crossed_ike_rekeys(
        &mut self,
        ctx: &mut Ctx,
        ours: (u64, u64, IkeKeys, Vec<u8>),
        theirs: CrossedIkeRekey,
    ) {
        let (o_spi_i, o_spi_r, o_keys, o_lowest) = ours;
        let ours_redundant = o_lowest < theirs.lowest_nonce;
        let (redundant, redundant_keys) = if ours_redundant {
            ((o_spi_i, o_spi_r), o_keys.clone())
        } else {
            ((theirs.spi_i, theirs.spi_r), theirs.keys.clone())
        };
        self.note(
            ctx,
            Note::IkeRekeyCollision {
                redundant: redundant.0,
                by_us: ours_redundant,
            },
        );
        let stays = if ours_redundant {
            theirs.spi_i
        } else {
            o_spi_i
        };
        // The redundant IKE SA exists on both sides: it holds nothing and
        // waits for its Delete, which its maker sends. (Handed over first,
        // so the one that stays is the endpoint's newest.)
        let mut spare = self.clone();
        spare.spi_i = redundant.0;
        spare.spi_r = redundant.1;
        spare.orig_initiator = ours_redundant;
        spare.rekeyed_to = Some(stays);
        spare.retired_until = ctx.now + REDUNDANT_WAIT;
        spare.crossed = None;
        spare.redundant = true;
        spare.window = Window {
            peer_window: self.window.peer_window,
            ..Window::default()
        };
        spare.iv_counter = 0;
        if let Lifecycle::Established(e) = &mut spare.life {
            e.keys = std::sync::Arc::new(redundant_keys.clone());
            e.children.clear();
        }
        ctx.event(Event::KeysDerived {
            spi_i: redundant.0,
            spi_r: redundant.1,
            keys: Box::new(redundant_keys),
        });
        if ours_redundant {
            spare
                .window
                .queue
                .push_back(Job::Delete(LocalDelete::Redundant { stays }));
        }
        ctx.actions.push(Action::Adopt(Box::new(spare)));
        if ours_redundant {
            self.adopt_successor(ctx, theirs.spi_i, theirs.spi_r, theirs.keys, false);
        } else {
            self.adopt_successor(ctx, o_spi_i, o_spi_r, o_keys, true);
            // We made the IKE SA that stays: we delete the old one.
            self.window.queue.clear();
            self.queue(
                ctx,
                Job::Delete(LocalDelete::Rekeyed { new_spi_i: o_spi_i }),
            );
        }
    }

    /// The peer's crossed rekey is the one that stays (ours was refused,
    /// or the peer deletes the old IKE SA before ours is answered): its new
    /// IKE SA takes over, as if it had come alone. False: none crossed.
    pub(super) fn crossed_rekey_won(&mut self, ctx: &mut Ctx) -> bool {
        let Some(theirs) = self.crossed.take() else {
            return false;
        };
        self.adopt_successor(ctx, theirs.spi_i, theirs.spi_r, theirs.keys, false);
        true
    }

    fn ike_rekey_refused(&mut self, ctx: &mut Ctx, kind: NotifyType) {
        if self.crossed_rekey_won(ctx) {
            return;
        }
        let retry = retry_delay(ctx);
        if let Some(e) = self.est_mut() {
            e.ike_retry_after = ctx.now + retry;
        }
        self.note(ctx, Note::IkeRekeyRefused { kind, retry });
    }

    /// Hands the new IKE SA to the endpoint and reports its keys.
    fn adopt_successor(
        &mut self,
        ctx: &mut Ctx,
        spi_i: u64,
        spi_r: u64,
        keys: IkeKeys,
        ours: bool,
    ) {
        let Some(next) = self.successor(ctx, spi_i, spi_r, keys.clone(), ours) else {
            return;
        };
        self.note(ctx, Note::IkeRekeyed { spi_i, spi_r, ours });
        ctx.event(Event::KeysDerived {
            spi_i,
            spi_r,
            keys: Box::new(keys),
        });
        ctx.actions.push(Action::Adopt(Box::new(next)));
    }
}
