//! Redirect (RFC 5685) in its three places, the responder moving a client
//! on purpose (reference §6.2 S-R1, S-R2) with both fallbacks, the Delete
//! exchange, and the timer presets. The responder endpoint has two
//! addresses, R1 and R2, standing for two nodes of a cluster that share SA
//! state (reference §5.3).

mod common;

use common::*;
use mobike_protocol::{
    DeleteReason, Event, MoveFallback, Note, Rejection, Role, SEC, SaState, Settings, Time,
};
use mobike_wire::header::{Flags, Header};
use mobike_wire::message::Message;
use mobike_wire::notify::{GwIdentity, NotifyData};
use mobike_wire::payload::Notify;
use mobike_wire::registry::{ExchangeType, NotifyType};
use mobike_wire::udp::frame_ike;
use mobike_wire::{Payload, PayloadType};
use std::cell::Cell;
use std::net::IpAddr;
use std::rc::Rc;

const INIT: ExchangeType = ExchangeType::IKE_SA_INIT;

fn redirecting(init: Option<&str>, auth: Option<&str>) -> (Settings, Settings) {
    let si = Settings {
        redirect: true,
        ..settings()
    };
    let sr = Settings {
        redirect: true,
        redirect_on_init: init.map(ip),
        redirect_on_auth: auth.map(ip),
        ..settings()
    };
    (si, sr)
}

fn redirect_data(m: &Msg) -> Option<(GwIdentity, Option<Vec<u8>>)> {
    m.payloads
        .iter()
        .filter_map(Payload::as_notify)
        .find(|n| n.kind == NotifyType::REDIRECT)
        .and_then(|n| match NotifyData::parse(n) {
            Ok(NotifyData::Redirect { gw, nonce }) => Some((gw, nonce)),
            _ => None,
        })
}

fn redirected_from(m: &Msg) -> Option<IpAddr> {
    m.payloads
        .iter()
        .filter_map(Payload::as_notify)
        .find(|n| n.kind == NotifyType::REDIRECTED_FROM)
        .and_then(|n| match NotifyData::parse(n) {
            Ok(NotifyData::RedirectedFrom(gw)) => gw.address(),
            _ => None,
        })
}

fn init_requests(n: &Net) -> Vec<Msg> {
    n.messages()
        .into_iter()
        .filter(|m| m.exchange() == INIT && m.is_request())
        .collect()
}

/// The newest established IKE SA of a side.
fn current(n: &Net, role: Role) -> mobike_protocol::SaSnapshot {
    let snaps = match role {
        Role::Initiator => n.i.snapshots(),
        Role::Responder => n.r.snapshots(),
    };
    snaps
        .into_iter()
        .rev()
        .find(|s| s.state == SaState::Established)
        .expect("an established IKE SA")
}

fn spi(s: &mobike_protocol::SaSnapshot) -> mobike_protocol::Spi {
    s.spi_i
}

#[test]
fn redirect_in_ike_sa_init_is_bound_to_ni_and_followed_with_redirected_from() {
    let (si, sr) = redirecting(Some(R2), None);
    let mut n = Net::with(&[I1], &[R1, R2], si, sr);
    n.connect();
    n.run(2 * SEC);
    let inits = init_requests(&n);
    assert!(inits.len() >= 2, "{}", trace(&n));
    let first = &inits[0];
    assert_eq!(first.dst.ip(), ip(R1));
    assert!(first.has(NotifyType::REDIRECT_SUPPORTED));
    assert!(!first.has(NotifyType::REDIRECTED_FROM));
    // The gateway's answer: notify only, SPIr zero, Nonce Data = Ni.
    let resp = n
        .messages()
        .into_iter()
        .find(|m| m.exchange() == INIT && m.is_response())
        .unwrap();
    assert_eq!(resp.header.spi_r, 0, "the gateway keeps no state");
    assert_eq!(
        resp.payloads.iter().map(Payload::kind).collect::<Vec<_>>(),
        vec![PayloadType::N]
    );
    let (gw, nd) = redirect_data(&resp).expect("N(REDIRECT)");
    assert_eq!(gw.address(), Some(ip(R2)));
    assert_eq!(nd, Some(first.nonce()), "Nonce Data is the client's Ni");
    // A new IKE SA with the new gateway, REDIRECTED_FROM instead of
    // REDIRECT_SUPPORTED, a new SPIi.
    let second = &inits[1];
    assert_eq!(second.dst.ip(), ip(R2));
    assert_eq!(redirected_from(second), Some(ip(R1)));
    assert!(!second.has(NotifyType::REDIRECT_SUPPORTED));
    assert_ne!(second.header.spi_i, first.header.spi_i);
    let s = current(&n, Role::Initiator);
    assert_eq!(s.remote.ip(), ip(R2));
    assert_eq!(current(&n, Role::Responder).remote.ip(), ip(I1));
    // The first SA is gone on the client; the gateway never had one.
    assert!(matches!(
        n.deleted(Role::Initiator).unwrap().1,
        DeleteReason::RedirectedInInit { .. }
    ));
    assert_eq!(n.r.snapshots().len(), 1);
    // Traffic flows with the new gateway.
    n.send_data(Role::Initiator).expect("ESP");
    n.run(n.now + SEC);
    assert_eq!(n.data_r.len(), 1);
}

#[test]
fn redirect_in_ike_sa_init_with_a_wrong_nonce_is_ignored() {
    // An off-path attacker who did not see Ni cannot redirect the client.
    let si = Settings {
        redirect: true,
        ..settings()
    };
    let mut n = Net::with(&[I1], &[R1], si, settings());
    n.connect();
    let req = init_requests(&n).remove(0);
    let n_redirect = Notify::redirect(ip(I3).into(), Some(&[0x55; 32])).unwrap();
    let header = Header {
        spi_i: req.header.spi_i,
        spi_r: 0,
        next_payload: PayloadType::None,
        exchange: INIT,
        flags: Flags::new(false, true),
        message_id: 0,
        length: 0,
    };
    let forged = Message::emit_plain(header, &[Payload::Notify(n_redirect)]);
    n.inject(sa(R1, 500), sa(I1, 500), frame_ike(&forged, 500));
    n.run(2 * SEC);
    let rejected = n.events_of(Role::Initiator).into_iter().any(|(_, e)| {
        matches!(
            e,
            Event::Rejected { reason, .. } if matches!(reason.as_ref(), Rejection::RedirectNonce)
        )
    });
    assert!(rejected, "{}", trace(&n));
    assert_eq!(current(&n, Role::Initiator).remote.ip(), ip(R1));
    assert!(
        init_requests(&n).iter().all(|m| m.dst.ip() == ip(R1)),
        "no IKE_SA_INIT to the attacker's gateway"
    );
}

#[test]
fn a_client_without_redirect_support_is_not_redirected() {
    let (_, sr) = redirecting(Some(R2), Some(R2));
    let mut n = Net::with(&[I1], &[R1, R2], settings(), sr);
    n.connect();
    n.run(2 * SEC);
    assert!(!init_requests(&n)[0].has(NotifyType::REDIRECT_SUPPORTED));
    assert!(n.messages().iter().all(|m| !m.has(NotifyType::REDIRECT)));
    assert_eq!(current(&n, Role::Initiator).remote.ip(), ip(R1));
}

#[test]
fn redirect_in_ike_auth_ends_both_sas_and_starts_over_at_the_new_gateway() {
    let (si, sr) = redirecting(None, Some(R2));
    let mut n = Net::with(&[I1], &[R1, R2], si, sr);
    n.connect();
    n.run(2 * SEC);
    let auth = n
        .messages()
        .into_iter()
        .find(|m| m.exchange() == ExchangeType::IKE_AUTH && m.is_response())
        .unwrap();
    let kinds: Vec<PayloadType> = auth.payloads.iter().map(Payload::kind).collect();
    assert!(kinds.contains(&PayloadType::IDr) && kinds.contains(&PayloadType::AUTH));
    assert!(!kinds.contains(&PayloadType::SA), "no Child SA: {kinds:?}");
    let (gw, nd) = redirect_data(&auth).expect("N(REDIRECT)");
    assert_eq!((gw.address(), nd), (Some(ip(R2)), None));
    let inits = init_requests(&n);
    assert_eq!(inits.len(), 2, "{}", trace(&n));
    assert_eq!(inits[1].dst.ip(), ip(R2));
    assert_eq!(redirected_from(&inits[1]), Some(ip(R1)));
    // The authenticated SAs with R1 are gone on both sides.
    assert!(matches!(
        n.deleted(Role::Responder).unwrap().1,
        DeleteReason::RedirectedClient { to, .. } if to == ip(R2)
    ));
    assert!(matches!(
        n.deleted(Role::Initiator).unwrap().1,
        DeleteReason::RedirectedInAuth { .. }
    ));
    assert_eq!(current(&n, Role::Initiator).remote.ip(), ip(R2));
    assert_eq!(current(&n, Role::Responder).local.ip(), ip(R2));
}

#[test]
fn redirect_of_an_established_sa_builds_a_new_one_then_deletes_the_old() {
    let (si, sr) = redirecting(None, None);
    let mut n = Net::with(&[I1], &[R1, R2], si, sr);
    n.connect();
    n.run(SEC);
    let old = current(&n, Role::Responder);
    assert!(old.redirect_supported);
    assert!(n.r.redirect(n.now, spi(&old), ip(R2)));
    n.drain();
    n.run(n.now + 3 * SEC);
    let msgs = n.messages();
    let red = msgs
        .iter()
        .find(|m| m.info() && m.is_request() && m.has(NotifyType::REDIRECT))
        .expect("INFORMATIONAL with REDIRECT");
    assert_eq!(red.from, Some(Role::Responder));
    let ack = msgs
        .iter()
        .find(|m| {
            m.info() && m.is_response() && m.mid() == red.mid() && m.from == Some(Role::Initiator)
        })
        .expect("its response");
    assert!(
        ack.payloads.is_empty(),
        "an empty response: {:?}",
        ack.payloads
    );
    // New SA, then a Delete of the old one over the old SA.
    let inits = init_requests(&n);
    assert_eq!(inits.last().unwrap().dst.ip(), ip(R2));
    assert_eq!(redirected_from(inits.last().unwrap()), Some(ip(R1)));
    let del = msgs
        .iter()
        .find(|m| m.is_request() && m.payloads.iter().any(|p| p.kind() == PayloadType::D))
        .expect("INFORMATIONAL with Delete");
    assert_eq!(del.header.spi_i, spi(&old).0);
    assert!(del.at > inits.last().unwrap().at);
    let dead: Vec<u64> = n
        .events
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Deleted { spi_i, .. } => Some(*spi_i),
            _ => None,
        })
        .collect();
    assert_eq!(
        dead,
        vec![spi(&old).0, spi(&old).0],
        "both sides delete the old SA"
    );
    assert_eq!(n.i.established().len(), 1);
    assert_eq!(n.r.established().len(), 1);
    let s = n.send_data(Role::Initiator).expect("ESP");
    assert_eq!(s.dst.ip(), ip(R2));
}

#[test]
fn redirect_loops_stop_after_five_redirects_in_300_seconds() {
    let (si, sr) = redirecting(None, None);
    let mut n = Net::with(&[I1], &[R1, R2], si, sr);
    n.connect();
    n.run(SEC);
    for k in 0..6 {
        let s = current(&n, Role::Responder);
        let to = if k % 2 == 0 { R2 } else { R1 };
        assert!(n.r.redirect(n.now, spi(&s), ip(to)));
        n.drain();
        n.run(n.now + 3 * SEC);
    }
    let followed = n
        .events_of(Role::Initiator)
        .into_iter()
        .filter(|(_, e)| matches!(e, Event::Redirected { .. }))
        .count();
    assert_eq!(followed, 6, "each redirect is seen");
    let refused = n.events_of(Role::Initiator).into_iter().any(|(_, e)| {
        matches!(
            e,
            Event::Note { note, .. } if matches!(note.as_ref(), Note::RedirectLoop {
                    max: 5,
                    period_s: 300,
                    ..
                })
        )
    });
    assert!(refused, "{}", trace(&n));
    assert_eq!(
        init_requests(&n).len(),
        6,
        "the first SA and five redirects"
    );
    // After the period, redirects are followed again.
    n.run(n.now + 300 * SEC);
    let s = current(&n, Role::Responder);
    assert!(n.r.redirect(n.now, spi(&s), ip(R2)));
    n.drain();
    n.run(n.now + 3 * SEC);
    assert_eq!(init_requests(&n).len(), 7);
}

#[test]
fn delete_exchange_removes_the_sa_on_both_sides() {
    let mut n = Net::established(&[I1], &[R1]);
    let s = current(&n, Role::Initiator);
    n.i.delete(n.now, spi(&s));
    n.drain();
    n.run(n.now + SEC);
    let del = n
        .messages()
        .into_iter()
        .find(|m| m.is_request() && m.payloads.iter().any(|p| p.kind() == PayloadType::D))
        .expect("Delete");
    assert_eq!(del.from, Some(Role::Initiator));
    assert_eq!(
        n.deleted(Role::Responder).unwrap().1,
        DeleteReason::PeerDeleted
    );
    assert!(n.deleted(Role::Initiator).is_some());
    assert!(n.i.established().is_empty() && n.r.established().is_empty());
}

// ------------------------------------------------------- responder moves

fn moving(policy: mobike_protocol::ListPolicy) -> Net {
    let si = Settings {
        list_policy: policy,
        ..settings()
    };
    let mut n = Net::with(&[I1], &[R1, R2], si, settings());
    n.connect();
    n.run(SEC);
    n
}

fn responder_moves(n: &mut Net, to: &str) {
    let s = current(n, Role::Responder);
    assert!(n.r.move_peer(n.now, spi(&s), ip(to)));
    n.drain();
}

#[test]
fn responder_move_strict_client_runs_its_own_update_to_the_new_address() {
    let mut n = moving(mobike_protocol::ListPolicy::Strict);
    let before = n.messages().len();
    responder_moves(&mut n, R2);
    n.run(n.now + 2 * SEC);
    let msgs = n.messages()[before..].to_vec();
    let list = &msgs[0];
    assert_eq!(list.from, Some(Role::Responder));
    assert_eq!(list.src.ip(), ip(R2), "sent from the new address");
    assert!(list.has(NotifyType::NO_ADDITIONAL_ADDRESSES));
    let upd = msgs
        .iter()
        .find(|m| m.is_request() && m.has(NotifyType::UPDATE_SA_ADDRESSES))
        .expect("the client's own UPDATE_SA_ADDRESSES");
    assert_eq!(upd.dst.ip(), ip(R2));
    assert!(upd.has(NotifyType::COOKIE2));
    for role in [Role::Initiator, Role::Responder] {
        let s = current(&n, role);
        let (l, r) = (s.ipsec_local.unwrap().ip(), s.ipsec_remote.unwrap().ip());
        let pair = if role == Role::Initiator {
            (l, r)
        } else {
            (r, l)
        };
        assert_eq!(pair, (ip(I1), ip(R2)), "{role:?}");
    }
}

#[test]
fn responder_move_follow_client_moves_at_once_without_update() {
    let mut n = moving(mobike_protocol::ListPolicy::Follow);
    let before = n.messages().len();
    responder_moves(&mut n, R2);
    n.run(n.now + 2 * SEC);
    let msgs = n.messages()[before..].to_vec();
    assert!(
        msgs.iter().all(|m| !m.has(NotifyType::UPDATE_SA_ADDRESSES)),
        "{}",
        trace(&n)
    );
    assert_eq!(
        current(&n, Role::Initiator).ipsec_remote.unwrap().ip(),
        ip(R2)
    );
    assert_eq!(
        current(&n, Role::Responder).ipsec_local.unwrap().ip(),
        ip(R2)
    );
    let s = n.send_data(Role::Responder).expect("ESP");
    assert_eq!(s.src.ip(), ip(R2));
}

/// A filter like an address-dependent NAT's (RFC 4787 ADF): datagrams from
/// R2 to the client are dropped until the client has sent something to R2.
fn adf_filter(n: &mut Net) -> Rc<Cell<u32>> {
    let opened = Rc::new(Cell::new(false));
    let dropped = Rc::new(Cell::new(0));
    let (o, d) = (opened.clone(), dropped.clone());
    n.add_rule(move |dg, _| {
        if dg.from == Role::Initiator && dg.dst.ip() == ip(R2) {
            o.set(true);
        }
        if dg.from == Role::Responder && dg.src.ip() == ip(R2) && !o.get() {
            d.set(d.get() + 1);
            return Fate::Drop;
        }
        Fate::Pass
    });
    dropped
}

#[test]
fn responder_move_through_a_filtering_nat_falls_back_to_the_old_address() {
    let mut n = moving(mobike_protocol::ListPolicy::Strict);
    let dropped = adf_filter(&mut n);
    let before = n.messages().len();
    responder_moves(&mut n, R2);
    n.run(n.now + 20 * SEC);
    let msgs = n.messages()[before..].to_vec();
    let list = &msgs[0];
    let copies: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.from == Some(Role::Responder) && m.ike == list.ike)
        .collect();
    assert!(dropped.get() >= 3, "the moves from R2 were filtered");
    // The same octets, later from R1 (I-2.1-7), and that copy arrives.
    let from_r1 = copies
        .iter()
        .find(|m| m.src.ip() == ip(R1))
        .expect("retransmitted from the old address");
    assert!(from_r1.delivered());
    // Then M-3.6-2: a new list from R1 naming R2 as additional address.
    let relist = msgs
        .iter()
        .find(|m| {
            m.from == Some(Role::Responder)
                && m.is_request()
                && m.mid() > list.mid()
                && m.has(NotifyType::ADDITIONAL_IP4_ADDRESS)
        })
        .expect("a fresh list");
    assert_eq!(relist.src.ip(), ip(R1));
    let s = current(&n, Role::Initiator);
    assert_eq!(s.remote.ip(), ip(R1));
    assert_eq!(s.peer_addresses, vec![ip(R1), ip(R2)]);
    assert_eq!(current(&n, Role::Responder).local.ip(), ip(R1));
}

#[test]
fn responder_keeps_retransmitting_until_the_client_probe_opens_the_filter() {
    // R1 is gone (the node left the cluster): the responder announces from
    // R2; the client's path to R1 dies, its probes reach R2 and open the
    // filter; the responder's retransmission then gets through.
    let sr = Settings {
        move_fallback: MoveFallback::KeepRetransmitting,
        ..settings()
    };
    let mut n = Net::with(&[I1], &[R1, R2], settings(), sr);
    n.connect();
    n.run(SEC);
    let dropped = adf_filter(&mut n);
    n.blackholed.insert(ip(R1));
    n.r.handle_local_addresses(n.now, vec![ip(R2)]);
    n.drain();
    let t0 = n.now;
    n.run(n.now + 120 * SEC);
    assert!(dropped.get() >= 1, "{}", trace(&n));
    for role in [Role::Initiator, Role::Responder] {
        let s = current(&n, role);
        let (l, r) = (s.ipsec_local.unwrap().ip(), s.ipsec_remote.unwrap().ip());
        let pair = if role == Role::Initiator {
            (l, r)
        } else {
            (r, l)
        };
        assert_eq!(pair, (ip(I1), ip(R2)), "{role:?}");
    }
    // The client's first datagram to R2 came from its own path test.
    let first_to_r2: Time = n
        .log
        .iter()
        .find(|s| s.from == Some(Role::Initiator) && s.dst.ip() == ip(R2))
        .unwrap()
        .at;
    assert!(
        first_to_r2 > t0 + 5 * SEC,
        "only after the client's own liveness check failed: {}",
        trace(&n)
    );
}

// ---------------------------------------------------------------- presets

#[test]
fn presets_differ_where_the_reference_says() {
    let s = Settings::preset("strongswan").unwrap();
    assert_eq!(s.retransmit().initial, 4 * SEC);
    assert!((s.retransmit().factor - 1.8).abs() < 1e-9);
    assert_eq!(s.retransmit().tries, 5);
    // Schedule of reference §1.11: sends at 0, 4, 11.2, 24.16, 47.488,
    // 89.478 s; give up at 165.061 s.
    let mut t = 0;
    let mut at = vec![];
    for k in 0..=5 {
        at.push(t);
        t += s.retransmit().timeout(k);
    }
    assert_eq!(
        at,
        vec![0, 4_000_000, 11_200_000, 24_160_000, 47_488_000, 89_478_400]
    );
    assert_eq!(t, 165_061_120);
    assert_eq!(Settings::preset("rfc"), Some(Settings::default()));
    assert_eq!(
        Settings::preset("libreswan").unwrap().retransmit().initial,
        500_000
    );
    assert!(Settings::preset("racoon").is_none());
}

#[test]
fn window_of_two_lets_two_requests_fly_and_is_announced() {
    let s = Settings {
        window_size: 2,
        ..settings()
    };
    let mut n = Net::with(&[I1, I2], &[R1], s.clone(), s);
    n.connect();
    n.run(SEC);
    let auth = n
        .messages()
        .into_iter()
        .filter(|m| m.exchange() == ExchangeType::IKE_AUTH)
        .collect::<Vec<_>>();
    assert!(
        auth.iter()
            .all(|m| m.data(NotifyType::SET_WINDOW_SIZE) == Some(&[0, 0, 0, 2][..]))
    );
    assert_eq!(current(&n, Role::Initiator).window, 2);
    // Hold the responder's answers back, then ask for two things at once.
    n.delay = 400 * 1000;
    n.i.handle_local_addresses(n.now, vec![ip(I1)]);
    n.drain();
    n.i.handle_hint(n.now, mobike_protocol::Hint::Icmp { peer: ip(R1) });
    n.drain();
    assert_eq!(current(&n, Role::Initiator).in_flight, 2);
    // With a window of 1 the second would wait (I-2.3-2): that is what the
    // window-1 checker reports here.
    assert_eq!(
        window_violations(&n).len(),
        1,
        "{:?}",
        window_violations(&n)
    );
    n.run(n.now + 2 * SEC);
    assert_eq!(current(&n, Role::Initiator).in_flight, 0);
    let rejected = n
        .events
        .iter()
        .any(|(_, _, e)| matches!(e, Event::Rejected { .. }));
    assert!(
        !rejected,
        "the responder takes both requests: {}",
        trace(&n)
    );
}
