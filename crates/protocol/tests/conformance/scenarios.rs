//! Whole scenarios, each touching several checklist ids (named in the
//! comments): the initial exchanges, RFC 4555 §2.2's example of an address
//! change, a silent failure found by a liveness check, all paths dead, the
//! responder moving under either list policy, a tampered message,
//! determinism, ESP both ways, and a move told by events and snapshots.

use crate::common::*;
use crate::helpers::*;
use mobike_protocol::{Event, IpProtocol, ListPolicy, Note, Rejection, Role, SEC, Settings, Time};
use mobike_wire::WireError;
use mobike_wire::message::notify_data;
use mobike_wire::registry::{ExchangeType, NotifyType};

#[test]
fn initial_exchanges_negotiate_mobike_and_float_to_4500() {
    let n = Net::established(&[I1, I2], &[R1]);
    let msgs = all_messages(&n);
    assert_eq!(
        msgs.len(),
        4,
        "IKE_SA_INIT and IKE_AUTH, request and response each"
    );
    // IKE_SA_INIT on 500 with NAT-D (I-2.23-6).
    assert_eq!(msgs[0].exchange(), ExchangeType::IKE_SA_INIT);
    assert_eq!(msgs[0].src.port(), 500);
    assert!(msgs[0].has(NotifyType::NAT_DETECTION_SOURCE_IP));
    assert!(msgs[1].has(NotifyType::NAT_DETECTION_DESTINATION_IP));
    // M-3.3-1: IKE_AUTH moves to 4500:4500 with no NAT in the path.
    assert_eq!((msgs[2].src.port(), msgs[2].dst.port()), (4500, 4500));
    assert_eq!(
        &n.log[2].payload[..4],
        &[0, 0, 0, 0],
        "U-2.2-1 non-ESP marker"
    );
    // M-3.2-1, M-3.4-1: MOBIKE_SUPPORTED and the additional address.
    assert!(msgs[2].has(NotifyType::MOBIKE_SUPPORTED));
    assert!(
        msgs[2]
            .payloads
            .iter()
            .any(|p| p.as_notify().and_then(|n| n.address()) == Some(ip(I2)))
    );
    assert!(msgs[3].has(NotifyType::MOBIKE_SUPPORTED));
    assert!(msgs[3].has(NotifyType::NO_ADDITIONAL_ADDRESSES));
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert!(i.mobike && r.mobike);
    assert_eq!(i.peer_addresses, vec![ip(R1)]);
    assert_eq!(
        r.peer_addresses,
        vec![ip(I1), ip(I2)],
        "B-3.4-1: stored, nothing else"
    );
    assert_eq!(r.ipsec_remote, Some(sa(I1, 4500)));
    assert!(!i.local_behind_nat && !i.peer_behind_nat);
}

#[test]
fn announced_address_loss_runs_update_sa_addresses_with_return_routability() {
    // RFC 4555 §2.2 example E1: the initiator's address changes I1 -> I2.
    let mut n = Net::established(&[I1, I2], &[R1]);
    let n_before = all_messages(&n).len();
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(2 * SEC);
    let msgs = all_messages(&n)[n_before..].to_vec();
    // 5: UPDATE from I2 with NAT-D and COOKIE2 (E1 line 5, E4).
    let upd = &msgs[0];
    assert_eq!(upd.src, sa(I2, 4500));
    assert_eq!(upd.exchange(), ExchangeType::INFORMATIONAL);
    assert!(!upd.is_response());
    for k in [
        NotifyType::UPDATE_SA_ADDRESSES,
        NotifyType::NAT_DETECTION_SOURCE_IP,
        NotifyType::NAT_DETECTION_DESTINATION_IP,
        NotifyType::COOKIE2,
    ] {
        assert!(upd.has(k), "update lacks {k}");
    }
    // 6: response echoes COOKIE2 (M-3.7-5) and carries NAT-D (M-3.8-2).
    let resp = &msgs[1];
    assert!(resp.is_response() && resp.mid() == upd.mid());
    let c_req = notify_data(&upd.payloads, NotifyType::COOKIE2).unwrap();
    let c_resp = notify_data(&resp.payloads, NotifyType::COOKIE2).unwrap();
    assert_eq!(c_req, c_resp);
    assert!(resp.has(NotifyType::NAT_DETECTION_DESTINATION_IP));
    // 7-8: the responder's own return routability check (M-3.7-1), MID 0 of its own.
    let rr = &msgs[2];
    assert!(!rr.is_response() && rr.mid() == 0 && rr.has(NotifyType::COOKIE2));
    assert_eq!(rr.dst, sa(I2, 4500));
    assert!(msgs[3].is_response() && msgs[3].has(NotifyType::COOKIE2));
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert_eq!(i.ipsec_local, Some(sa(I2, 4500)));
    assert_eq!(r.ipsec_remote, Some(sa(I2, 4500)));
    assert_eq!(r.remote, sa(I2, 4500), "B-3.5-10");
    assert!(!i.pending_update);
}

#[test]
fn silent_failure_found_by_liveness_check_then_path_test_then_update() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.blackholed.insert(ip(I1));
    n.run(30 * SEC);
    let msgs = all_messages(&n);
    // A liveness check (an INFORMATIONAL without UPDATE) goes out first.
    let first_info = msgs.iter().position(Msg::info).unwrap();
    assert!(!msgs[first_info].has(NotifyType::UPDATE_SA_ADDRESSES));
    // Its retransmissions are bitwise identical (I-2.1-7), some over I2.
    let mid = msgs[first_info].mid();
    let copies: Vec<&Sent> = n
        .log
        .iter()
        .filter(|s| s.is_request(INFO) && s.ike().is_some_and(|h| h.message_id == mid))
        .collect();
    assert!(copies.len() >= 3);
    assert!(copies.iter().all(|c| c.payload == copies[0].payload));
    assert!(
        copies.iter().any(|c| c.src.ip() == ip(I2)),
        "path test over I2"
    );
    // Then a new UPDATE_SA_ADDRESSES from I2 with COOKIE2 (B-3.7-1).
    let upd = msgs
        .iter()
        .find(|m| m.has(NotifyType::UPDATE_SA_ADDRESSES))
        .unwrap();
    assert_eq!(upd.src.ip(), ip(I2));
    assert!(upd.mid() > mid);
    assert!(upd.has(NotifyType::COOKIE2));
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert_eq!(i.local, sa(I2, 4500));
    assert_eq!(r.ipsec_remote, Some(sa(I2, 4500)));
    assert_eq!(i.state, r.state);
}

#[test]
fn all_paths_dead_gives_up_after_the_retransmission_limit() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.blackholed.insert(ip(R1));
    n.run(200 * SEC);
    assert!(
        n.deleted(Role::Initiator).is_some(),
        "I-2.1-6: the IKE SA is deleted"
    );
    // I-2.4-2: the gaps between sends of one request grow.
    let mut sends: Vec<Time> = n.log.iter().filter(|s| s.at > SEC).map(|s| s.at).collect();
    sends.dedup();
    let gaps: Vec<Time> = sends.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        gaps.len(),
        5,
        "5 retransmissions of the liveness check: {gaps:?}"
    );
    assert!(gaps.windows(2).all(|w| w[1] > w[0]), "gaps {gaps:?}");
}

#[test]
fn tampered_message_is_rejected_with_a_reason() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    // Flip a ciphertext bit of a fresh liveness check on its way.
    n.run(6 * SEC);
    let last = n.log.iter().rev().find(|s| s.src.ip() == ip(I1)).unwrap();
    let (src, dst) = (last.src, last.dst);
    let mut bad = last.payload.clone();
    let len = bad.len();
    bad[len - 20] ^= 0x40;
    n.r.handle_datagram(n.now, src, dst, &bad);
    n.drain();
    assert!(n.events_of(Role::Responder).iter().any(|(_, e)| matches!(
        e,
        Event::Rejected { reason, .. } if matches!(reason.as_ref(), Rejection::Request {
                error: WireError::IcvMismatch,
                ..
            } | Rejection::MessageId { .. })
    )));
}

#[test]
fn same_seed_same_bytes() {
    let a = Net::established(&[I1, I2], &[R1]);
    let b = Net::established(&[I1, I2], &[R1]);
    let bytes = |n: &Net| n.log.iter().map(|s| s.payload.clone()).collect::<Vec<_>>();
    assert_eq!(bytes(&a), bytes(&b));
}

#[test]
fn esp_carries_data_both_ways_and_rejects_replays() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    let ping = mobike_wire::ip::Ping {
        src: "10.99.0.2".parse().unwrap(),
        dst: "10.1.0.1".parse().unwrap(),
        reply: false,
        ident: 1,
        seq: 1,
    };
    // The packets are handed over by the test, not the network.
    assert!(n.i.send_data(n.now, &ping.to_packet()));
    let t = n.i.poll_transmit().unwrap();
    // No NAT: plain ESP (IP protocol 50) even though IKE runs on 4500.
    assert_eq!(t.protocol, IpProtocol::Esp);
    assert_eq!((t.src.ip(), t.dst.ip()), (ip(I1), ip(R1)));
    let events = n.events.len();
    n.r.handle_esp(n.now, t.src, t.dst, &t.payload);
    n.drain();
    let inner = n.data_r.first().expect("decrypted at the responder");
    assert_eq!(mobike_wire::ip::Ping::parse(inner).unwrap(), ping);
    // The same packet again is a replay (RFC 4303 §3.4.3).
    n.r.handle_esp(n.now, t.src, t.dst, &t.payload);
    n.drain();
    assert_eq!(n.data_r.len(), 1);
    let rejected = n.events[events..].iter().any(|(_, role, e)| {
        *role == Role::Responder
            && matches!(
                e,
                Event::Rejected { reason, .. } if matches!(reason.as_ref(), Rejection::EspReplay { .. })
            )
    });
    assert!(rejected);
    // And back.
    assert!(n.r.send_data(n.now, &ping.reply().to_packet()));
    let t = n.r.poll_transmit().unwrap();
    n.i.handle_esp(n.now, t.src, t.dst, &t.payload);
    n.drain();
    assert!(
        mobike_wire::ip::Ping::parse(n.data_i.first().unwrap())
            .unwrap()
            .reply
    );
}

/// The responder (R1 and R2, announced) loses R1, as a cluster moving the
/// client away from it would, with the initiator's list policy `policy`.
fn responder_moves(policy: ListPolicy) -> Net {
    let i = Settings {
        list_policy: policy,
        ..settings()
    };
    let mut n = Net::with(&[I1], &[R1, R2], i, settings());
    n.connect();
    n.run(SEC);
    assert_eq!(n.snap(Role::Initiator).peer_addresses, vec![ip(R1), ip(R2)]);
    n.r.handle_local_addresses(n.now, vec![ip(R2)]);
    n.run(4 * SEC);
    n
}

#[test]
fn responder_address_change_is_announced_from_the_new_address() {
    let n = responder_moves(ListPolicy::Strict);
    let r2 = ip(R2);
    let msgs = all_messages(&n);
    let list = msgs
        .iter()
        .find(|m| m.is_request() && m.src.ip() == r2 && m.has(NotifyType::NO_ADDITIONAL_ADDRESSES))
        .expect("B-3.6-3: the list update leaves from R2 with NO_ADDITIONAL_ADDRESSES");
    assert_eq!(
        list.mid(),
        0,
        "the responder's first own request has message ID 0"
    );
    // Strict: the initiator runs its own UPDATE_SA_ADDRESSES towards R2.
    let upd = msgs
        .iter()
        .find(|m| m.is_request() && m.has(NotifyType::UPDATE_SA_ADDRESSES))
        .expect("strict policy sends an update");
    assert_eq!(upd.dst.ip(), r2);
    assert!(upd.has(NotifyType::COOKIE2));
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert_eq!(i.remote.ip(), r2);
    assert_eq!(i.ipsec_remote.map(|a| a.ip()), Some(r2));
    assert_eq!(r.local.ip(), r2);
    assert_eq!(i.peer_addresses, vec![r2]);
}

#[test]
fn follow_policy_moves_at_once_without_an_update() {
    let n = responder_moves(ListPolicy::Follow);
    let r2 = ip(R2);
    assert!(
        !all_messages(&n)
            .iter()
            .any(|m| m.has(NotifyType::UPDATE_SA_ADDRESSES)),
        "follow: no update of its own"
    );
    let i = n.snap(Role::Initiator);
    assert_eq!(i.remote.ip(), r2);
    assert_eq!(i.ipsec_remote.map(|a| a.ip()), Some(r2));
    assert!(
        notes(&n, Role::Initiator)
            .iter()
            .any(|n| matches!(n, Note::FollowingList { .. }))
    );
}

/// Issue 4, "events and snapshots": a move reads as a story in the event
/// stream — the path change, pending_update set, the UPDATE request with its
/// COOKIE2 and retransmission timer, its answer, pending_update cleared, the
/// IPsec SAs following — and the snapshot shows the same state at each step.
#[test]
fn a_move_is_told_by_events_in_order_and_mirrored_by_snapshots() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    let start = n.events.len();
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    let s = n.snap(Role::Initiator);
    // Steps 1 and 5 of §3.5 happen in one go here (the window is free):
    // pending_update was set and is already cleared by the UPDATE going out.
    assert!(!s.pending_update);
    assert_eq!(
        s.outstanding.as_ref().map(|o| o.what.as_str()),
        Some("UPDATE_SA_ADDRESSES")
    );
    assert!(s.cookie2_outstanding.is_some());
    n.run(n.now + SEC);
    let evs: Vec<Event> = n.events[start..]
        .iter()
        .filter(|(_, r, _)| *r == Role::Initiator)
        .map(|(_, _, e)| e.clone())
        .collect();
    let pos = |f: &dyn Fn(&Event) -> bool| evs.iter().position(f).expect("event");
    let path = pos(&|e| matches!(e, Event::IkePathChanged { .. }));
    let pending = pos(&|e| matches!(e, Event::PendingUpdate { pending: true, .. }));
    let sent = pos(&|e| {
        matches!(e, Event::RequestSent { what, cookie2: Some(_), retransmission: 0, .. }
            if *what == "UPDATE_SA_ADDRESSES")
    });
    let cleared = pos(&|e| matches!(e, Event::PendingUpdate { pending: false, .. }));
    let done = pos(&|e| matches!(e, Event::RequestDone { .. }));
    let ipsec = pos(&|e| matches!(e, Event::IpsecPathChanged { .. }));
    assert!(path < sent && pending < sent && sent < done, "{evs:#?}");
    assert!(
        cleared <= sent,
        "step 5 clears pending_update as the update goes out"
    );
    assert!(ipsec < done, "the initiator's IPsec SAs move at step 2");
    let s = n.snap(Role::Initiator);
    assert!(!s.pending_update && s.outstanding.is_none() && s.cookie2_outstanding.is_none());
    assert_eq!(s.in_flight, 0);
}
