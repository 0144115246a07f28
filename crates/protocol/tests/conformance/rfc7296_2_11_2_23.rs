//! RFC 7296 §2.11 (address and port agility) and §2.23 (NAT traversal).

use crate::common::*;
use crate::helpers::*;
use mobike_protocol::{Event, IpProtocol, Note, Role, SEC, SaState, Settings};
use mobike_wire::crypto::nat_detection_hash;
use mobike_wire::registry::NotifyType;
use mobike_wire::{Payload, PayloadType as PT};

// ============================================================ RFC 7296 §2.11

#[test]
fn i_2_11_1_request_from_an_odd_source_port_is_answered() {
    let mut n = Net::new(&[I1], &[R1]);
    n.nat = Some(Nat::new(&[I1], NAT_EXT, 61000));
    n.connect();
    n.run(8 * SEC);
    let msgs = n.messages();
    let odd: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.from == Some(Role::Initiator))
        .collect();
    assert!(odd.len() >= 3);
    for req in odd {
        let port = req.arrivals[0].src.port();
        assert!(port >= 61000, "arrived from an odd port");
        let resp = response_to(&msgs, req).expect("answered");
        assert_eq!(resp.dst, req.arrivals[0].src);
    }
    assert_eq!(n.snap(Role::Responder).state, SaState::Established);
}

#[test]
fn i_2_11_2_responses_go_where_the_request_came_from() {
    // Path tests to R2, a NAT, a move: every response mirrors its request.
    let mut n = Net::established(&[I1, IPRIV], &[R1, R2]);
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 40000));
    n.blackholed.insert(ip(R1));
    n.run(20 * SEC);
    n.i.handle_local_addresses(n.now, vec![ip(IPRIV)]);
    n.run(30 * SEC);
    let v = response_path_violations(&n);
    assert!(v.is_empty(), "{v:?}");
    let msgs = n.messages();
    assert!(
        msgs.iter()
            .any(|m| m.is_response() && m.dst.ip() == ip(NAT_EXT))
    );
    assert!(msgs.iter().filter(|m| m.is_response()).count() >= 6);
}

#[test]
fn i_2_11_3_response_leaves_from_where_the_request_arrived() {
    let mut n = Net::established(&[I1], &[R1, R2]);
    n.blackholed.insert(ip(R1));
    n.run(20 * SEC);
    let msgs = n.messages();
    // The path test sent to R2 was answered from R2 (while the IKE SA was on R1).
    let probe_resp = msgs
        .iter()
        .find(|m| m.is_response() && m.from == Some(Role::Responder) && m.src.ip() == ip(R2))
        .expect("answer from R2");
    let req = msgs
        .iter()
        .find(|m| m.is_request() && m.mid() == probe_resp.mid() && m.dst.ip() == ip(R2))
        .unwrap();
    assert!(!req.has(NotifyType::UPDATE_SA_ADDRESSES));
    assert_eq!(probe_resp.src, req.dst);
    assert!(response_path_violations(&n).is_empty());
}

// ============================================================ RFC 7296 §2.23

#[test]
fn i_2_23_1_ike_from_and_to_500_or_4500_answers_to_any_port() {
    let mut n = Net::established(&[I1, IPRIV], &[R1]);
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 61000));
    n.run(6 * SEC);
    n.i.handle_local_addresses(n.now, vec![ip(IPRIV)]);
    n.run(20 * SEC);
    let msgs = n.messages();
    // Each side sends from 500 or 4500; the initiator to 500 or 4500 (the
    // responder's ports), the responder to wherever the initiator appears.
    for m in msgs.iter().filter(|m| m.from.is_some()) {
        assert!([500, 4500].contains(&m.src.port()), "{m:?}");
        if m.from == Some(Role::Initiator) {
            assert!([500, 4500].contains(&m.dst.port()), "{m:?}");
        }
    }
    assert!(
        msgs.iter()
            .any(|m| m.from == Some(Role::Responder) && m.dst.port() >= 61000),
        "answered to a translated port"
    );
    assert!(response_path_violations(&n).is_empty());
}

#[test]
fn i_2_23_2_after_nat_discovery_everything_from_4500() {
    let off = Settings {
        mobike: false,
        ..no_liveness()
    };
    let mut n = behind_nat(off.clone(), off);
    let _ = n.send_data(Role::Initiator).unwrap();
    n.run(45 * SEC);
    let from_i: Vec<&Sent> = n
        .log
        .iter()
        .filter(|s| s.from == Some(Role::Initiator))
        .collect();
    assert!(from_i.len() >= 4); // IKE_SA_INIT, IKE_AUTH, ESP, keepalives
    for s in &from_i[1..] {
        assert_eq!(s.src.port(), 4500, "{s:?}");
        assert_eq!(s.protocol, IpProtocol::Udp);
    }
}

#[test]
fn i_2_23_3_no_udp_encapsulation_on_port_500() {
    let off = Settings {
        mobike: false,
        ..settings()
    };
    // IKE on 500 (no MOBIKE, no NAT) and IKE on 4500 (NAT).
    let mut a = Net::with(&[I1], &[R1], off.clone(), off.clone());
    a.connect();
    a.run(SEC);
    assert_eq!(a.snap(Role::Initiator).local.port(), 500);
    let mut b = behind_nat(off.clone(), off);
    for n in [&mut a, &mut b] {
        let _ = n.send_data(Role::Initiator).unwrap();
        let _ = n.send_data(Role::Responder).unwrap();
        n.run(40 * SEC);
        for s in n.log.iter().filter(|s| s.protocol == IpProtocol::Udp) {
            if s.src.port() == 500 || s.dst.port() == 500 {
                assert!(
                    s.ike_bytes().is_some() && !s.is_esp() && !s.is_keepalive(),
                    "{s:?}"
                );
            }
        }
        assert_eq!((n.data_i.len(), n.data_r.len()), (1, 1));
    }
    assert_eq!(
        a.log
            .iter()
            .filter(|s| s.protocol == IpProtocol::Esp)
            .count(),
        2
    );
}

#[test]
fn i_2_23_4_plain_and_encapsulated_esp_both_accepted() {
    // No NAT (plain ESP in use): a UDP-encapsulated packet is taken too.
    let mut n = Net::established(&[I1], &[R1]);
    let e = n.send_data(Role::Initiator).unwrap();
    assert_eq!(e.protocol, IpProtocol::Esp);
    n.r.handle_datagram(n.now, sa(I1, 4500), sa(R1, 4500), &e.payload);
    n.drain();
    assert_eq!(n.data_r.len(), 1, "encapsulated ESP accepted");
    // And plain again right after: the first packet's plain copy now
    // arrives as a replay and is dropped, the second packet is taken.
    let e = n.send_data(Role::Initiator).unwrap();
    n.run(n.now + SEC);
    assert_eq!(e.protocol, IpProtocol::Esp);
    assert_eq!(n.data_r.len(), 2, "plain ESP accepted");
    // Behind a NAT (encapsulation in use): plain ESP is taken too.
    let mut n = behind_nat(settings(), settings());
    let e = n.send_data(Role::Initiator).unwrap();
    assert_eq!(e.protocol, IpProtocol::Udp);
    let before = n.data_r.len();
    n.r.handle_esp(n.now, sa(NAT_EXT, 0), sa(R1, 0), &e.payload);
    n.drain();
    assert_eq!(n.data_r.len(), before + 1, "plain ESP accepted");
}

#[test]
fn i_2_23_5_both_sides_encapsulate_esp_when_a_nat_is_found() {
    let mut n = behind_nat(settings(), settings());
    let ext = n.nat.as_ref().unwrap().mapped(sa(IPRIV, 4500)).unwrap();
    for role in [Role::Initiator, Role::Responder] {
        assert!(n.snap(role).udp_encap);
    }
    let ei = n.send_data(Role::Initiator).unwrap();
    assert_eq!(ei.protocol, IpProtocol::Udp);
    assert_eq!((ei.src, ei.dst), (sa(IPRIV, 4500), sa(R1, 4500)));
    let er = n.send_data(Role::Responder).unwrap();
    assert_eq!(er.protocol, IpProtocol::Udp);
    assert_eq!((er.src, er.dst), (sa(R1, 4500), ext));
    n.run(n.now + SEC);
    assert_eq!((n.data_i.len(), n.data_r.len()), (1, 1));
}

#[test]
fn i_2_23_6_nat_detection_follows_the_nonces_in_ike_sa_init() {
    let n = Net::established(&[I1, I2], &[R1]);
    let msgs = n.messages();
    for m in &msgs[..2] {
        let raw = raw_outer(&m.ike);
        let kinds: Vec<PT> = raw.iter().map(|(k, _)| *k).collect();
        assert_eq!(&kinds[..3], &[PT::SA, PT::KE, PT::Nonce]);
        let notes: Vec<u16> = raw[3..]
            .iter()
            .map(|(k, b)| {
                assert_eq!(*k, PT::N);
                u16::from_be_bytes([b[6], b[7]])
            })
            .collect();
        assert_eq!(notes.last(), Some(&16389), "{notes:?}");
        assert!(notes[..notes.len() - 1].iter().all(|t| *t == 16388));
        assert!(!kinds.contains(&PT::CERTREQ));
    }
}

#[test]
fn i_2_23_7_one_nat_detection_source_per_candidate_source() {
    let mut n = Net::new(&[I1, I2, I3], &[R1]);
    n.blackholed.insert(ip(I1));
    n.connect();
    n.run(5 * SEC);
    let init = &n.messages()[0];
    let (spi_i, _) = (init.header.spi_i, 0);
    let srcs: Vec<&[u8]> = init
        .payloads
        .iter()
        .filter_map(Payload::as_notify)
        .filter(|x| x.kind == NotifyType::NAT_DETECTION_SOURCE_IP)
        .map(|x| x.data.as_slice())
        .collect();
    let want: Vec<Vec<u8>> = [I1, I2, I3]
        .iter()
        .map(|a| nat_detection_hash(spi_i, 0, sa(a, 500)).to_vec())
        .collect();
    assert_eq!(srcs, want.iter().map(Vec::as_slice).collect::<Vec<_>>());
    // It arrived from I2, yet no NAT is concluded.
    assert_eq!(n.snap(Role::Responder).remote.ip(), ip(I2));
    assert!(!n.snap(Role::Responder).peer_behind_nat);
    // Without multi-source IKE_SA_INIT: one.
    let s = Settings {
        multi_source_init: false,
        ..settings()
    };
    let mut n = Net::with(&[I1, I2, I3], &[R1], s, settings());
    n.connect();
    n.run(SEC);
    let init = &n.messages()[0];
    assert_eq!(
        init.notifies()
            .iter()
            .filter(|k| **k == NotifyType::NAT_DETECTION_SOURCE_IP)
            .count(),
        1
    );
}

#[test]
fn i_2_23_8_the_side_behind_the_nat_sends_keepalives() {
    let mut n = behind_nat(no_liveness(), no_liveness());
    n.run(65 * SEC);
    let ka: Vec<&Sent> = n.log.iter().filter(|s| s.is_keepalive()).collect();
    assert!(ka.len() >= 3, "{}", trace(&n));
    assert!(ka.iter().all(|s| s.from == Some(Role::Initiator)));
    for w in ka.windows(2) {
        let gap = w[1].at - w[0].at;
        assert!((19 * SEC..=21 * SEC).contains(&gap), "{gap}");
    }
    assert!(n.snap(Role::Initiator).udp_encap && n.snap(Role::Responder).udp_encap);
}

#[test]
fn i_2_23_9_initiator_behind_nat_runs_ike_and_esp_over_4500() {
    let off = Settings {
        mobike: false,
        ..settings()
    };
    let mut n = behind_nat(off.clone(), off.clone());
    assert!(n.events_of(Role::Initiator).iter().any(|(_, e)| matches!(
        e,
        Event::NatDetection {
            local_behind_nat: true,
            ..
        }
    )));
    let msgs = n.messages();
    assert_eq!(msgs[0].src.port(), 500);
    for m in &msgs[2..] {
        assert_eq!(m.src.port(), 4500);
        if m.from == Some(Role::Initiator) {
            assert_eq!(m.dst.port(), 4500);
        }
    }
    assert!(msgs.len() >= 4);
    let e = n.send_data(Role::Initiator).unwrap();
    assert_eq!((e.protocol, e.src.port()), (IpProtocol::Udp, 4500));
    // Control: no NAT, no MOBIKE: port 500 and plain ESP.
    let mut n = Net::with(&[I1], &[R1], off.clone(), off);
    n.connect();
    n.run(SEC);
    assert_eq!(n.messages()[2].src.port(), 500);
    assert_eq!(
        n.send_data(Role::Initiator).unwrap().protocol,
        IpProtocol::Esp
    );
}

#[test]
fn i_2_23_10_encapsulated_esp_processed_without_a_nat() {
    let mut n = Net::established(&[I1], &[R1]);
    assert!(!n.snap(Role::Responder).udp_encap);
    let e = n.send_data(Role::Initiator).unwrap();
    n.r.handle_datagram(n.now, sa(I1, 4500), sa(R1, 4500), &e.payload);
    n.drain();
    assert_eq!(n.data_r.len(), 1);
    let e = n.send_data(Role::Responder).unwrap();
    n.i.handle_datagram(n.now, sa(R1, 4500), sa(I1, 4500), &e.payload);
    n.drain();
    assert_eq!(n.data_i.len(), 1);
}

#[test]
fn i_2_23_11_without_mobike_the_host_not_behind_nat_follows_the_new_port() {
    let s = Settings {
        mobike: false,
        ..settings()
    };
    let mut n = behind_nat(s.clone(), s);
    assert!(!n.snap(Role::Initiator).mobike);
    assert_eq!(n.snap(Role::Responder).remote.ip(), ip(NAT_EXT));
    n.nat.as_mut().unwrap().reboot(50000);
    n.run(n.now + 6 * SEC);
    let r = n.snap(Role::Responder);
    assert_eq!(r.remote, sa(NAT_EXT, 50000), "followed the valid request");
    assert_eq!(r.ipsec_remote, Some(sa(NAT_EXT, 50000)));
    let noted = n.events_of(Role::Responder).into_iter().any(|(_, e)| {
        matches!(
            e,
            Event::Note { note, .. } if matches!(note.as_ref(), Note::FollowingRebinding { .. })
        )
    });
    assert!(noted);
    // The host behind the NAT does not follow anything.
    assert_eq!(n.snap(Role::Initiator).remote, sa(R1, 4500));
    // With MOBIKE the same rebinding moves nothing until an UPDATE (M-3.8-6).
    let mut n = behind_nat(settings(), settings());
    n.nat.as_mut().unwrap().reboot(50000);
    let followed = n.run_until(n.now + 20 * SEC, |n| {
        n.events_of(Role::Responder).into_iter().any(|(_, e)| {
            matches!(
                e,
                Event::Note { note, .. } if matches!(note.as_ref(), Note::FollowingRebinding { .. })
            )
        })
    });
    assert!(!followed);
}
