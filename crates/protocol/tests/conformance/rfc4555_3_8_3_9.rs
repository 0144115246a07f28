//! RFC 4555 §3.8 (changes in NAT mappings) and §3.9 (NAT prohibition).

use crate::common::*;
use crate::helpers::*;
use mobike_protocol::{Role, SEC, SaState, Settings};
use mobike_wire::Payload;
use mobike_wire::notify::NotifyData;
use mobike_wire::registry::{ExchangeType, NotifyType};
use std::collections::BTreeSet;

// ============================================================= RFC 4555 §3.8

#[test]
fn m_3_8_1_liveness_checks_carry_nat_detection() {
    let mut n = Net::established(&[I1], &[R1]);
    n.run(6 * SEC);
    let live = n
        .sent_by(Role::Initiator)
        .into_iter()
        .find(|m| m.info())
        .unwrap();
    assert_eq!(
        live.data(NotifyType::NAT_DETECTION_SOURCE_IP),
        Some(&natd(&n, sa(I1, 4500))[..])
    );
    assert_eq!(
        live.data(NotifyType::NAT_DETECTION_DESTINATION_IP),
        Some(&natd(&n, sa(R1, 4500))[..])
    );
    assert!(response_to(&n.messages(), &live).is_some());
    // Only when both support NAT-T.
    let mut n = Net::with(&[I1], &[R1], no_natt(), no_natt());
    n.connect();
    n.run(6 * SEC);
    let live = n
        .sent_by(Role::Initiator)
        .into_iter()
        .find(|m| m.info())
        .unwrap();
    assert!(!live.has(NotifyType::NAT_DETECTION_SOURCE_IP));
}

#[test]
fn m_3_8_2_nat_detection_in_request_means_nat_detection_in_response() {
    // Once direct, once through a NAT: the hashes describe the packet's
    // real addresses as the responder saw them.
    let mut n = Net::established(&[I1], &[R1]);
    n.run(6 * SEC);
    let msgs = n.messages();
    let live = msgs.iter().find(|m| m.info() && m.is_request()).unwrap();
    let resp = response_to(&msgs, live).unwrap();
    assert_eq!(
        resp.data(NotifyType::NAT_DETECTION_SOURCE_IP),
        Some(&natd(&n, sa(R1, 4500))[..])
    );
    assert_eq!(
        resp.data(NotifyType::NAT_DETECTION_DESTINATION_IP),
        Some(&natd(&n, sa(I1, 4500))[..])
    );
    let mut n = behind_nat(settings(), settings());
    n.run(6 * SEC);
    let ext = n.nat.as_ref().unwrap().mapped(sa(IPRIV, 4500)).unwrap();
    let msgs = n.messages();
    let live = msgs.iter().find(|m| m.info() && m.is_request()).unwrap();
    let resp = response_to(&msgs, live).unwrap();
    assert_eq!(
        resp.data(NotifyType::NAT_DETECTION_DESTINATION_IP),
        Some(&natd(&n, ext)[..])
    );
    assert!(resp.has(NotifyType::NAT_DETECTION_SOURCE_IP));
}

#[test]
fn m_3_8_3_initiator_behind_nat_sends_nat_detection_in_every_liveness_check() {
    let mut n = behind_nat(settings(), settings());
    assert!(n.snap(Role::Initiator).local_behind_nat);
    n.run(30 * SEC);
    let lives: Vec<Msg> = n
        .sent_by(Role::Initiator)
        .into_iter()
        .filter(|m| m.info() && m.is_request())
        .collect();
    assert!(lives.len() >= 4);
    for m in &lives {
        assert_eq!(
            m.data(NotifyType::NAT_DETECTION_SOURCE_IP),
            Some(&natd(&n, sa(IPRIV, 4500))[..])
        );
        assert!(m.has(NotifyType::NAT_DETECTION_DESTINATION_IP));
    }
    // The IKE_SA_INIT result (port 500) is the first baseline (M-3.8-4),
    // so the first check on port 4500 costs one update; after that, no
    // mapping change, no update.
    let ups = updates(&n.messages());
    assert_eq!(ups.len(), 1, "{}", trace(&n));
    assert_eq!(ups[0].mid(), lives[0].mid() + 1);
}

#[test]
fn m_3_8_4_nat_appearing_after_setup_leads_to_update() {
    let mut n = Net::established(&[I1], &[R1]);
    n.run(6 * SEC);
    n.nat = Some(Nat::new(&[I1], NAT_EXT, 61000));
    n.run(12 * SEC);
    let msgs = n.messages();
    let lives: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.from == Some(Role::Initiator) && m.info() && m.is_request())
        .collect();
    let d0 = response_to(&msgs, lives[0])
        .unwrap()
        .data(NotifyType::NAT_DETECTION_DESTINATION_IP)
        .unwrap()
        .to_vec();
    let d1 = response_to(&msgs, lives[1])
        .unwrap()
        .data(NotifyType::NAT_DETECTION_DESTINATION_IP)
        .unwrap()
        .to_vec();
    assert_ne!(d0, d1);
    assert_eq!(d1, natd(&n, sa(NAT_EXT, 61000)));
    assert!(
        lives[2].has(NotifyType::UPDATE_SA_ADDRESSES),
        "the next request is the update:\n{}",
        trace(&n)
    );
    assert_eq!(lives[2].mid(), lives[1].mid() + 1);
    let r = n.snap(Role::Responder);
    assert_eq!(r.remote, sa(NAT_EXT, 61000));
    assert_eq!(r.ipsec_remote, Some(sa(NAT_EXT, 61000)));
    assert!(r.udp_encap && n.snap(Role::Initiator).udp_encap);
}

#[test]
fn m_3_8_4_mapping_change_before_the_first_liveness_check_is_noticed() {
    // strongSwan misses this: its first DPD result becomes the baseline.
    let mut n = behind_nat(settings(), settings());
    n.nat.as_mut().unwrap().reboot(1024);
    n.run(8 * SEC);
    let ext = n.nat.as_ref().unwrap().mapped(sa(IPRIV, 4500)).unwrap();
    assert_eq!(ext.port(), 1024);
    let r = n.snap(Role::Responder);
    assert_eq!(r.remote, ext, "{}", trace(&n));
    assert_eq!(r.ipsec_remote, Some(ext));
    let e = n.send_data(Role::Responder).unwrap();
    assert_eq!(e.dst, ext);
    n.run(n.now + SEC);
    assert_eq!(n.data_i.len(), 1);
}

#[test]
fn m_3_8_4_nat_reboot_remaps_and_update_follows() {
    let mut n = behind_nat(settings(), settings());
    n.run(6 * SEC); // first liveness response, and the update it costs
    let before = updates(&n.messages()).len();
    n.nat.as_mut().unwrap().reboot(50000);
    n.run(20 * SEC);
    let ext = n.nat.as_ref().unwrap().mapped(sa(IPRIV, 4500)).unwrap();
    assert_eq!(ext.port(), 50000);
    let ups = updates(&n.messages());
    assert_eq!(ups.len(), before + 1, "{}", trace(&n));
    let r = n.snap(Role::Responder);
    assert_eq!(r.remote, ext);
    assert_eq!(r.ipsec_remote, Some(ext));
    let e = n.send_data(Role::Responder).unwrap();
    assert_eq!(e.dst, ext);
    n.run(n.now + SEC);
    assert_eq!(n.data_i.len(), 1);
}

#[test]
fn m_3_8_5_suspected_mapping_change_sends_update_directly() {
    let s = Settings {
        update_on_nat_hint: true,
        ..settings()
    };
    let mut n = behind_nat(s.clone(), settings());
    let before = n.messages().len();
    n.i.handle_hint(n.now, mobike_protocol::Hint::NatMappingSuspected);
    n.drain();
    let first = initiator_requests_since(&n, before).remove(0);
    assert!(
        first.has(NotifyType::UPDATE_SA_ADDRESSES),
        "no liveness check first"
    );
    assert!(first.has(NotifyType::NAT_DETECTION_SOURCE_IP));
    // Without the setting, the hint makes a liveness check with NAT-D.
    let mut n = behind_nat(settings(), settings());
    let before = n.messages().len();
    n.i.handle_hint(n.now, mobike_protocol::Hint::NatMappingSuspected);
    n.drain();
    let first = initiator_requests_since(&n, before).remove(0);
    assert!(!first.has(NotifyType::UPDATE_SA_ADDRESSES));
    assert!(first.has(NotifyType::NAT_DETECTION_DESTINATION_IP));
}

#[test]
fn m_3_8_6_informational_from_new_address_does_not_move_responder() {
    let mut n = Net::established(&[I1], &[R1]);
    n.run(6 * SEC);
    n.nat = Some(Nat::new(&[I1], NAT_EXT, 61000));
    let ext = sa(NAT_EXT, 61000);
    // Until the responder has answered the liveness check from NAT_EXT.
    assert!(n.run_until(12 * SEC, |n| {
        n.log
            .iter()
            .any(|s| s.from == Some(Role::Responder) && s.dst == ext)
    }));
    let r = n.snap(Role::Responder);
    assert_eq!(r.remote, sa(I1, 4500), "IKE SA not moved");
    assert_eq!(r.ipsec_remote, Some(sa(I1, 4500)));
    let resp = n.messages().pop().unwrap();
    assert!(resp.is_response() && !resp.has(NotifyType::UPDATE_SA_ADDRESSES));
    assert_eq!((resp.src, resp.dst), (sa(R1, 4500), ext), "I-2.11-2");
    // It is the UPDATE that follows which moves it.
    n.run(15 * SEC);
    assert_eq!(n.snap(Role::Responder).remote, ext);
}

// ============================================================= RFC 4555 §3.9

#[test]
fn m_3_9_no_nats_allowed_finds_a_translator_and_nothing_moves() {
    let mut n = Net::with(&[I1, I2], &[R1], no_natt(), no_natt());
    n.connect();
    n.run(SEC);
    let msgs = all_messages(&n);
    assert!(!msgs[0].has(NotifyType::NAT_DETECTION_SOURCE_IP));
    // M-3.9-1: in the first IKE_AUTH request.
    assert!(msgs[2].has(NotifyType::NO_NATS_ALLOWED));
    assert_eq!(msgs[2].src.port(), 500, "no NAT-T: IKE stays on port 500");
    // A translator appears in front of I2, and the laptop moves there.
    n.nat = Some(Nat::basic(&[I2], "198.51.100.99"));
    let before = all_messages(&n).len();
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(20 * SEC);
    let msgs = all_messages(&n)[before..].to_vec();
    let upd = &msgs[0];
    assert!(upd.has(NotifyType::UPDATE_SA_ADDRESSES) && upd.has(NotifyType::NO_NATS_ALLOWED));
    // M-3.9-2: UNEXPECTED_NAT_DETECTED, sent to the translated source.
    let resp = &msgs[1];
    assert!(resp.is_response() && resp.has(NotifyType::UNEXPECTED_NAT_DETECTED));
    assert_eq!(resp.dst.ip(), ip("198.51.100.99"));
    // M-3.9-3: retried with new requests.
    let retries: Vec<u32> = msgs
        .iter()
        .filter(|m| m.is_request() && m.has(NotifyType::UPDATE_SA_ADDRESSES))
        .map(Msg::mid)
        .collect();
    assert!(
        retries.len() >= 3 && retries.windows(2).all(|w| w[1] > w[0]),
        "{retries:?}"
    );
    // The responder never moved (M-3.9-5).
    assert_eq!(n.snap(Role::Responder).remote.ip(), ip(I1));
    assert!(noted(&n, Role::Responder, "M-3.9-2"));
}

#[test]
fn m_3_9_1_no_nats_allowed_when_nat_t_is_off() {
    let mut n = Net::with(&[I1, I2], &[R1], no_natt(), no_natt());
    n.connect();
    n.run(SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I1), ip(I2), ip(I3)]); // list update
    n.run(n.now + 2 * SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I2), ip(I3)]); // UPDATE
    n.run(n.now + 2 * SEC);
    let msgs = n.sent_by(Role::Initiator);
    assert!(!msgs[0].has(NotifyType::NAT_DETECTION_SOURCE_IP));
    let carriers: Vec<&Msg> = msgs
        .iter()
        .filter(|m| {
            m.exchange() == ExchangeType::IKE_AUTH
                || m.info()
                    && m.is_request()
                    && (m.has(NotifyType::UPDATE_SA_ADDRESSES)
                        || m.has(NotifyType::ADDITIONAL_IP4_ADDRESS)
                        || m.has(NotifyType::NO_ADDITIONAL_ADDRESSES))
        })
        .collect();
    assert_eq!(carriers.len(), 3, "{}", trace(&n));
    for m in carriers {
        let nn = m
            .payloads
            .iter()
            .filter_map(Payload::as_notify)
            .find(|x| x.kind == NotifyType::NO_NATS_ALLOWED)
            .unwrap_or_else(|| panic!("no NO_NATS_ALLOWED in {}", m.exchange()));
        assert_eq!(
            NotifyData::parse(nn).unwrap(),
            NotifyData::NoNatsAllowed {
                src: m.src,
                dst: m.dst
            }
        );
    }
    // With NAT-T, never.
    let (n, _) = moved(&[I1, I2], &[R1], &[I2], 2);
    assert!(
        !n.messages()
            .iter()
            .any(|m| m.has(NotifyType::NO_NATS_ALLOWED))
    );
}

#[test]
fn m_3_9_2_translator_answered_with_unexpected_nat_detected_to_its_source() {
    let mut n = Net::with(&[I1, I2], &[R1], no_natt(), no_natt());
    n.connect();
    n.run(SEC);
    n.nat = Some(Nat::basic(&[I2], NAT_EXT));
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 2 * SEC);
    let msgs = n.messages();
    let upd = &updates(&msgs)[0];
    let resp = response_to(&msgs, upd).unwrap();
    assert!(resp.has(NotifyType::UNEXPECTED_NAT_DETECTED));
    assert_eq!(resp.dst.ip(), ip(NAT_EXT), "to the translated source");
    assert_eq!(n.snap(Role::Responder).remote.ip(), ip(I1));
    // In the first IKE_AUTH request as well: no SA is set up.
    let mut n = Net::with(&[I1], &[R1], no_natt(), no_natt());
    n.nat = Some(Nat::basic(&[I1], NAT_EXT));
    n.connect();
    n.run(SEC);
    let msgs = n.messages();
    let auth = msgs
        .iter()
        .find(|m| m.is_response() && m.exchange() == ExchangeType::IKE_AUTH)
        .unwrap();
    assert!(auth.has(NotifyType::UNEXPECTED_NAT_DETECTED));
    assert_eq!(auth.dst.ip(), ip(NAT_EXT));
    assert!(n.deleted(Role::Responder).is_some());
}

#[test]
fn m_3_9_2_port_translating_nat_is_answered_with_unexpected_nat_detected() {
    let mut n = Net::with(&[I1, I2], &[R1], no_natt(), no_natt());
    n.connect();
    n.run(SEC);
    n.nat = Some(Nat::new(&[I2], NAT_EXT, 40000));
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 2 * SEC);
    let msgs = n.messages();
    let upd = &updates(&msgs)[0];
    // Fails here: the responder rejects the datagram and sends nothing.
    let resp = response_to(&msgs, upd).unwrap_or_else(|| panic!("no answer:\n{}", trace(&n)));
    assert!(resp.has(NotifyType::UNEXPECTED_NAT_DETECTED));
    assert_eq!(resp.dst, sa(NAT_EXT, 40000));
}

#[test]
fn m_3_9_3_unexpected_nat_detected_retried_with_new_requests() {
    let mut n = Net::with(&[I1, I2], &[R1], no_natt(), no_natt());
    n.connect();
    n.run(SEC);
    n.nat = Some(Nat::basic(&[I2], NAT_EXT));
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 5 * SEC);
    let mids: Vec<u32> = updates(&n.messages()).iter().map(Msg::mid).collect();
    assert!(mids.len() >= 3, "{mids:?}");
    assert!(mids.windows(2).all(|w| w[1] == w[0] + 1), "{mids:?}");
}

#[test]
fn m_3_9_4_unexpected_nat_in_ike_auth_retries_from_a_new_ike_sa_init() {
    // I1 is behind an address translator, I2 is not: the retry from I2
    // succeeds.
    let mut n = Net::with(&[I1, I2], &[R1], no_natt(), no_natt());
    n.nat = Some(Nat::basic(&[I1], NAT_EXT));
    n.connect();
    n.run(3 * SEC);
    let inits: Vec<Msg> = n
        .messages()
        .into_iter()
        .filter(|m| m.exchange() == ExchangeType::IKE_SA_INIT && m.is_request())
        .collect();
    let spis: BTreeSet<u64> = inits.iter().map(|m| m.header.spi_i).collect();
    assert_eq!(spis.len(), 2, "a new IKE SA (new SPIi): {}", trace(&n));
    let retry = inits
        .iter()
        .find(|m| m.header.spi_i != inits[0].header.spi_i)
        .unwrap();
    assert_eq!(retry.src.ip(), ip(I2));
    let up =
        n.i.snapshots()
            .into_iter()
            .find(|s| s.state == SaState::Established)
            .expect("the retry got through");
    assert_eq!(up.local.ip(), ip(I2));
    // With every address translated, it retries as often as a request is
    // retransmitted and then stops.
    let mut n = Net::with(&[I1], &[R1], no_natt(), no_natt());
    n.nat = Some(Nat::basic(&[I1], NAT_EXT));
    n.connect();
    n.run(10 * SEC);
    let spis: BTreeSet<u64> = n
        .messages()
        .iter()
        .filter(|m| m.exchange() == ExchangeType::IKE_SA_INIT && m.is_request())
        .map(|m| m.header.spi_i)
        .collect();
    assert_eq!(
        spis.len(),
        1 + Settings::default().retransmit_tries as usize
    );
    assert!(n.i.established().is_empty());
}

#[test]
fn m_3_9_5_no_nats_allowed_contents_only_compared() {
    let mut n = Net::with(&[I1, I2], &[R1], no_natt(), no_natt());
    n.connect();
    n.run(SEC);
    n.nat = Some(Nat::basic(&[I2], NAT_EXT));
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 30 * SEC);
    let r = n.snap(Role::Responder);
    assert_eq!(
        (r.remote.ip(), r.ipsec_remote.map(|a| a.ip())),
        (ip(I1), Some(ip(I1)))
    );
    assert!(
        !n.log
            .iter()
            .any(|s| s.from == Some(Role::Responder) && s.dst.ip() == ip(I2)),
        "nothing sent to the address inside NO_NATS_ALLOWED"
    );
}
