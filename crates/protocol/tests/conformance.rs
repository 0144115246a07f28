//! Conformance tests for the checklist of shared/spec/mobike-reference.md
//! §2.14. Every test name starts with the checklist id in snake case
//! (`m_3_7_5_…` is M-3.7-5) and asserts what the checklist's "Obs" column
//! says can be observed: datagrams with their addresses and ports, octets,
//! decrypted payloads (with the keys from `Event::KeysDerived`), snapshots and
//! events. docs/conformance.md maps every id to its tests, or says what is
//!
//! The harness (tests/common/mod.rs) is the `Pair` of tests/pair.rs grown
//! with one-way cuts, a NAT box, per-datagram rules (drop, delay,
//! duplicate, rewrite) and injection.

mod common;

use common::*;
use mobike_protocol::{Event, IpProtocol, MS, Retransmit, Role, SEC, SaState, Settings, Time};
use mobike_wire::crypto::nat_detection_hash;
use mobike_wire::header::{Flags, Header};
use mobike_wire::message::Message;
use mobike_wire::notify::NotifyData;
use mobike_wire::payload::{Delete, Notify};
use mobike_wire::registry::{ExchangeType, NotifyType};
use mobike_wire::udp::frame_ike;
use mobike_wire::{Payload, PayloadType as PT};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

const INFO: ExchangeType = ExchangeType::INFORMATIONAL;

// ------------------------------------------------------------------ helpers

/// The IKE SA's SPIs, from the IKE_AUTH request.
fn spis(n: &Net) -> (u64, u64) {
    let m = n
        .messages()
        .into_iter()
        .find(|m| m.exchange() == ExchangeType::IKE_AUTH)
        .expect("IKE_AUTH");
    (m.header.spi_i, m.header.spi_r)
}

fn natd(n: &Net, addr: SocketAddr) -> Vec<u8> {
    let (i, r) = spis(n);
    nat_detection_hash(i, r, addr).to_vec()
}

fn updates(msgs: &[Msg]) -> Vec<Msg> {
    msgs.iter()
        .filter(|m| m.is_request() && m.has(NotifyType::UPDATE_SA_ADDRESSES))
        .cloned()
        .collect()
}

/// The response (sent by the other side) to `req`, first copy.
fn response_to<'a>(msgs: &'a [Msg], req: &Msg) -> Option<&'a Msg> {
    msgs.iter().find(|m| {
        m.is_response()
            && m.mid() == req.mid()
            && m.exchange() == req.exchange()
            && m.from.is_some()
            && m.from != req.from
    })
}

/// Requests the responder originated (its own message IDs).
fn responder_requests(msgs: &[Msg]) -> Vec<Msg> {
    msgs.iter()
        .filter(|m| m.from == Some(Role::Responder) && m.is_request())
        .cloned()
        .collect()
}

/// Every response must go to the address:port the request came from, and
/// leave from the address:port it arrived on (RFC 7296 §2.11): a copy of
/// the request must have arrived at the responding side at that very time
/// with mirrored addresses. Returns the violations.
fn response_path_violations(n: &Net) -> Vec<String> {
    let msgs = n.messages();
    let mut bad = Vec::new();
    for resp in msgs.iter().filter(|m| m.is_response() && m.from.is_some()) {
        let me = resp.from.unwrap();
        let ok = msgs
            .iter()
            .filter(|q| q.is_request() && q.mid() == resp.mid() && q.exchange() == resp.exchange())
            .flat_map(|q| q.arrivals.iter())
            .any(|a| a.to == me && a.at == resp.at && a.src == resp.dst && a.dst == resp.src);
        if !ok {
            bad.push(format!(
                "{me:?} response {} mid {} at {} {} -> {} has no matching request arrival",
                resp.exchange(),
                resp.mid(),
                resp.at,
                resp.src,
                resp.dst
            ));
        }
    }
    bad
}

/// The initiator's addresses become `keep`; the network runs `secs` more
/// seconds.
/// Returns the net and the number of messages before the change.
fn moved(i_addrs: &[&str], r_addrs: &[&str], keep: &[&str], secs: Time) -> (Net, usize) {
    let mut n = Net::established(i_addrs, r_addrs);
    let before = n.messages().len();
    n.i.handle_local_addresses(n.now, keep.iter().map(|a| ip(a)).collect());
    n.run(n.now + secs * SEC);
    (n, before)
}

/// The initiator behind a NAT box from the start (IPRIV -> NAT_EXT:40000...).
fn behind_nat(si: Settings, sr: Settings) -> Net {
    let mut n = Net::with(&[IPRIV], &[R1], si, sr);
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 40000));
    n.connect();
    n.run(SEC);
    n
}

fn no_liveness() -> Settings {
    Settings {
        liveness_interval: None,
        ..settings()
    }
}

fn no_natt() -> Settings {
    Settings {
        nat_traversal: false,
        ..settings()
    }
}

/// The initiator moves I1 -> I2 (at ~5.34 s) while a liveness check is
/// outstanding (its response was lost on the way back).
/// Returns the net right after the move and the time of the move.
fn busy_move() -> (Net, Time) {
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.cut.insert((ip(R1), ip(I1)));
    assert!(n.run_until(10 * SEC, |n| {
        n.log
            .iter()
            .any(|s| s.from == Some(Role::Initiator) && s.at > SEC)
    }));
    n.run(n.now + 300 * MS);
    let t = n.now;
    n.i.handle_local_addresses(t, vec![ip(I2)]);
    n.drain();
    (n, t)
}

// ============================================================ RFC 4555 §3.1

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

// ============================================================ RFC 4555 §3.2

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

// ============================================================ RFC 4555 §3.3

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
    n.add_rule(|d, _| {
        if d.from == Role::Initiator && d.is_request(ExchangeType::IKE_AUTH) {
            d.src = sa(I2, d.src.port());
        }
        Fate::Pass
    });
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

// ============================================================ RFC 4555 §3.4

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

// ============================================================ RFC 4555 §3.5

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
    n.drop_nth(0, |d| {
        d.from == Role::Responder && d.is_response(INFO) && d.dst.ip() == ip(I2)
    });
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
    n.drop_nth(0, |d| d.from == Role::Responder && d.is_request(INFO));
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
        Event::Note { rule, .. } if rule.contains("B-3.5-14")
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

// ============================================================ RFC 4555 §3.6

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

// ============================================================ RFC 4555 §3.7

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
    n.add_rule(|d, _| {
        if d.from == Role::Initiator && d.is_response(INFO) {
            Fate::Delay(500 * MS)
        } else {
            Fate::Pass
        }
    });
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
    n.drop_nth(0, |d| d.from == Role::Responder && d.is_response(INFO));
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
    for p in &mut inner {
        if let Payload::Notify(nt) = p
            && nt.kind == NotifyType::COOKIE2
        {
            alter(&mut nt.data);
        }
    }
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
    assert!(reason.contains("COOKIE2"), "{reason}");
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
    n.add_rule(|d, keys| {
        if d.from == Role::Initiator && d.is_response(INFO) {
            let keys = keys.unwrap();
            let h = d.ike().unwrap();
            let mut inner = d.inner(Some(keys)).unwrap();
            for p in &mut inner {
                if let Payload::Notify(nt) = p
                    && nt.kind == NotifyType::COOKIE2
                {
                    nt.data[0] ^= 1;
                }
            }
            d.payload = forge(keys, Role::Initiator, h, &inner, [0xEF; 8], 4500, 4500);
        }
        Fate::Pass
    });
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 3 * SEC);
    let (_, reason) = n.deleted(Role::Responder).expect("responder closes");
    assert!(reason.contains("COOKIE2"), "{reason}");
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

// ========================================================== RFC 4555 §4.2.5

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

// ============================================================ RFC 4555 §3.8

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

// ============================================================ RFC 4555 §3.9

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

// ========================================================== RFC 4555 §4.2.1

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
    n.add_rule(|d, keys| {
        if d.ike()
            .is_some_and(|h| h.exchange == ExchangeType::IKE_AUTH)
        {
            let keys = keys.unwrap();
            let h = d.ike().unwrap();
            let mut inner = d.inner(Some(keys)).unwrap();
            for p in &mut inner {
                if let Payload::Notify(nt) = p
                    && nt.kind == NotifyType::MOBIKE_SUPPORTED
                {
                    nt.data = vec![1, 2, 3, 4];
                }
            }
            let (sp, dp) = (d.src.port(), d.dst.port());
            d.payload = forge(keys, d.from, h, &inner, [0xE0; 8], sp, dp);
        }
        Fate::Pass
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

// ====================================================== RFC 7296 §2.1, §2.2

#[test]
fn i_2_1_1_response_resent_only_when_a_request_copy_arrives() {
    let mut n = Net::established(&[I1], &[R1]);
    n.drop_nth(0, |d| d.from == Role::Responder && d.is_response(INFO));
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
    n.add_rule(|d, _| {
        if d.from == Role::Initiator && d.is_request(INFO) {
            Fate::Twice(5 * MS)
        } else {
            Fate::Pass
        }
    });
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
    n.inject(sa(I2, 4500), sa(R1, 4500), frame_ike(&live.ike, 4500, 4500));
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
    n.drop_nth(0, |d| d.from == Role::Responder && d.is_response(INFO));
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
    n.inject(old.src, old.dst, frame_ike(&old.ike, 4500, 4500));
    n.run(n.now + SEC);
    assert!(
        !n.log[sent..]
            .iter()
            .any(|s| s.from == Some(Role::Responder)),
        "{}",
        trace(&n)
    );
    assert!(n.events_of(Role::Responder).iter().any(|(t, e)| *t > old.at
        && matches!(e, Event::Rejected { reason, .. } if reason.contains("message ID"))));
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

#[test]
fn i_2_2_1_retransmission_keeps_the_message_id_new_requests_count_up() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    n.drop_nth(0, |d| d.from == Role::Responder && d.is_response(INFO));
    n.drop_nth(1, |d| d.from == Role::Initiator && d.is_request(INFO));
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

// ================================================================ RFC 7296 §2.3

#[test]
fn i_2_3_1_window_of_one_during_the_initial_exchanges() {
    let mut n = Net::new(&[I1, I2], &[R1]);
    n.drop_nth(0, |d| d.is_response(ExchangeType::IKE_AUTH));
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
fn i_2_3_4_request_answered_while_own_request_is_outstanding() {
    let mut n = Net::established(&[I1, I2], &[R1]);
    // The UPDATE's answer is lost once: the initiator still waits for it
    // when the responder's own request arrives.
    n.drop_nth(0, |d| d.from == Role::Responder && d.is_response(INFO));
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
    n.drop_nth(0, |d| d.from == Role::Responder && d.is_response(INFO));
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
    n.drop_nth(0, |d| d.from == Role::Responder && d.is_response(INFO));
    n.drop_nth(0, |d| d.from == Role::Initiator && d.is_request(INFO));
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
    let (spi_i, spi_r) = spis(&n);
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

// ================================================================ RFC 7296 §2.4

#[test]
fn i_2_4_1_unprotected_messages_never_end_the_sa() {
    let mut n = Net::established(&[I1], &[R1]);
    let (spi_i, spi_r) = spis(&n);
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
        frame_ike(&Message::emit_plain(hdr(2, true, false), &bad), 4500, 4500),
    );
    n.inject(
        sa(R1, 4500),
        sa(I1, 4500),
        frame_ike(&Message::emit_plain(hdr(0, false, false), &bad), 4500, 4500),
    );
    let mut auth_fail = hdr(1, false, true);
    auth_fail.exchange = ExchangeType::IKE_AUTH;
    n.inject(
        sa(R1, 4500),
        sa(I1, 4500),
        frame_ike(&Message::emit_plain(auth_fail, &bad[1..]), 4500, 4500),
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
    for (rt, ratio) in [
        (Retransmit::default(), 2.0),
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
            retransmit: rt,
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

// =============================================================== RFC 7296 §2.11

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

// =============================================================== RFC 7296 §2.23

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

// ======================================================================= RFC 3948

#[test]
fn u_2_1_1_encapsulated_esp_uses_the_ike_ports_and_a_nonzero_spi() {
    let mut n = behind_nat(settings(), settings());
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    for _ in 0..3 {
        let e = n.send_data(Role::Initiator).unwrap();
        assert_eq!((e.src, e.dst), (i.local, i.remote));
        assert_ne!(&e.payload[..4], &[0, 0, 0, 0]);
        let e = n.send_data(Role::Responder).unwrap();
        assert_eq!((e.src, e.dst), (r.local, r.remote));
        assert_ne!(&e.payload[..4], &[0, 0, 0, 0]);
    }
    n.run(n.now + SEC);
    assert_eq!((n.data_i.len(), n.data_r.len()), (3, 3));
}

#[test]
fn u_2_2_1_non_esp_marker_before_ike_on_4500_only() {
    let mut n = Net::established(&[I1, IPRIV], &[R1]);
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 40000));
    n.run(6 * SEC);
    n.i.handle_local_addresses(n.now, vec![ip(IPRIV)]);
    n.run(12 * SEC);
    let (spi_i, _) = spis(&n);
    let mut seen = (0, 0);
    for s in n
        .log
        .iter()
        .filter(|s| s.protocol == IpProtocol::Udp && !s.is_keepalive())
    {
        let on_4500 = s.src.port() == 4500 || s.dst.port() == 4500;
        if s.is_esp() {
            continue;
        }
        if on_4500 {
            assert_eq!(&s.payload[..4], &[0, 0, 0, 0]);
            assert_eq!(&s.payload[4..12], &spi_i.to_be_bytes());
            seen.0 += 1;
        } else {
            assert_eq!(&s.payload[..8], &spi_i.to_be_bytes());
            seen.1 += 1;
        }
    }
    assert!(seen.0 >= 6 && seen.1 == 2, "{seen:?}");
}

#[test]
fn u_2_2_1_without_nat_t_a_move_keeps_ike_on_port_500_without_marker() {
    let mut n = Net::with(&[I1, I2], &[R1], no_natt(), no_natt());
    n.connect();
    n.run(SEC);
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(3 * SEC);
    for s in n.log.iter().filter(|s| s.ike_bytes().is_some()) {
        let ports = (s.src.port(), s.dst.port());
        // Fails here: (4500, 500) for the UPDATE.
        assert_eq!(ports, (500, 500), "{}", trace(&n));
        assert_ne!(&s.payload[..4], &[0, 0, 0, 0]);
    }
}

#[test]
fn u_2_3_1_keepalive_is_one_octet_0xff_on_the_esp_ports_and_ignored() {
    let mut n = behind_nat(no_liveness(), no_liveness());
    let i = n.snap(Role::Initiator);
    n.run(25 * SEC);
    let ka: Vec<Sent> = n.log.iter().filter(|s| s.is_keepalive()).cloned().collect();
    assert!(!ka.is_empty());
    for k in &ka {
        assert_eq!(k.payload, vec![0xFF]);
        assert_eq!((k.src, k.dst), (i.local, i.remote), "same ports as UDP-ESP");
        assert!(k.delivered());
    }
    // The responder ignores them: no event, nothing sent.
    let t = ka[0].arrivals[0].at;
    assert!(
        !n.events
            .iter()
            .any(|(at, r, _)| *at == t && *r == Role::Responder)
    );
    assert!(
        !n.log
            .iter()
            .any(|s| s.at == t && s.from == Some(Role::Responder))
    );
}

#[test]
fn u_4_1_keepalives_are_no_liveness_evidence() {
    let mut n = Net::established(&[I1], &[R1]);
    n.blackholed.insert(ip(R1));
    // Only keepalives from the responder get through.
    let mut t = n.now;
    while t < 120 * SEC {
        t += SEC;
        n.run(t);
        n.inject(sa(R1, 4500), sa(I1, 4500), vec![0xFF]);
    }
    n.run(130 * SEC);
    let live = n
        .sent_by(Role::Initiator)
        .into_iter()
        .find(|m| m.info())
        .expect("liveness check despite keepalives");
    assert!(live.at >= 5 * SEC && live.at < 6 * SEC, "{}", live.at);
    assert!(
        n.deleted(Role::Initiator).is_some(),
        "keepalives kept a dead SA alive"
    );
}

#[test]
fn u_4_2_keepalive_only_after_the_idle_interval() {
    let mut n = behind_nat(no_liveness(), no_liveness());
    n.run(61 * SEC);
    let from_i: Vec<&Sent> = n
        .log
        .iter()
        .filter(|s| s.from == Some(Role::Initiator))
        .collect();
    let ka = from_i.iter().filter(|s| s.is_keepalive()).count();
    assert!(ka >= 2, "idle 60 s behind a NAT: {ka}");
    for w in from_i.windows(2) {
        if w[1].is_keepalive() {
            assert!(w[1].at - w[0].at >= 20 * SEC, "sent after a pause of 20 s");
        }
    }
    // With traffic every 5 s (liveness checks), no keepalive is needed.
    let mut n = behind_nat(settings(), settings());
    n.run(61 * SEC);
    assert!(!n.log.iter().any(|s| s.is_keepalive()));
}

// ===================================== hints, path testing, IPsec addresses

fn initiator_requests_since(n: &Net, before: usize) -> Vec<Msg> {
    n.messages()[before..]
        .iter()
        .filter(|m| m.from == Some(Role::Initiator) && m.is_request())
        .cloned()
        .collect()
}

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
fn m_3_10_1_path_testing_while_the_current_path_works() {
    let s = Settings {
        path_test_interval: Some(3 * SEC),
        liveness_interval: None,
        ..settings()
    };
    let mut n = Net::with(&[I1, I2], &[R1, R2], s, settings());
    n.connect();
    n.run(5 * SEC);
    let msgs = n.messages();
    let test = msgs
        .iter()
        .find(|m| m.from == Some(Role::Initiator) && m.info() && m.is_request())
        .expect("a path test");
    let pairs: BTreeSet<(SocketAddr, SocketAddr)> = msgs
        .iter()
        .filter(|m| m.ike == test.ike)
        .map(|m| (m.src, m.dst))
        .collect();
    assert_eq!(pairs.len(), 4, "every address pair: {pairs:?}");
    assert!(!test.has(NotifyType::UPDATE_SA_ADDRESSES));
    let i = n.snap(Role::Initiator);
    assert_eq!((i.local, i.remote), (sa(I1, 4500), sa(R1, 4500)), "no move");
    assert!(updates(&msgs).is_empty());
}

#[test]
fn m_3_12_1_esp_from_unexpected_addresses_is_flagged() {
    let mut n = Net::established(&[I1], &[R1, R2]);
    n.add_rule(|d, _| {
        if d.from == Role::Responder && d.protocol == IpProtocol::Esp {
            d.src = SocketAddr::new(ip(R2), d.src.port());
        }
        Fate::Pass
    });
    n.send_data(Role::Responder).unwrap();
    n.send_data(Role::Responder).unwrap();
    n.run(n.now + SEC);
    assert_eq!(n.data_i.len(), 2, "still delivered");
    let flagged: Vec<String> = n
        .events_of(Role::Initiator)
        .into_iter()
        .filter_map(|(_, e)| match e {
            Event::Note { text, rule, .. } if rule.contains("M-3.12-1") => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(flagged.len(), 1, "noted once per address pair: {flagged:?}");
    assert!(flagged[0].contains(R2));
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
    n.add_rule(|d, _| {
        if d.from == Role::Responder && d.protocol == IpProtocol::Esp {
            d.src = SocketAddr::new(ip(R2), d.src.port());
        }
        Fate::Pass
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
        1 + Settings::default().retransmit.tries as usize
    );
    assert!(n.i.established().is_empty());
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
    let noted = n
        .events_of(Role::Responder)
        .into_iter()
        .any(|(_, e)| matches!(e, Event::Note { rule, .. } if rule.contains("I-2.23-11")));
    assert!(noted);
    // The host behind the NAT does not follow anything.
    assert_eq!(n.snap(Role::Initiator).remote, sa(R1, 4500));
    // With MOBIKE the same rebinding moves nothing until an UPDATE (M-3.8-6).
    let mut n = behind_nat(settings(), settings());
    n.nat.as_mut().unwrap().reboot(50000);
    let followed = n.run_until(n.now + 20 * SEC, |n| {
        n.events_of(Role::Responder)
            .into_iter()
            .any(|(_, e)| matches!(e, Event::Note { rule, .. } if rule.contains("I-2.23-11")))
    });
    assert!(!followed);
}

// ================================================================ window > 1

fn windowed() -> Settings {
    Settings {
        window_size: 2,
        ..settings()
    }
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

/// Initiator datagrams carrying IKE message ID `mid` are late by 300 ms.
fn delay_mid(n: &mut Net, mid: u32) {
    n.add_rule(move |d, _| match d.ike() {
        Some(h) if d.from == Role::Initiator && h.message_id == mid && !h.flags.response() => {
            Fate::Delay(300 * MS)
        }
        _ => Fate::Pass,
    });
}

#[test]
fn b_3_5_8_older_update_after_a_newer_one_is_answered_without_action() {
    let mut n = Net::with(&[I1, I2, I3], &[R1], windowed(), windowed());
    n.connect();
    n.run(SEC);
    delay_mid(&mut n, 2);
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
    let noted = n
        .events_of(Role::Responder)
        .into_iter()
        .any(|(_, e)| matches!(e, Event::Note { rule, .. } if rule.contains("B-3.5-8")));
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
fn b_3_6_2_older_address_list_after_a_newer_one_is_ignored() {
    let mut n = Net::with(&[I1], &[R1], windowed(), windowed());
    n.connect();
    n.run(SEC);
    delay_mid(&mut n, 2);
    n.i.handle_local_addresses(n.now, vec![ip(I1), ip(I2)]);
    n.i.handle_local_addresses(n.now, vec![ip(I1), ip(I3)]);
    n.drain();
    n.run(n.now + 2 * SEC);
    assert_eq!(n.snap(Role::Responder).peer_addresses, vec![ip(I1), ip(I3)]);
    let noted = n
        .events_of(Role::Responder)
        .into_iter()
        .any(|(_, e)| matches!(e, Event::Note { rule, .. } if rule.contains("B-3.6-2")));
    assert!(noted, "{}", trace(&n));
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
    assert!(
        n.deleted(Role::Initiator)
            .is_some_and(|(_, why)| why.contains("a new IKE_SA_INIT to 203.0.113.20"))
    );
}
