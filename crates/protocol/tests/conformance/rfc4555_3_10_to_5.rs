//! RFC 4555 §3.10 (path testing), §3.11 (failure recovery and timeouts),
//! §3.12 (IPsec packet addresses), §4.2.1 (MOBIKE_SUPPORTED) and §5.3
//! (ICMP and INVALID_SPI reports).

use crate::common::*;
use crate::helpers::*;
use mobike_protocol::{Dur, MS, Note, Role, SEC, SaState, Settings, Time};
use mobike_wire::PayloadType as PT;
use mobike_wire::registry::{ExchangeType, NotifyType};
use std::net::SocketAddr;

// ============================================================ RFC 4555 §3.10

#[test]
fn m_3_10_1_path_testing_while_the_current_path_works() {
    let s = Settings {
        path_test_interval: Some(Dur(3 * SEC)),
        liveness: false,
        ..settings()
    };
    let mut n = Net::with(&[I1, I2], &[R1, R2], s, settings());
    n.connect();
    n.run(5 * SEC);
    let (test, pairs) = path_test_pairs(&n);
    let msgs = n.messages();
    assert_eq!(pairs.len(), 4, "every address pair: {pairs:?}");
    assert!(!test.has(NotifyType::UPDATE_SA_ADDRESSES));
    let i = n.snap(Role::Initiator);
    assert_eq!((i.local, i.remote), (sa(I1, 4500), sa(R1, 4500)), "no move");
    assert!(updates(&msgs).is_empty());
}

// ============================================================ RFC 4555 §3.11

#[test]
fn m_3_11_1_responder_keeps_retransmitting_for_at_least_five_minutes() {
    // The responder's own request (a list update after it lost R1) goes to
    // an initiator address that has gone silent.
    let mut n = Net::established(&[I1], &[R1, R2]);
    n.blackholed.insert(ip(I1));
    let start = n.now;
    n.r.handle_local_addresses(n.now, vec![ip(R2)]);
    n.run(start + 1100 * SEC);
    let sends: Vec<Time> = responder_requests(&n.messages())
        .iter()
        .map(|m| m.at)
        .collect();
    let last = *sends.last().expect("the list update was sent");
    assert!(
        last - start >= 300 * SEC,
        "last retransmission after {} s",
        (last - start) / SEC
    );
    assert!(
        sends.windows(2).skip(1).all(|w| w[1] - w[0] > 0),
        "exponential"
    );
    let (gave_up, _) = n
        .deleted(Role::Responder)
        .unwrap_or_else(|| panic!("gives up in the end (I-2.1-6): {sends:?}\n{}", trace(&n)));
    assert!(gave_up - start >= 300 * SEC);
}

// ============================================================ RFC 4555 §3.12

#[test]
fn m_3_12_1_esp_from_unexpected_addresses_is_flagged() {
    let mut n = Net::established(&[I1], &[R1, R2]);
    n.rewrite(Match::plain_esp().from(Role::Responder), |d, _| {
        d.src = SocketAddr::new(ip(R2), d.src.port())
    });
    n.send_data(Role::Responder).unwrap();
    n.send_data(Role::Responder).unwrap();
    n.run(n.now + SEC);
    assert_eq!(n.data_i.len(), 2, "still delivered");
    let flagged: Vec<Note> = notes(&n, Role::Initiator)
        .into_iter()
        .filter(|note| note.rule().cites("M-3.12-1"))
        .collect();
    assert_eq!(flagged.len(), 1, "noted once per address pair: {flagged:?}");
    assert!(matches!(flagged[0], Note::EspElsewhere { src, .. } if src == ip(R2)));
}

#[test]
fn m_3_12_2_mismatching_esp_is_no_liveness_evidence() {
    let s = Settings {
        esp_liveness: true,
        ..settings()
    };
    let mut n = Net::with(&[I1], &[R1, R2], s.clone(), s);
    n.connect();
    n.run(SEC);
    // ESP on the SA's own addresses every second: no liveness check needed.
    for _ in 0..12 {
        n.send_data(Role::Responder).unwrap();
        let t = n.now + SEC;
        n.run(t);
    }
    let checks = |n: &Net, from: Time, to: Time| {
        n.messages()
            .iter()
            .filter(|m| m.from == Some(Role::Initiator) && m.info() && m.is_request())
            .filter(|m| m.at >= from && m.at < to)
            .count()
    };
    assert_eq!(checks(&n, 0, n.now), 0, "{}", trace(&n));
    // The same traffic from an address the IPsec SA does not use.
    n.rewrite(Match::plain_esp().from(Role::Responder), |d, _| {
        d.src = SocketAddr::new(ip(R2), d.src.port())
    });
    let t0 = n.now;
    for _ in 0..12 {
        n.send_data(Role::Responder).unwrap();
        let t = n.now + SEC;
        n.run(t);
    }
    assert!(
        checks(&n, t0, n.now) >= 1,
        "liveness checked despite the ESP"
    );
    assert_eq!(n.data_i.len(), 24);
}

// =========================================================== RFC 4555 §4.2.1

#[test]
fn m_4_2_1_1_mobike_supported_sent_empty_and_its_data_ignored() {
    let n = Net::established(&[I1, I2], &[R1]);
    let keys = n.keys.clone().unwrap();
    let msgs = n.messages();
    for (m, key) in [(&msgs[2], &keys.sk_ei), (&msgs[3], &keys.sk_er)] {
        let raw = raw_inner(&m.ike, key).unwrap();
        let (_, b) = raw
            .iter()
            .find(|(k, b)| *k == PT::N && u16::from_be_bytes([b[6], b[7]]) == 16396)
            .unwrap();
        assert_eq!(b.len(), 8, "MOBIKE_SUPPORTED is empty");
    }
    // Both IKE_AUTH messages rewritten to carry 4 octets of data.
    let mut n = Net::new(&[I1, I2], &[R1]);
    n.rewrite(Match::exchange(ExchangeType::IKE_AUTH), |d, keys| {
        d.reseal(keys, [0xE0; 8], |inner| {
            edit_notify(inner, NotifyType::MOBIKE_SUPPORTED, |m| {
                *m = vec![1, 2, 3, 4]
            })
        })
    });
    n.connect();
    n.run(SEC);
    let msgs = n.messages();
    assert_eq!(
        msgs[2].data(NotifyType::MOBIKE_SUPPORTED),
        Some(&[1, 2, 3, 4][..])
    );
    assert_eq!(
        msgs[3].data(NotifyType::MOBIKE_SUPPORTED),
        Some(&[1, 2, 3, 4][..])
    );
    assert!(n.snap(Role::Initiator).mobike && n.snap(Role::Responder).mobike);
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 2 * SEC);
    assert_eq!(updates(&n.messages()).len(), 1);
    assert_eq!(n.snap(Role::Responder).ipsec_remote, Some(sa(I2, 4500)));
}

// ============================================================= RFC 4555 §5.3

#[test]
fn m_5_3_1_invalid_spi_report_triggers_a_liveness_test_with_cookie2() {
    let mut n = Net::established(&[I1], &[R1]);
    let before = n.messages().len();
    n.i.handle_hint(n.now, mobike_protocol::Hint::InvalidSpi { peer: ip(R1) });
    n.drain();
    n.run(n.now + 500 * MS);
    let req = initiator_requests_since(&n, before).remove(0);
    let c = req.data(NotifyType::COOKIE2).expect("COOKIE2").to_vec();
    assert!(!req.has(NotifyType::UPDATE_SA_ADDRESSES));
    let msgs = n.messages();
    let resp = response_to(&msgs, &req).expect("answered");
    assert_eq!(resp.data(NotifyType::COOKIE2), Some(c.as_slice()));
    assert_eq!(n.snap(Role::Initiator).state, SaState::Established);
    assert_eq!(n.snap(Role::Initiator).remote, sa(R1, 4500));
}
