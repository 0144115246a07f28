//! RFC 4555 §3.6 (updating the additional addresses), §3.7 (return
//! routability checks) and §4.2.5 (the COOKIE2 notify).

use crate::common::*;
use crate::helpers::*;
use mobike_protocol::{
    Cookie2Exchange, DeleteReason, Event, MS, Note, Role, SEC, SaState, Settings,
};
use mobike_wire::registry::NotifyType;
use std::collections::BTreeSet;

// ============================================================= RFC 4555 §3.6

#[test]
fn m_3_6_1_update_carries_the_address_list() {
    let (n, before) = moved(&[I1, I2, I3], &[R1], &[I2, I3], 2);
    let upd = updates(&n.messages()[before..]).pop().unwrap();
    let listed: Vec<_> = upd
        .payloads
        .iter()
        .filter_map(|p| p.as_notify().and_then(|n| n.address()))
        .collect();
    assert_eq!(listed, vec![ip(I3)]);
    assert_eq!(n.snap(Role::Responder).peer_addresses, vec![ip(I2), ip(I3)]);
}

#[test]
fn m_3_6_2_list_update_sent_from_several_sources_is_followed_by_a_new_request() {
    let mut n = Net::with(&[I1, I2], &[R1], no_liveness(), settings());
    n.connect();
    n.run(SEC);
    n.blackholed.insert(ip(I1));
    n.i.handle_local_addresses(n.now, vec![ip(I1), ip(I2), ip(I3)]);
    n.run(30 * SEC);
    let msgs = n.sent_by(Role::Initiator);
    let list = msgs
        .iter()
        .find(|m| m.info() && m.has(NotifyType::ADDITIONAL_IP4_ADDRESS))
        .unwrap();
    let sources: BTreeSet<_> = msgs
        .iter()
        .filter(|m| m.is_request() && m.mid() == list.mid())
        .map(|m| m.src)
        .collect();
    assert!(sources.len() >= 2, "sent from several sources");
    // Fails here: no request with a later message ID is ever sent.
    let again = msgs
        .iter()
        .find(|m| m.is_request() && m.mid() > list.mid())
        .unwrap_or_else(|| panic!("no new request:\n{}", trace(&n)));
    assert!(
        again.has(NotifyType::ADDITIONAL_IP4_ADDRESS)
            || again.has(NotifyType::NO_ADDITIONAL_ADDRESSES)
    );
}

#[test]
fn b_3_6_1_complete_list_replaces_the_old_set() {
    let mut n = Net::established(&[I1, I2, I3], &[R1, R2]);
    assert_eq!(n.snap(Role::Initiator).peer_addresses, vec![ip(R1), ip(R2)]);
    // The responder keeps only R1: NO_ADDITIONAL_ADDRESSES; the set is {R1}.
    n.r.handle_local_addresses(n.now, vec![ip(R1)]);
    n.run(n.now + 2 * SEC);
    let req = responder_requests(&n.messages()).pop().unwrap();
    assert!(req.has(NotifyType::NO_ADDITIONAL_ADDRESSES));
    assert!(!req.has(NotifyType::ADDITIONAL_IP4_ADDRESS));
    assert_eq!(req.src.ip(), ip(R1));
    assert_eq!(n.snap(Role::Initiator).peer_addresses, vec![ip(R1)]);
    // The initiator drops I3: its list {I2} (I1 in the header) replaces {I1, I2, I3}.
    n.i.handle_local_addresses(n.now, vec![ip(I1), ip(I2)]);
    n.run(n.now + 2 * SEC);
    let req = n
        .sent_by(Role::Initiator)
        .into_iter()
        .rfind(|m| m.info() && m.is_request() && m.has(NotifyType::ADDITIONAL_IP4_ADDRESS))
        .unwrap();
    let listed: Vec<_> = req
        .payloads
        .iter()
        .filter_map(|p| p.as_notify().and_then(|n| n.address()))
        .collect();
    assert_eq!(listed, vec![ip(I2)]);
    assert_eq!(n.snap(Role::Responder).peer_addresses, vec![ip(I1), ip(I2)]);
}

#[test]
fn b_3_6_2_older_address_list_after_a_newer_one_is_ignored() {
    let mut n = Net::with(&[I1], &[R1], windowed(), windowed());
    n.connect();
    n.run(SEC);
    // The first address list (message ID 2) is 300 ms late.
    n.on(
        Match::request(INFO).from(Role::Initiator).mid(2),
        Fate::Delay(300 * MS),
    );
    n.i.handle_local_addresses(n.now, vec![ip(I1), ip(I2)]);
    n.i.handle_local_addresses(n.now, vec![ip(I1), ip(I3)]);
    n.drain();
    n.run(n.now + 2 * SEC);
    assert_eq!(n.snap(Role::Responder).peer_addresses, vec![ip(I1), ip(I3)]);
    let noted = n.events_of(Role::Responder).into_iter().any(|(_, e)| {
        matches!(
            e,
            Event::Note { note, .. } if matches!(note.as_ref(), Note::OlderList { .. })
        )
    });
    assert!(noted, "{}", trace(&n));
}

#[test]
fn b_3_6_3_responder_announces_its_list_from_an_address_that_works() {
    let mut n = Net::established(&[I1], &[R1, R2]);
    n.r.handle_local_addresses(n.now, vec![ip(R2)]);
    n.run(n.now + 3 * SEC);
    let req = responder_requests(&n.messages())
        .into_iter()
        .find(|m| m.has(NotifyType::NO_ADDITIONAL_ADDRESSES))
        .expect("list update");
    assert_eq!(req.src, sa(R2, 4500));
    assert_eq!(req.dst, sa(I1, 4500));
    assert!(req.delivered());
    assert_eq!(n.snap(Role::Initiator).peer_addresses, vec![ip(R2)]);
    assert_eq!(n.snap(Role::Initiator).remote.ip(), ip(R2));
}

// ============================================================= RFC 4555 §3.7

#[test]
fn m_3_7_1_return_routability_check_by_default() {
    let (n, before) = moved(&[I1, I2], &[R1], &[I2], 3);
    let msgs = n.messages()[before..].to_vec();
    let upd = updates(&msgs).pop().unwrap();
    assert!(upd.has(NotifyType::COOKIE2), "initiator's own check");
    let rr = responder_requests(&msgs);
    assert_eq!(rr.len(), 1, "{}", trace(&n));
    assert!(rr[0].has(NotifyType::COOKIE2));
    assert_eq!(rr[0].dst, sa(I2, 4500));
    let moved_at = n
        .events_of(Role::Responder)
        .iter()
        .rev()
        .find_map(|(t, e)| matches!(e, Event::IpsecPathChanged { .. }).then_some(*t))
        .unwrap();
    assert!(rr[0].at < moved_at);
}

#[test]
fn m_3_7_2_return_routability_can_be_switched_off() {
    let sr = Settings {
        return_routability: false,
        ..settings()
    };
    let mut n = Net::with(&[I1, I2], &[R1], settings(), sr);
    n.connect();
    n.run(SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 3 * SEC);
    let msgs = n.messages();
    assert!(responder_requests(&msgs).is_empty());
    let upd = updates(&msgs).pop().unwrap();
    let arrived = upd.arrivals[0].at;
    let moved_at = n
        .events_of(Role::Responder)
        .iter()
        .rev()
        .find_map(|(t, e)| matches!(e, Event::IpsecPathChanged { .. }).then_some(*t))
        .unwrap();
    assert_eq!(moved_at, arrived, "IPsec SAs move at once");
    assert_eq!(n.snap(Role::Responder).ipsec_remote, Some(sa(I2, 4500)));
}

#[test]
fn m_3_7_3_esp_to_new_address_only_after_the_check_response() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    // The answer to the responder's check takes 500 ms longer.
    n.on(
        Match::response(INFO).from(Role::Initiator),
        Fate::Delay(500 * MS),
    );
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    assert!(n.run_until(3 * SEC, |n| !responder_requests(&n.messages()).is_empty()));
    n.run(n.now + 200 * MS);
    assert_eq!(n.send_data(Role::Responder).unwrap().dst.ip(), ip(I1));
    n.run(n.now + SEC);
    assert_eq!(n.send_data(Role::Responder).unwrap().dst.ip(), ip(I2));
}

#[test]
fn m_3_7_4_cookie2_rides_in_informational_requests() {
    let (n, before) = moved(&[I1, I2], &[R1], &[I2], 3);
    let msgs = n.messages()[before..].to_vec();
    let upd = updates(&msgs).pop().unwrap();
    assert!(upd.has(NotifyType::COOKIE2));
    let rr = &responder_requests(&msgs)[0];
    assert_eq!(rr.notifies(), vec![NotifyType::COOKIE2]);
    assert!(response_to(&msgs, rr).is_some_and(|r| r.has(NotifyType::COOKIE2)));
}

#[test]
fn m_3_7_5_cookie2_copied_into_response() {
    let (n, before) = moved(&[I1, I2], &[R1], &[I2], 3);
    let msgs = n.messages()[before..].to_vec();
    let upd = updates(&msgs).pop().unwrap();
    let rr = responder_requests(&msgs).pop().unwrap();
    for req in [&upd, &rr] {
        let resp = response_to(&msgs, req).unwrap();
        let c = req.data(NotifyType::COOKIE2).unwrap();
        assert_eq!(resp.data(NotifyType::COOKIE2), Some(c));
    }
}

/// The initiator moves to I2; the responder's answer to the UPDATE is
/// replaced by a forgery (encrypted with the responder's key) whose COOKIE2
/// is `alter`ed.
fn forged_update_response(alter: impl Fn(&mut Vec<u8>)) -> Net {
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.on(
        Match::response(INFO).from(Role::Responder).nth(0),
        Fate::Drop,
    );
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 15 * MS); // the real answer was sent and dropped
    let msgs = n.messages();
    let real = msgs
        .iter()
        .find(|m| m.from == Some(Role::Responder) && m.info() && m.is_response())
        .expect("the real response")
        .clone();
    assert!(!real.delivered());
    let mut inner = real.payloads.clone();
    edit_notify(&mut inner, NotifyType::COOKIE2, alter);
    let keys = n.keys.clone().unwrap();
    let dgram = forge(
        &keys,
        Role::Responder,
        real.header,
        &inner,
        [0xEE; 8],
        4500,
        4500,
    );
    n.inject(real.src, real.dst, dgram);
    n.run(n.now + 2 * SEC);
    n
}

#[test]
fn m_3_7_6_original_sender_verifies_cookie2() {
    // A forged answer with the right COOKIE2 is taken (the forgery itself
    // is sound) ...
    let good = forged_update_response(|_| {});
    assert!(good.deleted(Role::Initiator).is_none(), "{}", trace(&good));
    assert!(!good.snap(Role::Initiator).pending_update);
    // ... one with a changed COOKIE2 is not.
    let bad = forged_update_response(|c| c[0] ^= 0x55);
    let (_, reason) = bad.deleted(Role::Initiator).expect("detected");
    assert_eq!(
        reason,
        DeleteReason::Cookie2Mismatch(Cookie2Exchange::Update)
    );
}

#[test]
fn m_3_7_7_cookie2_mismatch_closes_the_ike_sa_and_child_sas() {
    let mut n = forged_update_response(|c| c.truncate(8));
    assert_eq!(n.snap(Role::Initiator).state, SaState::Deleted);
    assert!(n.send_data(Role::Initiator).is_none(), "Child SA gone");
    assert_eq!(n.i.poll_timeout(), None, "no timers left");
    let sent = n.log.len();
    n.run(n.now + 60 * SEC);
    assert!(
        !n.log[sent..]
            .iter()
            .any(|s| s.from == Some(Role::Initiator)),
        "a closed SA sends nothing"
    );
    // The same for the responder's own check.
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.rewrite(Match::response(INFO).from(Role::Initiator), |d, keys| {
        d.reseal(keys, [0xEF; 8], |inner| {
            edit_notify(inner, NotifyType::COOKIE2, |c| c[0] ^= 1)
        })
    });
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 3 * SEC);
    let (_, reason) = n.deleted(Role::Responder).expect("responder closes");
    assert_eq!(
        reason,
        DeleteReason::Cookie2Mismatch(Cookie2Exchange::ReturnRoutability)
    );
    assert!(n.send_data(Role::Responder).is_none());
}

#[test]
fn b_3_7_1_multi_destination_probe_is_followed_by_a_new_update() {
    let mut n = Net::established(&[I1], &[R1, R2]);
    n.blackholed.insert(ip(R1));
    n.run(30 * SEC);
    let msgs = n.messages();
    let live = msgs
        .iter()
        .find(|m| m.from == Some(Role::Initiator) && m.info())
        .unwrap()
        .clone();
    let dsts: BTreeSet<_> = msgs
        .iter()
        .filter(|m| m.from == Some(Role::Initiator) && m.is_request() && m.mid() == live.mid())
        .map(|m| m.dst)
        .collect();
    assert_eq!(dsts, [sa(R1, 4500), sa(R2, 4500)].into(), "{}", trace(&n));
    let probe_answer = msgs
        .iter()
        .find(|m| m.is_response() && m.mid() == live.mid() && m.delivered())
        .unwrap();
    assert_eq!(probe_answer.src, sa(R2, 4500));
    let upd = updates(&msgs).pop().expect("a new UPDATE");
    assert_eq!(upd.mid(), live.mid() + 1);
    assert_eq!(upd.dst, sa(R2, 4500));
    assert!(upd.has(NotifyType::COOKIE2));
    // The probe's answer did not move the IPsec SAs; the UPDATE's answer did.
    let upd_answer = response_to(&msgs, &upd).unwrap().arrivals[0].at;
    let ipsec_moved = n
        .events_of(Role::Initiator)
        .iter()
        .find_map(|(t, e)| match e {
            Event::IpsecPathChanged { remote, .. } if remote.ip() == ip(R2) => Some(*t),
            _ => None,
        })
        .unwrap();
    assert_eq!(ipsec_moved, upd_answer);
    assert!(ipsec_moved > probe_answer.arrivals[0].at);
    assert_eq!(n.snap(Role::Responder).local, sa(R2, 4500));
}

// =========================================================== RFC 4555 §4.2.5

#[test]
fn m_4_2_5_1_cookie2_is_8_to_64_octets_and_differs_every_time() {
    let mut n = Net::established(&[I1, I2, I3], &[R1]);
    for keep in [vec![I2, I3], vec![I3], vec![I3, I1], vec![I1]] {
        n.i.handle_local_addresses(n.now, keep.iter().map(|a| ip(a)).collect());
        n.run(n.now + 2 * SEC);
    }
    let cookies: Vec<Vec<u8>> = n
        .messages()
        .iter()
        .filter(|m| m.is_request())
        .filter_map(|m| m.data(NotifyType::COOKIE2).map(<[u8]>::to_vec))
        .collect();
    assert!(cookies.len() >= 6, "{}", cookies.len());
    assert!(cookies.iter().all(|c| (8..=64).contains(&c.len())));
    let distinct: BTreeSet<_> = cookies.iter().collect();
    assert_eq!(distinct.len(), cookies.len());
    // Configured lengths are kept inside 8..=64.
    for (want, got) in [(4, 8), (40, 40), (100, 64)] {
        let s = Settings {
            cookie2_len: want,
            ..settings()
        };
        let mut n = Net::with(&[I1, I2], &[R1], s.clone(), s);
        n.connect();
        n.run(SEC);
        n.i.handle_local_addresses(n.now, vec![ip(I2)]);
        n.run(n.now + 2 * SEC);
        for m in n.messages().iter().filter(|m| m.is_request()) {
            if let Some(c) = m.data(NotifyType::COOKIE2) {
                assert_eq!(c.len(), got);
            }
        }
    }
}
