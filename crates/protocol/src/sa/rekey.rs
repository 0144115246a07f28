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
//! A new IKE SA's own rekeying, and more Child SAs on one IKE SA, are
//! refused: CREATE_CHILD_SA without REKEY_SA is answered with
//! NO_ADDITIONAL_SAS (§3.10.1), a REKEY_SA for an SA we do not have with
//! CHILD_SA_NOT_FOUND.

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
            let gcm = pr
                .transform(TransformType::ENCR)
                .is_some_and(|t| t.id == transform_id::ENCR_AES_GCM_16);
            let dh = pr.transform(TransformType::DH).map(|t| t.id);
            let spi = <[u8; 4]>::try_from(pr.spi.as_slice()).ok()?;
            let ok = pr.protocol == ProtocolId::ESP
                && gcm
                && dh.is_none_or(|g| g == transform_id::DH_CURVE25519);
            ok.then_some((u32::from_be_bytes(spi), dh.is_some()))
        }),
        _ => None,
    })
}

fn nonce_of(inner: &[Payload]) -> Option<Vec<u8>> {
    inner.iter().find_map(|p| match p {
        Payload::Nonce(n) => Some(n.clone()),
        _ => None,
    })
}

fn ke_of(inner: &[Payload]) -> Option<Vec<u8>> {
    inner.iter().find_map(|p| match p {
        Payload::Ke { group, data } if *group == transform_id::DH_CURVE25519 => Some(data.clone()),
        _ => None,
    })
}

/// A Child SA made by a CREATE_CHILD_SA exchange: KEYMAT from SK_d and the
/// exchange's nonces (and new D-H secret), the first key for the data from
/// the exchange's initiator (RFC 7296 §2.17).
struct NewChild<'a> {
    sk_d: &'a [u8],
    ni: &'a [u8],
    nr: &'a [u8],
    shared: Option<[u8; 32]>,
    /// We started the exchange.
    ours: bool,
    my_spi: u32,
    peer_spi: u32,
    replaces: u32,
}

impl IkeSa {
    /// Starts rekeying the newest Child SA (the page's or timeline's
    /// "rekey now"). False when there is none or a rekey is under way.
    pub fn rekey_child(&mut self, ctx: &mut Ctx) -> bool {
        if !self.is_established() || self.rekey_under_way() {
            return false;
        }
        let Some(spi) = self.inbound_spi() else {
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

    /// A Child SA rekey of ours is queued or waiting for its answer.
    fn rekey_under_way(&self) -> bool {
        self.window.queue.contains(&Job::RekeyChild)
            || self
                .window
                .outstanding
                .iter()
                .any(|r| matches!(r.task, Task::RekeyChild { .. }))
    }

    /// When the newest Child SA's lifetime runs out (RFC 7296 §2.8: the
    /// lifetime is local policy), unless a rekey is under way.
    pub(super) fn child_rekey_due(&self, settings: &Settings) -> Option<Time> {
        let life = settings.child_lifetime?;
        let newest = self.est()?.children.last()?;
        (!self.rekey_under_way()).then_some(newest.born + life.micros())
    }

    /// The lifetime ran out: rekey.
    pub(super) fn child_lifetime_over(&mut self, ctx: &mut Ctx) {
        let Some(spi) = self.inbound_spi() else {
            return;
        };
        self.note(
            ctx,
            Note::RekeyingChild {
                spi,
                why: RekeyWhy::Lifetime,
                pfs: ctx.config.settings.rekey_pfs,
            },
        );
        self.queue(ctx, Job::RekeyChild);
    }

    /// The CREATE_CHILD_SA request: HDR, SK {N(REKEY_SA), SA, Ni, [KEi],
    /// TSi, TSr} (RFC 7296 §1.3.3).
    pub(super) fn rekey_child_request(&mut self, ctx: &mut Ctx) -> Option<(Vec<Payload>, Task)> {
        let old_in = self.inbound_spi()?;
        let pfs = ctx.config.settings.rekey_pfs;
        let new_in = ctx.rng.next_u32() | 1;
        let ni = ctx.random(32);
        let dh_seed: Option<[u8; 32]> = pfs.then(|| ctx.random(32).try_into().unwrap_or([1; 32]));
        let mut out = vec![
            rekey_sa(old_in),
            Payload::Sa(vec![esp_proposal(new_in, pfs)]),
            Payload::Nonce(ni.clone()),
        ];
        if let Some(seed) = dh_seed {
            out.push(Payload::Ke {
                group: transform_id::DH_CURVE25519,
                data: X25519::from_seed(seed).public().to_vec(),
            });
        }
        out.extend([Payload::TsI(any_ts()), Payload::TsR(any_ts())]);
        let task = Task::RekeyChild {
            old_in,
            new_in,
            ni,
            dh_seed,
        };
        Some((out, task))
    }

    /// Installs a Child SA made by CREATE_CHILD_SA and reports its keys.
    fn install_new_child(&mut self, ctx: &mut Ctx, n: NewChild) -> Option<u32> {
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
        let mut child = ChildSa::new(out, inbound, ctx.now, [n.ni, n.nr]);
        child.ours = n.ours;
        child.replaces = Some(n.replaces);
        let e = self.est_mut()?;
        e.children.push(child);
        self.note(
            ctx,
            Note::ChildRekeyed {
                old: n.replaces,
                new: n.my_spi,
                pfs: n.shared.is_some(),
            },
        );
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
        const CCSA: ExchangeType = ExchangeType::CREATE_CHILD_SA;
        let refuse = |sa: &mut IkeSa, ctx: &mut Ctx, kind: NotifyType| {
            sa.respond(ctx, CCSA, mid, &[notify(kind, vec![])], dst, src);
            sa.note(ctx, Note::CreateChildRefused { kind });
        };
        let rekey = inner
            .iter()
            .filter_map(Payload::as_notify)
            .find(|n| n.kind == NotifyType::REKEY_SA && n.protocol_id == ProtocolId::ESP.value());
        let Some(rekey) = rekey else {
            // A new Child SA, or a new IKE SA: neither is made here.
            return refuse(self, ctx, NotifyType::NO_ADDITIONAL_SAS);
        };
        // The peer's inbound SPI is our outbound one.
        let Some(peer_old) = <[u8; 4]>::try_from(rekey.spi.as_slice())
            .ok()
            .map(u32::from_be_bytes)
        else {
            return refuse(self, ctx, NotifyType::CHILD_SA_NOT_FOUND);
        };
        let Some(e) = self.est() else { return };
        let Some(old) = e.children.iter().find(|c| c.out.spi == peer_old) else {
            return refuse(self, ctx, NotifyType::CHILD_SA_NOT_FOUND);
        };
        let old_in = old.inbound.spi;
        let sk_d = e.keys.sk_d.clone();
        let (Some((peer_spi, pfs)), Some(ni)) = (esp_offer(inner), nonce_of(inner)) else {
            return refuse(self, ctx, NotifyType::NO_PROPOSAL_CHOSEN);
        };
        let ke = ke_of(inner);
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
        out.extend([Payload::TsI(any_ts()), Payload::TsR(any_ts())]);
        self.respond(ctx, CCSA, mid, &out, dst, src);
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
            },
        ) else {
            return;
        };
        // §2.8.1: a rekey of ours of the same SA crossed this one and is
        // already done: settle now which new SA is redundant. (Still
        // outstanding, it settles when its answer comes.)
        let mine = self.est().and_then(|e| {
            e.children
                .iter()
                .find(|c| c.ours && c.replaces == Some(old_in))
                .map(|c| c.inbound.spi)
        });
        if let Some(mine) = mine {
            self.settle_crossed_rekeys(ctx, old_in, mine, peer_new);
        }
    }

    /// Exchange initiator: the answer to our CREATE_CHILD_SA request.
    pub(super) fn handle_rekey_child_response(
        &mut self,
        ctx: &mut Ctx,
        old_in: u32,
        new_in: u32,
        ni: &[u8],
        dh_seed: Option<[u8; 32]>,
        inner: &[Payload],
    ) {
        if let Some(kind) = inner
            .iter()
            .filter_map(Payload::as_notify)
            .map(|n| n.kind)
            .find(|k| k.value() < 16384)
        {
            // An error notify: the old Child SA stays (RFC 7296 §1.3.3).
            self.note(ctx, Note::ChildRekeyRefused { kind });
            return;
        }
        let Some(e) = self.est() else { return };
        if !e.children.iter().any(|c| c.inbound.spi == old_in) {
            // The peer deleted the SA meanwhile: nothing to replace.
            return;
        }
        let sk_d = e.keys.sk_d.clone();
        let (Some((peer_spi, pfs)), Some(nr)) = (esp_offer(inner), nonce_of(inner)) else {
            self.note(
                ctx,
                Note::ChildRekeyRefused {
                    kind: NotifyType::NO_PROPOSAL_CHOSEN,
                },
            );
            return;
        };
        let shared = match (dh_seed, pfs, ke_of(inner)) {
            (Some(seed), true, Some(ke)) => X25519::from_seed(seed).shared_secret(&ke).ok(),
            (None, false, None) => None,
            _ => {
                self.note(
                    ctx,
                    Note::ChildRekeyRefused {
                        kind: NotifyType::INVALID_KE_PAYLOAD,
                    },
                );
                return;
            }
        };
        if dh_seed.is_some() && shared.is_none() {
            return;
        }
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
            },
        ) else {
            return;
        };
        let theirs = self.est().and_then(|e| {
            e.children
                .iter()
                .find(|c| !c.ours && c.replaces == Some(old_in))
                .map(|c| c.inbound.spi)
        });
        match theirs {
            Some(theirs) => self.settle_crossed_rekeys(ctx, old_in, mine, theirs),
            // The rekey's initiator deletes the old SA (RFC 7296 §1.3.3).
            None => self.queue(ctx, Job::DeleteChild { spi_in: old_in }),
        }
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
