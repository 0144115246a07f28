//! RFC 7296 §2.1–§2.4: retransmission timers, message IDs, the window
//! of outstanding requests and state synchronization.

use crate::common::*;
use crate::helpers::*;
use mobike_protocol::{
    DeleteReason, Dur, Event, MS, Rejection, Retransmit, Role, SEC, SaState, Settings, Time,
};
use mobike_wire::header::{Flags, Header};
use mobike_wire::message::Message;
use mobike_wire::payload::{Delete, Notify};
use mobike_wire::registry::{ExchangeType, NotifyType};
use mobike_wire::udp::frame_ike;
use mobike_wire::{Payload, PayloadType as PT};
use std::collections::{BTreeMap, BTreeSet};

// ============================================================= RFC 7296 §2.1

#[test]
fn i_2_1_1_response_resent_only_when_a_request_copy_arrives() {
    let mut n = Net::established(&[I1], &[R1]);
    n.on(
        Match::response(INFO).from(Role::Responder).nth(0),
        Fate::Drop,
    );
    n.run(12 * SEC);
    let msgs = n.messages();
    let live = msgs.iter().find(|m| m.info() && m.is_request()).unwrap();
    let copies_in: usize = msgs
        .iter()
        .filter(|m| m.is_request() && m.mid() == live.mid())
        .map(|m| m.arrivals.len())
        .sum();
    let resps = msgs
        .iter()
        .filter(|m| m.is_response() && m.mid() == live.mid())
        .count();
    assert!(copies_in >= 2);
    assert_eq!(resps, copies_in, "one response per request copy received");
    assert!(response_path_violations(&n).is_empty());
}

#[test]
fn i_2_1_2_duplicate_request_only_triggers_the_cached_response() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    // The network delivers the UPDATE twice.
    n.on(
        Match::request(INFO).from(Role::Initiator),
        Fate::Twice(5 * MS),
    );
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 3 * SEC);
    let msgs = n.messages();
    let upd = updates(&msgs).pop().unwrap();
    let resps: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.is_response() && m.mid() == upd.mid())
        .collect();
    assert_eq!(resps.len(), 2);
    assert_eq!(resps[0].ike, resps[1].ike, "the same octets");
    // The state change (IKE SA move, return routability check) ran once.
    assert_eq!(responder_requests(&msgs).len(), 1, "{}", trace(&n));
    let moves = n
        .events_of(Role::Responder)
        .iter()
        .filter(|(_, e)| matches!(e, Event::IkePathChanged { remote, .. } if remote.ip() == ip(I2)))
        .count();
    assert_eq!(moves, 1);
    // A copy from another source gets the cached response there, nothing moves.
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.run(6 * SEC);
    let live = n
        .sent_by(Role::Initiator)
        .into_iter()
        .find(|m| m.info())
        .unwrap();
    let first = response_to(&n.messages(), &live).unwrap().ike.clone();
    n.inject(sa(I2, 4500), sa(R1, 4500), frame_ike(&live.ike, 4500));
    n.run(n.now + SEC);
    let again = n
        .messages()
        .into_iter()
        .rfind(|m| m.is_response() && m.mid() == live.mid())
        .unwrap();
    assert_eq!(again.dst, sa(I2, 4500));
    assert_eq!(again.ike, first);
    assert_eq!(n.snap(Role::Responder).remote, sa(I1, 4500));
}

#[test]
fn i_2_1_3_request_kept_and_resent_until_answered() {
    let mut n = Net::established(&[I1], &[R1]);
    n.cut.insert((ip(R1), ip(I1)));
    n.run(7 * SEC + 500 * MS); // liveness at 5.04 s, resent at 6.04 s
    n.cut.clear();
    n.run(20 * SEC);
    let msgs = n.messages();
    let live = msgs.iter().find(|m| m.info() && m.is_request()).unwrap();
    let copies: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.is_request() && m.mid() == live.mid())
        .collect();
    assert!(copies.len() >= 3);
    assert!(copies.iter().all(|c| c.ike == live.ike));
    let answered = msgs
        .iter()
        .filter(|m| m.is_response() && m.mid() == live.mid())
        .flat_map(|m| m.arrivals.iter())
        .map(|a| a.at)
        .min()
        .unwrap();
    assert!(
        copies.iter().all(|c| c.at <= answered),
        "nothing after the answer"
    );
    assert!(n.deleted(Role::Initiator).is_none());
}

#[test]
fn i_2_1_4_retransmitted_request_gets_identical_cached_response() {
    let mut n = Net::established(&[I1], &[R1]);
    n.on(
        Match::response(INFO).from(Role::Responder).nth(0),
        Fate::Drop,
    );
    n.run(8 * SEC);
    let msgs = n.messages();
    let live = msgs.iter().find(|m| m.info() && m.is_request()).unwrap();
    let resps: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.is_response() && m.mid() == live.mid())
        .collect();
    assert_eq!(resps.len(), 2);
    assert!(!resps[0].delivered() && resps[1].delivered());
    assert_eq!(resps[0].ike, resps[1].ike);
}

#[test]
fn i_2_1_5_forgotten_response_is_not_rebuilt() {
    let mut n = Net::established(&[I1], &[R1]);
    n.run(11 * SEC); // two liveness exchanges
    let msgs = n.messages();
    let lives: Vec<&Msg> = msgs.iter().filter(|m| m.info() && m.is_request()).collect();
    assert!(lives.len() >= 2);
    let old = lives[0].clone();
    let sent = n.log.len();
    n.inject(old.src, old.dst, frame_ike(&old.ike, 4500));
    n.run(n.now + SEC);
    assert!(
        !n.log[sent..]
            .iter()
            .any(|s| s.from == Some(Role::Responder)),
        "{}",
        trace(&n)
    );
    assert!(n.events_of(Role::Responder).iter().any(|(t, e)| *t > old.at
        && matches!(
            e,
            Event::Rejected { reason, .. } if matches!(reason.as_ref(), Rejection::MessageId { .. })
        )));
}

#[test]
fn i_2_1_6_retransmissions_then_the_ike_sa_and_child_sas_are_gone() {
    let mut n = Net::established(&[I1], &[R1]);
    n.blackholed.insert(ip(R1));
    n.run(200 * SEC);
    let live = n
        .sent_by(Role::Initiator)
        .into_iter()
        .find(|m| m.info())
        .unwrap();
    let sends: BTreeSet<Time> = n
        .sent_by(Role::Initiator)
        .iter()
        .filter(|m| m.mid() == live.mid())
        .map(|m| m.at)
        .collect();
    assert_eq!(sends.len(), 1 + 5, "original and 5 retransmissions");
    let (at, reason) = n.deleted(Role::Initiator).expect("deleted");
    assert!(at > *sends.last().unwrap(), "{reason}");
    assert!(
        matches!(
            reason,
            DeleteReason::NoResponse {
                retransmissions: 5,
                ..
            }
        ),
        "{reason}"
    );
    assert!(n.send_data(Role::Initiator).is_none());
    assert_eq!(n.i.poll_timeout(), None);
    assert!(
        n.log
            .iter()
            .all(|s| s.from != Some(Role::Initiator) || s.at <= at)
    );
}

#[test]
fn i_2_1_7_retransmissions_are_bitwise_identical_across_paths() {
    // Path testing of a liveness check over I1 and I2.
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.blackholed.insert(ip(I1));
    n.run(20 * SEC);
    let msgs = n.sent_by(Role::Initiator);
    let live = msgs.iter().find(|m| m.info()).unwrap();
    let copies: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.is_request() && m.mid() == live.mid())
        .collect();
    let paths: BTreeSet<_> = copies.iter().map(|c| (c.src, c.dst)).collect();
    assert!(paths.len() >= 2, "{paths:?}");
    assert!(copies.iter().all(|c| c.ike == live.ike));
    // Multi-source IKE_SA_INIT.
    let mut n = Net::new(&[I1, I2], &[R1]);
    n.blackholed.insert(ip(I1));
    n.connect();
    n.run(5 * SEC);
    let inits: Vec<Msg> = n
        .sent_by(Role::Initiator)
        .into_iter()
        .filter(|m| m.exchange() == ExchangeType::IKE_SA_INIT)
        .collect();
    let srcs: BTreeSet<_> = inits.iter().map(|m| m.src).collect();
    assert!(srcs.len() >= 2);
    assert!(inits.iter().all(|m| m.ike == inits[0].ike));
}

// ============================================================= RFC 7296 §2.2

#[test]
fn i_2_2_1_retransmission_keeps_the_message_id_new_requests_count_up() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.on(
        Match::response(INFO).from(Role::Responder).nth(0),
        Fate::Drop,
    );
    n.on(
        Match::request(INFO).from(Role::Initiator).nth(1),
        Fate::Drop,
    );
    n.run(8 * SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(20 * SEC);
    for role in [Role::Initiator, Role::Responder] {
        let msgs = n.sent_by(role);
        let mut by_bytes: BTreeMap<Vec<u8>, BTreeSet<u32>> = BTreeMap::new();
        let mut order = Vec::new();
        for m in msgs.iter().filter(|m| m.is_request()) {
            by_bytes.entry(m.ike.clone()).or_default().insert(m.mid());
            if order.last() != Some(&m.mid()) {
                order.push(m.mid());
            }
        }
        assert!(
            by_bytes.values().all(|s| s.len() == 1),
            "copies share one ID"
        );
        let expect: Vec<u32> = (0..order.len() as u32).collect();
        assert_eq!(order, expect, "{role:?}: {}", trace(&n));
    }
}

// ============================================================= RFC 7296 §2.3

#[test]
fn i_2_3_1_window_of_one_during_the_initial_exchanges() {
    let mut n = Net::new(&[I1, I2], &[R1]);
    n.on(Match::response(ExchangeType::IKE_AUTH).nth(0), Fate::Drop);
    n.connect();
    n.run(30 * MS);
    // An address change while IKE_AUTH is outstanding.
    n.i.handle_local_addresses(n.now, vec![ip(I1), ip(I2), ip(I3)]);
    assert!(n.run_until(5 * SEC, |n| n.snap(Role::Initiator).state
        == SaState::Established));
    let msgs = n.sent_by(Role::Initiator);
    assert!(msgs.iter().all(|m| m.mid() <= 1), "{}", trace(&n));
    assert_eq!(n.snap(Role::Initiator).window, 1);
    assert!(window_violations(&n).is_empty());
}

#[test]
fn i_2_3_2_next_request_waits_for_the_response() {
    let (mut n, _) = busy_move();
    n.run(15 * SEC);
    let v = window_violations(&n);
    assert!(v.is_empty(), "{v:?}");
    // The UPDATE was held back, not dropped.
    assert_eq!(updates(&n.messages()).len(), 1);
}

#[test]
fn i_2_3_3_up_to_the_peers_window_outstanding_never_more() {
    let mut n = Net::with(&[I1, I2], &[R1], windowed(), windowed());
    n.connect();
    n.run(SEC);
    n.delay = 400 * MS;
    n.i.handle_local_addresses(n.now, vec![ip(I1)]);
    n.i.handle_hint(n.now, mobike_protocol::Hint::Icmp { peer: ip(R1) });
    n.i.handle_hint(n.now, mobike_protocol::Hint::InvalidSpi { peer: ip(R1) });
    n.drain();
    let s = n.snap(Role::Initiator);
    assert_eq!(s.in_flight, 2, "I-2.3-3");
    assert_eq!(
        s.queued.len(),
        1,
        "I-2.3-5: the third waits: {:?}",
        s.queued
    );
    n.run(n.now + 3 * SEC);
    let s = n.snap(Role::Initiator);
    assert_eq!((s.in_flight, s.queued.len()), (0, 0));
    // Without SET_WINDOW_SIZE from the peer, one at a time.
    let mut n = Net::with(&[I1, I2], &[R1], windowed(), settings());
    n.connect();
    n.run(SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I1)]);
    n.i.handle_hint(n.now, mobike_protocol::Hint::Icmp { peer: ip(R1) });
    assert_eq!(n.snap(Role::Initiator).in_flight, 1);
}

#[test]
fn i_2_3_4_request_answered_while_own_request_is_outstanding() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    // The UPDATE's answer is lost once: the initiator still waits for it
    // when the responder's own request arrives.
    n.on(
        Match::response(INFO).from(Role::Responder).nth(0),
        Fate::Drop,
    );
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 5 * SEC);
    let msgs = n.messages();
    let upd = updates(&msgs).pop().unwrap();
    let upd_answered = msgs
        .iter()
        .filter(|m| m.is_response() && m.mid() == upd.mid())
        .flat_map(|m| m.arrivals.iter())
        .map(|a| a.at)
        .min()
        .unwrap();
    let rr = &responder_requests(&msgs)[0];
    let rr_resp = response_to(&msgs, rr).expect("answered");
    assert!(rr_resp.at < upd_answered, "{}", trace(&n));
    assert_eq!(n.snap(Role::Responder).ipsec_remote, Some(sa(I2, 4500)));
}

#[test]
fn i_2_3_5_never_more_outstanding_requests_than_the_window() {
    let mut n = Net::established(&[I1, I2, IPRIV], &[R1, R2]);
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 40000));
    n.on(
        Match::response(INFO).from(Role::Responder).nth(0),
        Fate::Drop,
    );
    n.run(6 * SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I2), ip(IPRIV)]);
    n.r.handle_local_addresses(n.now, vec![ip(R1)]);
    n.run(9 * SEC);
    n.i.handle_local_addresses(n.now, vec![ip(IPRIV)]);
    n.run(15 * SEC);
    n.blackholed.insert(ip(R1));
    n.run(25 * SEC);
    let v = window_violations(&n);
    assert!(v.is_empty(), "{v:?}\n{}", trace(&n));
    assert!(n.messages().len() > 20);
}

#[test]
fn i_2_3_6_request_kept_until_answered_and_previous_response_kept() {
    let mut n = Net::established(&[I1], &[R1]);
    n.on(
        Match::response(INFO).from(Role::Responder).nth(0),
        Fate::Drop,
    );
    n.on(
        Match::request(INFO).from(Role::Initiator).nth(0),
        Fate::Drop,
    );
    n.run(10 * SEC);
    let msgs = n.messages();
    let live = msgs.iter().find(|m| m.info() && m.is_request()).unwrap();
    let reqs: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.is_request() && m.mid() == live.mid())
        .collect();
    let resps: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.is_response() && m.mid() == live.mid())
        .collect();
    assert!(reqs.len() >= 3 && reqs.iter().all(|r| r.ike == live.ike));
    assert!(resps.len() >= 2 && resps.iter().all(|r| r.ike == resps[0].ike));
}

#[test]
fn i_2_3_7_no_invalid_message_id_in_a_response() {
    let mut n = Net::established(&[I1], &[R1]);
    let keys = n.keys.clone().unwrap();
    let (spi_i, spi_r) = ike_sa_spis(&n);
    let far = Header {
        spi_i,
        spi_r,
        next_payload: PT::None,
        exchange: INFO,
        flags: Flags::new(true, false),
        message_id: 50,
        length: 0,
    };
    let sent = n.log.len();
    let d = forge(&keys, Role::Initiator, far, &[], [0xD0; 8], 4500, 4500);
    n.inject(sa(I1, 4500), sa(R1, 4500), d);
    n.run(n.now + SEC);
    assert!(
        !n.log[sent..]
            .iter()
            .any(|s| s.from == Some(Role::Responder)),
        "no answer to an out-of-window request"
    );
    n.run(20 * SEC);
    assert!(
        !n.messages()
            .iter()
            .any(|m| m.is_response() && m.has(NotifyType::INVALID_MESSAGE_ID))
    );
    assert_eq!(n.snap(Role::Responder).state, SaState::Established);
}

// ============================================================= RFC 7296 §2.4

#[test]
fn i_2_4_1_unprotected_messages_never_end_the_sa() {
    let mut n = Net::established(&[I1], &[R1]);
    let (spi_i, spi_r) = ike_sa_spis(&n);
    let hdr = |mid, initiator, response| Header {
        spi_i,
        spi_r,
        next_payload: PT::None,
        exchange: INFO,
        flags: Flags::new(initiator, response),
        message_id: mid,
        length: 0,
    };
    let bad = [
        Payload::Delete(Delete::ike()),
        Payload::Notify(Notify::empty(NotifyType::AUTHENTICATION_FAILED)),
    ];
    // To the responder as the next request, to the initiator as a request
    // and as an IKE_AUTH "response".
    n.inject(
        sa(I1, 4500),
        sa(R1, 4500),
        frame_ike(&Message::emit_plain(hdr(2, true, false), &bad), 4500),
    );
    n.inject(
        sa(R1, 4500),
        sa(I1, 4500),
        frame_ike(&Message::emit_plain(hdr(0, false, false), &bad), 4500),
    );
    let mut auth_fail = hdr(1, false, true);
    auth_fail.exchange = ExchangeType::IKE_AUTH;
    n.inject(
        sa(R1, 4500),
        sa(I1, 4500),
        frame_ike(&Message::emit_plain(auth_fail, &bad[1..]), 4500),
    );
    // ESP for nobody.
    n.inject(
        sa(R1, 4500),
        sa(I1, 4500),
        vec![0xde, 0xad, 0, 1, 0, 0, 0, 1, 9, 9],
    );
    n.run(12 * SEC);
    for role in [Role::Initiator, Role::Responder] {
        assert_eq!(n.snap(role).state, SaState::Established);
        assert!(n.deleted(role).is_none());
    }
    assert!(
        n.events
            .iter()
            .filter(|(_, _, e)| matches!(e, Event::Rejected { .. }))
            .count()
            >= 4
    );
    // And the SA still works: the liveness checks are answered.
    let msgs = n.messages();
    let lives: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.from == Some(Role::Initiator) && m.info() && m.is_request())
        .collect();
    assert!(lives.len() >= 2);
    assert!(lives.iter().all(|l| response_to(&msgs, l).is_some()));
}

#[test]
fn i_2_4_2_retransmission_intervals_grow_exponentially() {
    let default = Settings::default().retransmit();
    for (rt, ratio) in [
        (default, 2.0),
        (
            Retransmit {
                initial: 500 * MS,
                factor: 1.5,
                tries: 4,
            },
            1.5,
        ),
    ] {
        let tries = rt.tries as usize;
        let s = Settings {
            retransmit_initial: Dur(rt.initial),
            retransmit_factor: rt.factor,
            retransmit_tries: rt.tries,
            ..settings()
        };
        let mut n = Net::with(&[I1], &[R1], s.clone(), s);
        n.blackholed.insert(ip(R1));
        n.connect();
        n.run(300 * SEC);
        let sends: Vec<Time> = n.sent_by(Role::Initiator).iter().map(|m| m.at).collect();
        assert_eq!(sends.len(), 1 + tries);
        let gaps: Vec<f64> = sends.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
        for g in gaps.windows(2) {
            assert!((g[1] / g[0] - ratio).abs() < 0.01, "{gaps:?}");
        }
        assert!(n.deleted(Role::Initiator).is_some());
    }
}
