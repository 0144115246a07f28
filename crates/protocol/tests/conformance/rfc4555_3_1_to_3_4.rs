//! RFC 4555 §3.1–§3.4: the initial exchanges (IKE_SA_INIT over several
//! sources, MOBIKE_SUPPORTED, the float to port 4500, additional addresses).

use crate::common::*;
use crate::helpers::*;
use mobike_protocol::{DeleteReason, Event, Role, SEC, SaState, Settings};
use mobike_wire::crypto::nat_detection_hash;
use mobike_wire::message::Message;
use mobike_wire::registry::{ExchangeType, NotifyType};
use mobike_wire::{Payload, PayloadType as PT};
use std::collections::BTreeSet;
use std::net::SocketAddr;

// ============================================================= RFC 4555 §3.1

#[test]
fn m_3_1_1_ike_sa_init_retransmitted_over_other_source_with_same_octets() {
    // Blackhole I1: the initiator must try I2 for IKE_SA_INIT.
    let mut n = Net::new(&[I1, I2], &[R1]);
    n.blackholed.insert(ip(I1));
    n.connect();
    n.run(10 * SEC);
    let inits: Vec<Msg> = n
        .sent_by(Role::Initiator)
        .into_iter()
        .filter(|m| m.exchange() == ExchangeType::IKE_SA_INIT)
        .collect();
    assert!(inits.len() >= 2, "{}", trace(&n));
    let sources: BTreeSet<SocketAddr> = inits.iter().map(|m| m.src).collect();
    assert!(sources.contains(&sa(I2, 500)), "{sources:?}");
    assert!(inits.iter().all(|m| m.ike == inits[0].ike), "I-2.1-7");
    assert_eq!(n.snap(Role::Initiator).state, SaState::Established);
}

#[test]
fn m_3_1_1_ike_sa_init_retransmitted_from_another_source_with_the_same_octets() {
    let mut n = Net::new(&[I1, I2], &[R1]);
    n.blackholed.insert(ip(I1));
    n.connect();
    n.run(5 * SEC);
    let inits: Vec<&Sent> = n
        .log
        .iter()
        .filter(|s| s.dst.port() == 500 && s.src.port() == 500 && s.dst.ip() == ip(R1))
        .collect();
    assert!(inits.len() >= 2);
    assert!(
        inits.iter().all(|s| s.payload == inits[0].payload),
        "I-2.1-7"
    );
    assert!(inits.iter().any(|s| s.src.ip() == ip(I2)));
    // I-2.23-7: one NAT_DETECTION_SOURCE_IP per candidate source, so the
    // responder sees no NAT although the request came from I2.
    let m = Message::parse(&inits[0].payload).unwrap();
    assert_eq!(
        m.notifies()
            .filter(|n| n.kind == NotifyType::NAT_DETECTION_SOURCE_IP)
            .count(),
        2
    );
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert_eq!(i.state, SaState::Established);
    assert!(!r.peer_behind_nat && !i.local_behind_nat);
    // B-3.3-1: the IKE SA runs from the source that worked.
    assert_eq!(r.remote.ip(), ip(I2));
}

#[test]
fn m_3_1_1_another_destination_gets_a_new_ike_sa_init() {
    // The reference's §6.2 S-R4 note: IKE_SA_INIT is re-sent unchanged over
    // other sources, but each destination needs one of its own, because the
    // NAT_DETECTION_DESTINATION_IP names the destination.
    let mut n = Net::new(&[I1], &[R1, R2]);
    n.blackholed.insert(ip(R1));
    n.i.connect_any(n.now, &[ip(R1), ip(R2)]);
    n.drain();
    n.run(20 * SEC);
    let inits: Vec<Msg> = n
        .messages()
        .into_iter()
        .filter(|m| m.exchange() == ExchangeType::IKE_SA_INIT && m.is_request())
        .collect();
    let to_r1: Vec<&Msg> = inits.iter().filter(|m| m.dst.ip() == ip(R1)).collect();
    let to_r2: Vec<&Msg> = inits.iter().filter(|m| m.dst.ip() == ip(R2)).collect();
    assert!(to_r1.len() >= 3, "retransmitted to R1 first: {}", trace(&n));
    assert!(
        to_r1.iter().all(|m| m.ike == to_r1[0].ike),
        "unchanged (I-2.1-7)"
    );
    let second = to_r2.first().expect("a new IKE_SA_INIT to R2");
    assert_ne!(second.header.spi_i, to_r1[0].header.spi_i, "a new IKE SA");
    let dst_hash = nat_detection_hash(second.header.spi_i, 0, sa(R2, 500)).to_vec();
    assert_eq!(
        second.data(NotifyType::NAT_DETECTION_DESTINATION_IP),
        Some(dst_hash.as_slice()),
        "its NAT detection names R2"
    );
    let up =
        n.i.snapshots()
            .into_iter()
            .find(|s| s.state == SaState::Established)
            .expect("established with R2");
    assert_eq!(up.remote.ip(), ip(R2));
    assert!(n.deleted(Role::Initiator).is_some_and(|(_, why)| matches!(
        why,
        DeleteReason::NextDestination { next, .. } if next == ip("203.0.113.20")
    )));
}

// ============================================================= RFC 4555 §3.2

#[test]
fn m_3_2_1_mobike_supported_in_ike_auth_with_the_sa_payload() {
    let n = Net::established(&[I1, I2], &[R1]);
    let msgs = n.messages();
    let (req, resp) = (&msgs[2], &msgs[3]);
    for m in [req, resp] {
        assert_eq!(m.exchange(), ExchangeType::IKE_AUTH);
        assert!(m.has(NotifyType::MOBIKE_SUPPORTED));
        assert!(m.payloads.iter().any(|p| matches!(p, Payload::Sa(_))));
    }
    for role in [Role::Initiator, Role::Responder] {
        assert!(
            n.events_of(role)
                .iter()
                .any(|(_, e)| matches!(e, Event::Established { mobike: true, .. }))
        );
    }
}

#[test]
fn m_3_2_1_without_mobike_supported_no_update_is_ever_sent() {
    for (si, sr) in [
        (
            Settings {
                mobike: false,
                ..settings()
            },
            settings(),
        ),
        (
            settings(),
            Settings {
                mobike: false,
                ..settings()
            },
        ),
    ] {
        let i_off = !si.mobike;
        let mut n = Net::with(&[I1, I2], &[R1], si, sr);
        n.connect();
        n.run(SEC);
        let msgs = n.messages();
        assert_eq!(msgs[2].has(NotifyType::MOBIKE_SUPPORTED), !i_off);
        assert!(!msgs[3].has(NotifyType::MOBIKE_SUPPORTED));
        for role in [Role::Initiator, Role::Responder] {
            assert!(!n.snap(role).mobike);
        }
        n.i.handle_local_addresses(n.now, vec![ip(I2)]);
        n.run(30 * SEC);
        assert!(
            updates(&n.messages()).is_empty(),
            "UPDATE_SA_ADDRESSES on a SA without MOBIKE:\n{}",
            trace(&n)
        );
    }
}

// ============================================================= RFC 4555 §3.3

#[test]
fn m_3_3_1_ike_auth_moves_to_4500_with_marker_even_without_nat() {
    let n = Net::established(&[I1, I2], &[R1]);
    let msgs = n.messages();
    assert_eq!((msgs[0].src.port(), msgs[0].dst.port()), (500, 500));
    for m in &msgs[2..4] {
        assert_eq!((m.src.port(), m.dst.port()), (4500, 4500));
        assert_eq!(&n.log[m.idx].payload[..4], &[0, 0, 0, 0]);
        assert_eq!(&n.log[m.idx].payload[4..], &m.ike[..]);
    }
    assert!(!n.snap(Role::Initiator).local_behind_nat);
    // The rule's condition: without MOBIKE and without a NAT, IKE stays on 500.
    let mut plain = Net::with(
        &[I1],
        &[R1],
        Settings {
            mobike: false,
            ..settings()
        },
        settings(),
    );
    plain.connect();
    plain.run(SEC);
    let m = &plain.messages()[2];
    assert_eq!((m.src.port(), m.dst.port()), (500, 500));
}

#[test]
fn b_3_3_1_ike_sa_and_tunnel_addresses_from_first_ike_auth_request() {
    // IKE_SA_INIT leaves from I1, IKE_AUTH from I2 (the rule rewrites its source).
    let mut n = Net::new(&[I1, I2], &[R1]);
    n.rewrite(
        Match::request(ExchangeType::IKE_AUTH).from(Role::Initiator),
        |d, _| d.src = sa(I2, d.src.port()),
    );
    n.connect();
    n.run(SEC);
    let msgs = n.messages();
    assert_eq!(msgs[0].src.ip(), ip(I1));
    assert_eq!(msgs[2].src, sa(I2, 4500));
    let r = n.snap(Role::Responder);
    assert_eq!(r.remote, sa(I2, 4500));
    assert_eq!(r.ipsec_remote, Some(sa(I2, 4500)));
    // The responder's ESP goes to the tunnel address from IKE_AUTH.
    let esp = n.send_data(Role::Responder).expect("ESP");
    assert_eq!(esp.dst.ip(), ip(I2));
    n.run(n.now + SEC);
    assert_eq!(n.data_i.len(), 1, "delivered to the initiator at I2");
}

// ============================================================= RFC 4555 §3.4

#[test]
fn m_3_4_1_additional_addresses_in_ike_auth_are_stored() {
    let n = Net::established(&[I1, I2, I6], &[R1, R2]);
    let msgs = n.messages();
    let keys = n.keys.clone().unwrap();
    // Request: one ADDITIONAL_IP4_ADDRESS (I2) and one ADDITIONAL_IP6_ADDRESS
    // (I6), in the message with the SA payload; wire lengths 12 and 24.
    let raw = raw_inner(&msgs[2].ike, &keys.sk_ei).unwrap();
    let lens: Vec<(u16, usize)> = raw
        .iter()
        .filter(|(k, _)| *k == PT::N)
        .map(|(_, b)| (u16::from_be_bytes([b[6], b[7]]), b.len()))
        .collect();
    assert!(lens.contains(&(16397, 12)), "{lens:?}");
    assert!(lens.contains(&(16398, 24)), "{lens:?}");
    let addrs: Vec<_> = msgs[2]
        .payloads
        .iter()
        .filter_map(|p| p.as_notify().and_then(|n| n.address()))
        .collect();
    assert_eq!(addrs, vec![ip(I2), ip(I6)]);
    assert_eq!(
        n.snap(Role::Responder).peer_addresses,
        vec![ip(I1), ip(I2), ip(I6)]
    );
    // Response: ADDITIONAL_IP4_ADDRESS (R2); stored by the initiator.
    assert!(msgs[3].has(NotifyType::ADDITIONAL_IP4_ADDRESS));
    assert_eq!(n.snap(Role::Initiator).peer_addresses, vec![ip(R1), ip(R2)]);
    // Zero additional addresses: NO_ADDITIONAL_ADDRESSES, sets hold the header address.
    let one = Net::established(&[I1], &[R1]);
    let m = one.messages();
    assert!(m[2].has(NotifyType::NO_ADDITIONAL_ADDRESSES));
    assert!(!m[2].has(NotifyType::ADDITIONAL_IP4_ADDRESS));
    assert_eq!(one.snap(Role::Responder).peer_addresses, vec![ip(I1)]);
}

#[test]
fn b_3_4_1_additional_addresses_cause_no_other_action() {
    let mut n = Net::new(&[I1, I2], &[R1, R2]);
    n.connect();
    n.run(4 * SEC); // before the first liveness check
    assert_eq!(n.messages().len(), 4, "{}", trace(&n));
    for role in [Role::Initiator, Role::Responder] {
        let ev = n.events_of(role);
        let paths = ev
            .iter()
            .filter(|(_, e)| matches!(e, Event::IkePathChanged { .. }))
            .count();
        let ipsec = ev
            .iter()
            .filter(|(_, e)| matches!(e, Event::IpsecPathChanged { .. }))
            .count();
        assert_eq!((paths, ipsec), (1, 1), "{role:?} moved");
    }
    assert_eq!(n.snap(Role::Initiator).remote, sa(R1, 4500));
    assert_eq!(n.snap(Role::Responder).remote, sa(I1, 4500));
}

#[test]
fn m_3_4_2_responder_never_sends_to_initiator_additional_addresses() {
    // The responder's own request (an address list update) goes unanswered:
    // it keeps retransmitting to the IKE SA's address, never to I2.
    let mut n = Net::with(&[I1, I2], &[R1, R2], no_liveness(), settings());
    n.connect();
    n.run(SEC);
    n.cut.insert((ip(R1), ip(I1)));
    n.r.handle_local_addresses(n.now, vec![ip(R1)]);
    n.run(2 * SEC);
    let _ = n.send_data(Role::Responder).expect("ESP");
    n.run(120 * SEC);
    let from_r: Vec<&Sent> = n
        .log
        .iter()
        .filter(|s| s.from == Some(Role::Responder))
        .collect();
    assert!(
        responder_requests(&n.messages()).len() >= 3,
        "{}",
        trace(&n)
    );
    assert!(from_r.iter().all(|s| s.dst.ip() == ip(I1)), "{}", trace(&n));
}
