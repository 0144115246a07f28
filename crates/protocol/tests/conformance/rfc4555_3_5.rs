//! RFC 4555 §3.5: changing addresses in IPsec SAs (the initiator's
//! UPDATE_SA_ADDRESSES and what both sides do around it), and the
//! unreliable hints of §3.5 step 1.

use crate::common::*;
use crate::helpers::*;
use mobike_protocol::{Event, IpProtocol, MS, Note, Role, SEC, SaState, Settings};
use mobike_wire::PayloadType as PT;
use mobike_wire::registry::NotifyType;
use std::collections::BTreeSet;

#[test]
fn m_3_5_1_icmp_hint_only_triggers_a_liveness_check_on_the_current_path() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    let before = n.messages().len();
    n.i.handle_hint(n.now, mobike_protocol::Hint::Icmp { peer: ip(R1) });
    n.drain();
    n.run(n.now + 500 * MS);
    let reqs = initiator_requests_since(&n, before);
    let first = &reqs[0];
    assert!(first.info());
    assert!(
        !first.has(NotifyType::UPDATE_SA_ADDRESSES),
        "no move on a hint"
    );
    assert_eq!((first.src, first.dst), (sa(I1, 4500), sa(R1, 4500)));
    assert_eq!(n.snap(Role::Initiator).local, sa(I1, 4500));
    // A hint about an address that is not the peer's changes nothing.
    let before = n.messages().len();
    n.i.handle_hint(n.now, mobike_protocol::Hint::Icmp { peer: ip(I3) });
    n.drain();
    assert!(initiator_requests_since(&n, before).is_empty());
}

#[test]
fn b_3_5_1_ike_sa_updated_and_pending_update_set_before_the_update() {
    let (n, t) = busy_move();
    let s = n.snap(Role::Initiator);
    assert_eq!(s.local, sa(I2, 4500));
    assert!(s.pending_update);
    assert!(updates(&n.messages()).is_empty(), "window still busy");
    // The outstanding request already went out again over the new addresses.
    let last = n.sent_by(Role::Initiator).pop().unwrap();
    assert_eq!((last.at, last.src), (t, sa(I2, 4500)));
    assert!(last.is_request() && !last.has(NotifyType::UPDATE_SA_ADDRESSES));
}

#[test]
fn b_3_5_2_initiator_esp_uses_new_address_right_after_update_is_sent() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    let t = n.now;
    n.i.handle_local_addresses(t, vec![ip(I2)]);
    n.drain();
    let upd = updates(&n.messages()).pop().expect("UPDATE sent");
    assert_eq!(upd.at, t);
    // No response yet, and ESP already leaves from I2.
    let esp = n.send_data(Role::Initiator).expect("ESP");
    assert_eq!((esp.src.ip(), esp.dst.ip()), (ip(I2), ip(R1)));
    assert!(n.events_of(Role::Initiator).iter().any(|(at, e)| *at == t
        && matches!(e, Event::IpsecPathChanged { local, .. } if local.ip() == ip(I2))));
    n.run(n.now + SEC);
    assert_eq!(n.data_r.len(), 1);
}

#[test]
fn b_3_5_3_udp_encapsulation_before_the_update_when_a_nat_is_suspected() {
    let s = Settings {
        update_on_nat_hint: true,
        ..settings()
    };
    let mut n = Net::with(&[I1], &[R1], s, settings());
    n.connect();
    n.run(SEC);
    assert!(!n.snap(Role::Initiator).udp_encap);
    // The laptop's network now has a NAT (plain ESP cannot pass it).
    n.nat = Some(Nat::new(&[I1], NAT_EXT, 40000));
    n.i.handle_hint(n.now, mobike_protocol::Hint::NatMappingSuspected);
    let i = n.snap(Role::Initiator);
    assert!(i.udp_encap, "encapsulation on before any answer");
    assert!(i.next_keepalive.is_some(), "keepalives start");
    let esp = n.send_data(Role::Initiator).expect("ESP");
    assert_eq!(esp.protocol, IpProtocol::Udp);
    assert_eq!(esp.dst.port(), 4500);
    n.run(n.now + SEC);
    assert_eq!(n.data_r.len(), 1, "the encapsulated ESP passed the NAT");
    let r = n.snap(Role::Responder);
    assert_eq!(r.ipsec_remote, Some(sa(NAT_EXT, 40000)));
    assert!(r.udp_encap && r.peer_behind_nat);
}

#[test]
fn b_3_5_4_outstanding_request_retransmitted_to_new_addresses_same_octets() {
    let (mut n, t) = busy_move();
    n.run(15 * SEC);
    let msgs = n.sent_by(Role::Initiator);
    let live = msgs
        .iter()
        .find(|m| m.info() && m.is_request())
        .unwrap()
        .clone();
    let copies: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.is_request() && m.mid() == live.mid())
        .collect();
    assert!(copies.len() >= 2);
    for c in &copies {
        assert_eq!(c.ike, live.ike, "bit for bit");
        if c.at >= t {
            assert_eq!((c.src, c.dst), (sa(I2, 4500), sa(R1, 4500)));
        }
    }
    assert!(copies.iter().any(|c| c.at >= t));
}

#[test]
fn b_3_5_5_update_waits_for_the_window_and_clears_pending_update() {
    let (mut n, _) = busy_move();
    assert!(n.snap(Role::Initiator).pending_update);
    assert!(n.run_until(10 * SEC, |n| !updates(&n.messages()).is_empty()));
    let msgs = n.messages();
    let upd = updates(&msgs).pop().unwrap();
    let live = msgs
        .iter()
        .find(|m| m.from == Some(Role::Initiator) && m.info() && m.is_request())
        .unwrap();
    let answered = response_to(&msgs, live)
        .and_then(|_| {
            msgs.iter()
                .filter(|m| m.is_response() && m.mid() == live.mid())
                .flat_map(|m| m.arrivals.iter())
                .filter(|a| a.to == Role::Initiator)
                .map(|a| a.at)
                .min()
        })
        .expect("liveness answered");
    assert!(upd.at >= answered, "UPDATE before the window allowed it");
    assert_eq!(upd.mid(), live.mid() + 1);
    assert!(!n.snap(Role::Initiator).pending_update, "step 5 clears it");
}

/// B-3.5-6/B-3.5-14: the initiator moves I1 -> I2 (UPDATE #1, whose
/// response is lost), then I2 -> I3 after the responder has moved.
fn double_move() -> Net {
    let mut n = Net::established(&[I1, I2, I3], &[R1]);
    n.on(
        Match::response(INFO)
            .from(Role::Responder)
            .to(ip(I2))
            .nth(0),
        Fate::Drop,
    );
    n.i.handle_local_addresses(n.now, vec![ip(I2), ip(I3)]);
    // The responder takes UPDATE #1 and finishes its return routability check.
    assert!(
        n.run_until(3 * SEC, |n| n.snap(Role::Responder).ipsec_remote
            == Some(sa(I2, 4500)))
    );
    n.i.handle_local_addresses(n.now, vec![ip(I3)]);
    n.run(n.now + 3 * SEC);
    n
}

#[test]
fn b_3_5_6_second_change_while_waiting_sends_a_new_update() {
    let n = double_move();
    let msgs = n.messages();
    let ups = updates(&msgs);
    let first = &ups[0];
    let fresh: Vec<&Msg> = ups.iter().filter(|u| u.mid() != first.mid()).collect();
    assert_eq!(fresh.len(), 1, "{}", trace(&n));
    let second = fresh[0];
    assert_eq!(second.mid(), first.mid() + 1);
    assert_eq!(second.src, sa(I3, 4500));
    assert_ne!(
        second.data(NotifyType::COOKIE2),
        first.data(NotifyType::COOKIE2)
    );
    // The old request's answer came in before the new UPDATE went out.
    let old_answer = msgs
        .iter()
        .filter(|m| m.is_response() && m.mid() == first.mid())
        .flat_map(|m| m.arrivals.iter())
        .map(|a| a.at)
        .min()
        .expect("response to #1 delivered to I3");
    assert!(second.at >= old_answer);
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert_eq!(i.ipsec_local, Some(sa(I3, 4500)));
    assert_eq!(r.remote, sa(I3, 4500));
    assert_eq!(r.ipsec_remote, Some(sa(I3, 4500)));
}

#[test]
fn b_3_5_7_update_sa_addresses_notify_has_no_data() {
    let (n, before) = moved(&[I1, I2], &[R1], &[I2], 2);
    let keys = n.keys.clone().unwrap();
    let upd = updates(&n.messages()[before..]).pop().unwrap();
    let raw = raw_inner(&upd.ike, &keys.sk_ei).unwrap();
    let (_, b) = raw
        .iter()
        .find(|(k, b)| *k == PT::N && u16::from_be_bytes([b[6], b[7]]) == 16400)
        .expect("N(UPDATE_SA_ADDRESSES)");
    assert_eq!(b.len(), 8);
    assert_eq!(u16::from_be_bytes([b[2], b[3]]), 8, "Payload Length");
    assert_eq!((b[4], b[5]), (0, 0), "Protocol ID and SPI Size");
}

#[test]
fn b_3_5_8_older_update_after_a_newer_one_is_answered_without_action() {
    let mut n = Net::with(&[I1, I2, I3], &[R1], windowed(), windowed());
    n.connect();
    n.run(SEC);
    // The first UPDATE (message ID 2) is 300 ms late.
    n.on(
        Match::request(INFO).from(Role::Initiator).mid(2),
        Fate::Delay(300 * MS),
    );
    n.i.handle_local_addresses(n.now, vec![ip(I2), ip(I3)]);
    n.i.handle_local_addresses(n.now, vec![ip(I3)]);
    n.drain();
    n.run(n.now + 2 * SEC);
    let msgs = n.messages();
    let ups = updates(&msgs);
    assert!(ups.iter().any(|m| m.mid() == 2) && ups.iter().any(|m| m.mid() == 3));
    assert!(
        response_to(&msgs, &ups[0]).is_some(),
        "the older one is answered"
    );
    let noted = n.events_of(Role::Responder).into_iter().any(|(_, e)| {
        matches!(
            e,
            Event::Note { note, .. } if matches!(note.as_ref(), Note::OlderUpdate { .. })
        )
    });
    assert!(noted, "{}", trace(&n));
    let r = n.snap(Role::Responder);
    assert_eq!(
        r.remote,
        sa(I3, 4500),
        "stays on the newer update's addresses"
    );
    assert_eq!(r.ipsec_remote, Some(sa(I3, 4500)));
}

#[test]
fn b_3_5_9_unacceptable_addresses_with_cookie2_and_nothing_changes() {
    let refuse = Settings {
        refuse_addresses: vec![ip(I2)],
        ..settings()
    };
    let mut n = Net::with(&[I1, I2], &[R1], settings(), refuse);
    n.connect();
    n.run(SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 3 * SEC);
    let msgs = n.messages();
    let upd = updates(&msgs).pop().unwrap();
    let resp = response_to(&msgs, &upd).expect("answered");
    assert!(resp.has(NotifyType::UNACCEPTABLE_ADDRESSES));
    assert_eq!(
        resp.data(NotifyType::COOKIE2),
        upd.data(NotifyType::COOKIE2)
    );
    assert_eq!(resp.dst, sa(I2, 4500));
    assert!(
        responder_requests(&msgs).is_empty(),
        "no RR for a refused address"
    );
    let r = n.snap(Role::Responder);
    assert_eq!(r.remote, sa(I1, 4500));
    assert_eq!(r.ipsec_remote, Some(sa(I1, 4500)));
    assert_eq!(
        r.peer_addresses,
        vec![ip(I1), ip(I2)],
        "list not taken either"
    );
}

#[test]
fn b_3_5_9_unacceptable_addresses_and_m_3_5_2_fallback() {
    let refuse = Settings {
        refuse_addresses: vec![ip(I2)],
        ..settings()
    };
    let mut n = Net::with(&[I1, I2], &[R1], settings(), refuse);
    n.connect();
    n.run(SEC);
    // The laptop tries I2 (say, a path test chose it), the gateway refuses.
    n.i.handle_local_addresses(n.now, vec![ip(I2), ip(I1)]);
    let before = all_messages(&n).len();
    // Force a move to I2 as a lower layer would.
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.i.handle_local_addresses(n.now, vec![ip(I2), ip(I1)]);
    n.run(5 * SEC);
    let msgs = all_messages(&n)[before..].to_vec();
    let resp = msgs
        .iter()
        .find(|m| m.is_response() && m.has(NotifyType::UNACCEPTABLE_ADDRESSES))
        .expect("UNACCEPTABLE_ADDRESSES response");
    assert!(resp.has(NotifyType::COOKIE2), "COOKIE2 still echoed");
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert_eq!(r.remote.ip(), ip(I1), "responder unchanged");
    assert_eq!(i.local.ip(), ip(I1), "M-3.5-2: back to the old addresses");
    assert_eq!(i.ipsec_local.map(|a| a.ip()), Some(ip(I1)));
}

#[test]
fn b_3_5_10_responder_takes_new_addresses_from_the_ip_header() {
    // The initiator moves behind a NAT; its UPDATE lists I3 as an
    // additional address and carries NAT-D for its private address.
    let mut n = Net::established(&[I1, IPRIV, I3], &[R1]);
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 40000));
    n.i.handle_local_addresses(n.now, vec![ip(IPRIV), ip(I3)]);
    n.run(n.now + 3 * SEC);
    let ext = n.nat.as_ref().unwrap().mapped(sa(IPRIV, 4500)).unwrap();
    let upd = updates(&n.messages()).pop().unwrap();
    assert_eq!(upd.src, sa(IPRIV, 4500));
    assert!(upd.has(NotifyType::ADDITIONAL_IP4_ADDRESS));
    let r = n.snap(Role::Responder);
    assert_eq!(r.remote, ext);
    assert_eq!(r.ipsec_remote, Some(ext));
}

#[test]
fn b_3_5_11_response_natd_iff_request_natd_and_cookie2_echoed() {
    // Liveness (NAT-D), UPDATE (NAT-D + COOKIE2), the responder's return
    // routability check (COOKIE2 only) and an address list (neither).
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.run(6 * SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(7 * SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I2), ip(I3)]);
    n.run(8 * SEC);
    let msgs = n.messages();
    let mut kinds = BTreeSet::new();
    for req in msgs.iter().filter(|m| m.info() && m.is_request()) {
        let resp = response_to(&msgs, req).expect("answered");
        let natd = req.has(NotifyType::NAT_DETECTION_SOURCE_IP);
        assert_eq!(natd, resp.has(NotifyType::NAT_DETECTION_SOURCE_IP));
        assert_eq!(natd, resp.has(NotifyType::NAT_DETECTION_DESTINATION_IP));
        assert_eq!(
            req.data(NotifyType::COOKIE2),
            resp.data(NotifyType::COOKIE2)
        );
        kinds.insert((natd, req.has(NotifyType::COOKIE2)));
    }
    assert_eq!(kinds.len(), 4, "all four combinations seen: {kinds:?}");
}

#[test]
fn b_3_5_12_responder_moves_ipsec_only_after_its_return_routability_check() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    // The first return routability request is lost.
    n.on(
        Match::request(INFO).from(Role::Responder).nth(0),
        Fate::Drop,
    );
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    assert!(n.run_until(3 * SEC, |n| n.snap(Role::Responder).remote == sa(I2, 4500)));
    n.run(n.now + 500 * MS);
    // Updated IKE SA, not yet the IPsec SAs.
    assert_eq!(n.snap(Role::Responder).ipsec_remote, Some(sa(I1, 4500)));
    let esp = n.send_data(Role::Responder).unwrap();
    assert_eq!(esp.dst.ip(), ip(I1));
    n.run(n.now + 3 * SEC);
    let msgs = n.messages();
    let rr = responder_requests(&msgs);
    let done = msgs
        .iter()
        .filter(|m| m.from == Some(Role::Initiator) && m.is_response() && m.mid() == rr[0].mid())
        .flat_map(|m| m.arrivals.iter())
        .map(|a| a.at)
        .min()
        .expect("RR answered");
    let moved_at = n
        .events_of(Role::Responder)
        .iter()
        .find_map(|(t, e)| match e {
            Event::IpsecPathChanged { remote, .. } if remote.ip() == ip(I2) => Some(*t),
            _ => None,
        })
        .unwrap();
    assert_eq!(moved_at, done);
    assert_eq!(n.send_data(Role::Responder).unwrap().dst.ip(), ip(I2));
}

#[test]
fn b_3_5_12_superseded_return_routability_check_does_not_block_the_newer_one() {
    // The laptop hops twice in quick succession: I1 -> I2, and 15 ms later
    // I2 -> I3 (I2 is gone before the responder's check reaches it).
    let mut n = Net::established(&[I1, I2, I3], &[R1]);
    n.i.handle_local_addresses(n.now, vec![ip(I2), ip(I3)]);
    n.run(n.now + 15 * MS);
    n.i.handle_local_addresses(n.now, vec![ip(I3)]);
    n.run(120 * SEC);
    let r = n.snap(Role::Responder);
    assert_eq!(r.remote, sa(I3, 4500));
    // Fails here: ipsec_remote is still I1:4500 (then the SA is deleted at ~64 s).
    assert_eq!(r.ipsec_remote, Some(sa(I3, 4500)), "{}", trace(&n));
    assert!(n.deleted(Role::Responder).is_none());
}

#[test]
fn b_3_5_13_nat_t_follows_natd_of_the_update_exchange_both_ways() {
    let mut n = Net::established(&[I1, IPRIV], &[R1]);
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 40000));
    // Into the NAT.
    n.i.handle_local_addresses(n.now, vec![ip(IPRIV)]);
    n.run(n.now + 3 * SEC);
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert!(i.udp_encap && i.local_behind_nat, "{}", trace(&n));
    assert!(r.udp_encap && r.peer_behind_nat);
    let e = n.send_data(Role::Initiator).unwrap();
    assert_eq!(
        (e.protocol, e.src.port(), e.dst.port()),
        (IpProtocol::Udp, 4500, 4500)
    );
    let e = n.send_data(Role::Responder).unwrap();
    assert_eq!(e.protocol, IpProtocol::Udp);
    n.run(n.now + SEC);
    assert_eq!((n.data_i.len(), n.data_r.len()), (1, 1));
    // And out again: back on the public address, encapsulation stops.
    n.i.handle_local_addresses(n.now, vec![ip(I1)]);
    n.run(n.now + 3 * SEC);
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert!(!i.udp_encap && !i.local_behind_nat, "{}", trace(&n));
    assert!(!r.udp_encap && !r.peer_behind_nat);
    assert_eq!(
        n.send_data(Role::Initiator).unwrap().protocol,
        IpProtocol::Esp
    );
    assert_eq!(
        n.send_data(Role::Responder).unwrap().protocol,
        IpProtocol::Esp
    );
    n.run(n.now + SEC);
    assert_eq!((n.data_i.len(), n.data_r.len()), (2, 2));
}

#[test]
fn b_3_5_14_response_after_a_newer_change_gets_no_mobike_processing() {
    let n = double_move();
    // The answer to UPDATE #1 reached I3 carrying NAT-D for I2. Processed,
    // it would show a NAT (and switch on UDP encapsulation) or move the SA.
    let ev = n.events_of(Role::Initiator);
    assert!(
        !ev.iter().any(|(_, e)| matches!(
            e,
            Event::NatDetection {
                local_behind_nat: true,
                ..
            }
        )),
        "{}",
        trace(&n)
    );
    assert!(ev.iter().any(|(_, e)| matches!(
        e,
        Event::Note { note, .. } if matches!(note.as_ref(), Note::OutdatedUpdateResponse)
    )));
    let i = n.snap(Role::Initiator);
    assert!(!i.udp_encap && !i.local_behind_nat);
    assert_eq!(i.local, sa(I3, 4500));
    assert_eq!(i.ipsec_local, Some(sa(I3, 4500)));
}

#[test]
fn m_3_5_2_unacceptable_addresses_back_to_old_addresses_or_close() {
    let refuse = || Settings {
        refuse_addresses: vec![ip(I2)],
        ..settings()
    };
    // Old address still there: the initiator goes back to it.
    let mut n = Net::with(&[I1, I2], &[R1], settings(), refuse());
    n.connect();
    n.run(SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.i.handle_local_addresses(n.now, vec![ip(I2), ip(I1)]);
    n.run(n.now + 3 * SEC);
    let i = n.snap(Role::Initiator);
    assert_eq!(i.local, sa(I1, 4500), "{}", trace(&n));
    assert_eq!(i.ipsec_local, Some(sa(I1, 4500)));
    assert_eq!(n.send_data(Role::Initiator).unwrap().src.ip(), ip(I1));
    // Old address gone: the IPsec SAs must not stay silently on I2.
    let mut n = Net::with(&[I1, I2], &[R1], settings(), refuse());
    n.connect();
    n.run(SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 3 * SEC);
    let i = n.snap(Role::Initiator);
    assert!(
        i.state == SaState::Deleted || i.ipsec_local.map(|a| a.ip()) != Some(ip(I2)),
        "{}",
        trace(&n)
    );
}

#[test]
fn b_3_5_15_responder_keeps_its_ipsec_path_while_its_address_works() {
    let mut n = Net::established(&[I1], &[R1]);
    n.r.handle_local_addresses(n.now, vec![ip(R1), ip(R2)]);
    n.run(n.now + 3 * SEC);
    // The new address is announced, nothing moves.
    let list = responder_requests(&n.messages());
    assert!(list[0].has(NotifyType::ADDITIONAL_IP4_ADDRESS));
    assert_eq!(n.snap(Role::Initiator).peer_addresses, vec![ip(R1), ip(R2)]);
    let r = n.snap(Role::Responder);
    assert_eq!(r.ipsec_local, Some(sa(R1, 4500)));
    assert_eq!(n.send_data(Role::Responder).unwrap().src.ip(), ip(R1));
    assert_eq!(n.snap(Role::Initiator).ipsec_remote, Some(sa(R1, 4500)));
    // The one exception: its own address goes away.
    n.r.handle_local_addresses(n.now, vec![ip(R2)]);
    n.drain();
    assert_eq!(n.snap(Role::Responder).ipsec_local, Some(sa(R2, 4500)));
}
