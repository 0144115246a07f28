//! Attacks on MOBIKE's address updates (RFC 4555 §5, RFC 7296 §2.1) and how
//! each one fails. Every test names the mechanism that stops the attack in
//! its doc comment and assertion messages; checklist ids from
//! shared/spec/mobike-reference.md §2.14 lead the test name where one
//! applies.
//!
//! Attackers are off-path hosts that see and inject datagrams but do not
//! know the IKE SA's keys (they seal with [`wrong_key`]), except in the
//! third-party bombing tests, where the attacker is the authenticated
//! initiator itself (it holds SK_ei and seals with it).

mod common;

use common::*;
use mobike_protocol::{
    Cookie2Exchange, DeleteReason, Event, MS, Rejection, Role, SEC, SaSnapshot, SaState, Settings,
    Time,
};
use mobike_wire::Payload;
use mobike_wire::WireError;
use mobike_wire::crypto::nat_detection_hash;
use mobike_wire::message::Message;
use mobike_wire::payload::Notify;
use mobike_wire::registry::{ExchangeType, NotifyType};
use mobike_wire::udp::frame_ike;
use std::net::{IpAddr, SocketAddr};

fn n(kind: NotifyType, data: Vec<u8>) -> Payload {
    Payload::Notify(Notify::new(kind, data))
}

/// The inner payloads of a credible UPDATE_SA_ADDRESSES from `src` to `dst`
/// (RFC 4555 §3.5 step 5): NAT-D that match the IP header, so nothing but
/// authentication can tell it from a real one.
fn update_payloads(spis: (u64, u64), src: SocketAddr, dst: SocketAddr) -> Vec<Payload> {
    vec![
        n(NotifyType::UPDATE_SA_ADDRESSES, vec![]),
        n(
            NotifyType::NAT_DETECTION_SOURCE_IP,
            nat_detection_hash(spis.0, spis.1, src).to_vec(),
        ),
        n(
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            nat_detection_hash(spis.0, spis.1, dst).to_vec(),
        ),
        n(NotifyType::COOKIE2, vec![0xC0; 16]),
    ]
}

/// The addresses an SA uses, for before/after comparisons.
fn paths(
    s: &SaSnapshot,
) -> (
    SocketAddr,
    SocketAddr,
    Option<SocketAddr>,
    Option<SocketAddr>,
) {
    (s.local, s.remote, s.ipsec_local, s.ipsec_remote)
}

/// Events of `role` from time `t` on.
fn events_since(net: &Net, role: Role, t: Time) -> Vec<Event> {
    net.events_of(role)
        .into_iter()
        .filter(|(at, _)| *at >= t)
        .map(|(_, e)| e)
        .collect()
}

/// Events that change where an SA sends (IKE or IPsec) or whom it believes
/// the peer to be.
fn moves(events: &[Event]) -> Vec<Event> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::IkePathChanged { .. }
                    | Event::IpsecPathChanged { .. }
                    | Event::PeerAddresses { .. }
            )
        })
        .cloned()
        .collect()
}

/// A request or response whose SK payload failed its integrity check.
fn bad_icv(r: &Rejection) -> bool {
    matches!(
        r,
        Rejection::Request {
            error: WireError::IcvMismatch,
            ..
        } | Rejection::Response {
            error: WireError::IcvMismatch,
            ..
        }
    )
}

/// A request with no SK payload at all (RFC 7296 §3.14).
fn unprotected(r: &Rejection) -> bool {
    matches!(
        r,
        Rejection::Request { error: WireError::Malformed(m), .. } if m.contains("without SK payload")
    )
}

/// The reasons of `role`'s Rejected events for datagrams from `src`, from
/// time `t` on.
fn rejections(net: &Net, role: Role, src: IpAddr, t: Time) -> Vec<Rejection> {
    events_since(net, role, t)
        .into_iter()
        .filter_map(|e| match e {
            Event::Rejected { src: s, reason, .. } if s.ip() == src => Some(*reason),
            _ => None,
        })
        .collect()
}

/// Datagrams `role` sent to `addr` from time `t` on.
fn sent_to_since(net: &Net, role: Role, addr: IpAddr, t: Time) -> Vec<Sent> {
    net.log
        .iter()
        .filter(|s| s.from == Some(role) && s.dst.ip() == addr && s.at >= t)
        .cloned()
        .collect()
}

// ============================== (a) unauthenticated UPDATE_SA_ADDRESSES

/// An off-path attacker at ATTACKER builds an INFORMATIONAL request with
/// UPDATE_SA_ADDRESSES for the responder's IKE SA (right SPIs, the very
/// message ID the responder expects next, NAT-D matching its own address)
/// and sends it from its own address. It cannot produce the SK payload's
/// integrity check value (RFC 7296 §3.14, RFC 5282): sealed with a key of
/// its own, with the real key's ICV altered, or with no SK payload at all,
/// the message is rejected before any MOBIKE processing, so the IKE SA
/// and IPsec SAs stay where they are (RFC 4555 §3.5 acts only on protected
/// requests, §5.1), the attacker gets no answer, and the message ID is not
/// used up: the initiator's next genuine request with that ID is answered.
/// With wrong SPIs, no IKE SA is even found.
#[test]
fn a_unauthenticated_update_sa_addresses_is_rejected_and_moves_nothing() {
    type Build = fn((u64, u64), u32, &Net) -> Vec<u8>;
    type Expect = fn(&Rejection) -> bool;
    let att = sa(ATTACKER, 4500);
    let r1 = sa(R1, 4500);
    let variants: [(&str, Build, Expect); 4] = [
        (
            "sealed with the attacker's own key",
            |spis, mid, _| {
                let h = request_header(spis, Role::Initiator, INFO, mid);
                let ike = Message::emit_encrypted(
                    h,
                    &update_payloads(spis, sa(ATTACKER, 4500), sa(R1, 4500)),
                    &wrong_key(),
                    [7; 8],
                )
                .unwrap();
                frame_ike(&ike, 4500)
            },
            bad_icv,
        ),
        (
            "sealed with the real key, then the ICV altered in flight",
            |spis, mid, net| {
                let h = request_header(spis, Role::Initiator, INFO, mid);
                let keys = net.keys.as_ref().unwrap();
                let mut d = forge(
                    keys,
                    Role::Initiator,
                    h,
                    &update_payloads(spis, sa(ATTACKER, 4500), sa(R1, 4500)),
                    [7; 8],
                    4500,
                    4500,
                );
                *d.last_mut().unwrap() ^= 0x80;
                d
            },
            bad_icv,
        ),
        (
            "unprotected: the notifies outside any SK payload",
            |spis, mid, _| {
                let h = request_header(spis, Role::Initiator, INFO, mid);
                let ike = Message::emit_plain(
                    h,
                    &update_payloads(spis, sa(ATTACKER, 4500), sa(R1, 4500)),
                );
                frame_ike(&ike, 4500)
            },
            unprotected,
        ),
        (
            "wrong SPIs (the attacker guessed them)",
            |spis, mid, _| {
                let wrong = (spis.0 ^ 0x5A5A, spis.1 ^ 0xA5A5);
                let h = request_header(wrong, Role::Initiator, INFO, mid);
                let ike = Message::emit_encrypted(
                    h,
                    &update_payloads(wrong, sa(ATTACKER, 4500), sa(R1, 4500)),
                    &wrong_key(),
                    [7; 8],
                )
                .unwrap();
                frame_ike(&ike, 4500)
            },
            |r| matches!(r, Rejection::UnknownSpis { .. }),
        ),
    ];
    for (what, build, expected) in variants {
        let mut net = Net::established(&[I1, I2], &[R1]);
        let spis = ike_sa_spis(&net);
        let mid = next_request_mid(&net, Role::Responder);
        let before = paths(&net.snap(Role::Responder));
        let t = net.now;
        let dgram = build(spis, mid, &net);
        net.inject(att, r1, dgram);
        net.run(t + 500 * MS);

        let reasons = rejections(&net, Role::Responder, ip(ATTACKER), t);
        assert!(
            reasons.iter().any(expected),
            "{what}: the responder must reject the forgery with the right reason; got {reasons:?}\n{}",
            trace(&net)
        );
        assert_eq!(
            paths(&net.snap(Role::Responder)),
            before,
            "{what}: the forgery failed authentication, so the responder's IKE and IPsec SAs keep their addresses"
        );
        assert!(
            moves(&events_since(&net, Role::Responder, t)).is_empty(),
            "{what}: no path or address-set change may follow an unauthenticated message"
        );
        assert!(
            sent_to_since(&net, Role::Responder, ip(ATTACKER), t).is_empty(),
            "{what}: an unauthenticated request gets no response and no return routability check"
        );
        // The forgery did not consume the message ID: the initiator's own
        // liveness check with that ID (at ~5 s) is answered normally.
        net.run(8 * SEC);
        let msgs = net.messages();
        let genuine = msgs
            .iter()
            .find(|m| m.from == Some(Role::Initiator) && m.info() && m.is_request())
            .expect("liveness check");
        assert_eq!(genuine.mid(), mid);
        assert!(
            msgs.iter().any(|m| m.from == Some(Role::Responder)
                && m.is_response()
                && m.mid() == mid
                && m.delivered()),
            "{what}: message ID {mid} must still be free for the real initiator\n{}",
            trace(&net)
        );
        for role in [Role::Initiator, Role::Responder] {
            assert_eq!(net.snap(role).state, SaState::Established, "{what}");
        }
        assert_eq!(net.snap(Role::Responder).remote, sa(I1, 4500), "{what}");
    }
}

/// Control for the test above: the very same request sealed with the real
/// SK_ei is taken (the IKE SA moves to the attacker's address). So the
/// forgeries fail only because they are not authenticated.
#[test]
fn a_control_the_same_update_with_the_real_key_is_acted_on() {
    let mut net = Net::established(&[I1, I2], &[R1]);
    let spis = ike_sa_spis(&net);
    let mid = next_request_mid(&net, Role::Responder);
    let keys = net.keys.clone().unwrap();
    let (att, r1) = (sa(ATTACKER, 4500), sa(R1, 4500));
    let d = forge(
        &keys,
        Role::Initiator,
        request_header(spis, Role::Initiator, INFO, mid),
        &update_payloads(spis, att, r1),
        [7; 8],
        4500,
        4500,
    );
    net.inject(att, r1, d);
    net.run(net.now + 500 * MS);
    assert_eq!(net.snap(Role::Responder).remote, att, "{}", trace(&net));
}

/// An attacker who knows the message ID the responder answered last sends
/// a header-only datagram with that ID and exchange type IKE_SA_INIT from
/// its own address. It is neither the bitwise copy of the request that was
/// answered nor protected, so RFC 7296 §2.1 (I-2.1-2: only a retransmitted
/// request triggers the cached response) says it must trigger nothing; a
/// response would let anyone reflect the responder's cached responses, as
/// often as they like, at any address they spoof.
#[test]
fn i_2_1_2_unauthenticated_copy_of_the_last_request_triggers_no_cached_response() {
    let mut net = Net::established(&[I1], &[R1]);
    net.run(6 * SEC); // one liveness exchange: message ID 2 answered
    let spis = ike_sa_spis(&net);
    let last = next_request_mid(&net, Role::Responder) - 1;
    assert_eq!(last, 2);
    let t = net.now;
    for exchange in [ExchangeType::IKE_SA_INIT, INFO] {
        let h = request_header(spis, Role::Initiator, exchange, last);
        let ike = Message::emit_plain(h, &[]);
        net.inject(sa(ATTACKER, 4500), sa(R1, 4500), frame_ike(&ike, 4500));
    }
    net.run(t + 500 * MS);
    let reflected = sent_to_since(&net, Role::Responder, ip(ATTACKER), t);
    assert!(
        reflected.is_empty(),
        "an unprotected datagram that is not the answered request must not make the responder \
         send its cached response (to a spoofable source): {} datagram(s), {} octets\n{}",
        reflected.len(),
        reflected.iter().map(|s| s.payload.len()).sum::<usize>(),
        trace(&net)
    );
    assert_eq!(
        rejections(&net, Role::Responder, ip(ATTACKER), t).len(),
        2,
        "both copies rejected with a reason"
    );
}

// ============================== (b) replayed UPDATE_SA_ADDRESSES

/// The initiator moved I1 -> I2 (UPDATE with message ID m), then back to I1
/// (UPDATE m+1), then a liveness exchange (m+2) ran. The attacker captured
/// the first UPDATE and replays it, bit for bit, later: from its own
/// address, and from I2 (the address the replayed request would move the SA
/// to). The message ID window has moved on and the response for m is
/// forgotten, so the request is ignored (RFC 7296 §2.1, I-2.1-5: a request
/// older than the window is never re-processed nor answered): no response,
/// the SA stays on I1, no return routability check towards the replayed
/// source, a Rejected event naming the message ID.
#[test]
fn i_2_1_5_replayed_update_after_the_window_moved_on_is_ignored() {
    let mut net = Net::established(&[I1, I2], &[R1]);
    net.i.handle_local_addresses(net.now, vec![ip(I2)]);
    net.run(net.now + 2 * SEC);
    assert_eq!(net.snap(Role::Responder).ipsec_remote, Some(sa(I2, 4500)));
    net.i.handle_local_addresses(net.now, vec![ip(I1)]);
    net.run(net.now + 8 * SEC);
    let msgs = net.messages();
    let ups: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.is_request() && m.has(NotifyType::UPDATE_SA_ADDRESSES))
        .collect();
    assert_eq!(ups.len(), 2, "{}", trace(&net));
    let captured = ups[0].clone();
    assert_eq!(captured.src, sa(I2, 4500));
    let expecting = next_request_mid(&net, Role::Responder);
    assert!(
        expecting >= captured.mid() + 3,
        "the window moved on past the captured request (m={}, now expecting {expecting})",
        captured.mid()
    );
    let before = paths(&net.snap(Role::Responder));
    assert_eq!(before.1, sa(I1, 4500));
    assert_eq!(before.3, Some(sa(I1, 4500)));

    let t = net.now;
    let bytes = frame_ike(&captured.ike, 4500);
    net.inject(sa(ATTACKER, 4500), sa(R1, 4500), bytes.clone());
    net.inject(sa(I2, 4500), sa(R1, 4500), bytes);
    net.run(t + 3 * SEC);

    for src in [ATTACKER, I2] {
        let reasons = rejections(&net, Role::Responder, ip(src), t);
        assert!(
            reasons
                .iter()
                .any(|r| matches!(r, Rejection::MessageId { got, .. } if *got == captured.mid())),
            "replay from {src}: rejected as outside the message ID window; got {reasons:?}\n{}",
            trace(&net)
        );
        assert!(
            sent_to_since(&net, Role::Responder, ip(src), t).is_empty(),
            "replay from {src}: the response for message ID {} was forgotten, nothing is rebuilt or sent (I-2.1-5)",
            captured.mid()
        );
    }
    assert_eq!(
        paths(&net.snap(Role::Responder)),
        before,
        "the replayed UPDATE_SA_ADDRESSES must not move the SA to its (spoofed) source"
    );
    assert!(moves(&events_since(&net, Role::Responder, t)).is_empty());
    assert!(net.send_data(Role::Responder).is_some());
    net.run(net.now + 100 * MS);
    assert_eq!(
        net.data_i.len(),
        1,
        "ESP from the responder still reaches the initiator on I1"
    );
}

/// The attacker replays the most recent UPDATE_SA_ADDRESSES (the window
/// has not moved on) from its own address, once while the responder's own
/// return routability check of I2 is still out and once after it. A
/// retransmitted request only makes the responder send its cached response
/// again, to where the copy came from (RFC 7296 §2.1 I-2.1-2, I-2.1-4,
/// §2.11 I-2.11-2): the attacker gets the identical octets, of the same size
/// as what it sent, and nothing else; the IKE SA stays on I2, the return
/// routability check is not moved to the attacker, and the IPsec SAs end on
/// I2 (where the check was answered), never on the attacker's address.
#[test]
fn i_2_1_2_replayed_latest_update_gets_only_the_cached_response() {
    let mut net = Net::with(&[I1, I2], &[R1], no_liveness(), settings());
    net.connect();
    net.run(SEC);
    net.i.handle_local_addresses(net.now, vec![ip(I2)]);
    // Until the responder has sent its return routability check.
    assert!(net.run_until(net.now + SEC, |n| {
        n.log
            .iter()
            .any(|s| s.from == Some(Role::Responder) && s.is_request(INFO))
    }));
    let msgs = net.messages();
    let upd = msgs
        .iter()
        .find(|m| m.is_request() && m.has(NotifyType::UPDATE_SA_ADDRESSES))
        .unwrap()
        .clone();
    let cached = msgs
        .iter()
        .find(|m| m.from == Some(Role::Responder) && m.is_response() && m.mid() == upd.mid())
        .unwrap()
        .ike
        .clone();
    let t = net.now;
    let replay = frame_ike(&upd.ike, 4500);
    net.inject(sa(ATTACKER, 4500), sa(R1, 4500), replay.clone());
    net.run(t + 2 * SEC);
    net.inject(sa(ATTACKER, 4500), sa(R1, 4500), replay.clone());
    net.run(net.now + 30 * SEC);

    let to_attacker = sent_to_since(&net, Role::Responder, ip(ATTACKER), t);
    assert_eq!(
        to_attacker.len(),
        2,
        "one cached response per replayed copy, nothing else\n{}",
        trace(&net)
    );
    for s in &to_attacker {
        assert_eq!(
            s.ike_bytes(),
            Some(cached.as_slice()),
            "the cached response, bit for bit (I-2.1-4), not a newly built one"
        );
        assert!(
            s.payload.len() <= replay.len() + 64,
            "no amplification worth the name: {} octets answer {} octets",
            s.payload.len(),
            replay.len()
        );
    }
    let r = net.snap(Role::Responder);
    assert_eq!(r.remote, sa(I2, 4500), "IKE SA not moved by the replay");
    assert_eq!(
        r.ipsec_remote,
        Some(sa(I2, 4500)),
        "IPsec SAs on the return-routability-checked address, not on the replay's source"
    );
    assert!(
        !events_since(&net, Role::Responder, t)
            .iter()
            .any(|e| matches!(
                e,
                Event::IkePathChanged { remote, .. } | Event::IpsecPathChanged { remote, .. }
                    if remote.ip() == ip(ATTACKER)
            )),
        "no move towards the attacker"
    );
    let rr_to_attacker = net
        .messages()
        .into_iter()
        .filter(|m| m.from == Some(Role::Responder) && m.is_request() && m.dst.ip() == ip(ATTACKER))
        .count();
    assert_eq!(
        rr_to_attacker, 0,
        "the return routability check stays on I2"
    );
}

// ============================== (c) forged address lists

/// An attacker sends forged address lists (RFC 4555 §3.6) to both peers:
/// to the responder an ADDITIONAL_IP4_ADDRESS naming itself, to the
/// initiator a NO_ADDITIONAL_ADDRESSES from its own address (a genuine one
/// would tell the initiator that the responder's current address is gone
/// and, with policy strict, make it move the IKE SA to the list's source
/// and run UPDATE_SA_ADDRESSES there). Sealed with a key of its own, or not
/// protected at all, the lists fail the integrity check and are not
/// adopted: the peer address sets, the IKE and IPsec paths stay as they
/// were, nothing is sent to the attacker. The control at the end shows the
/// same list, authenticated, is acted on.
#[test]
fn c_forged_address_lists_are_not_adopted() {
    let mut net = Net::established(&[I1, I2], &[R1, R2]);
    let spis = ike_sa_spis(&net);
    let i_before = net.snap(Role::Initiator);
    let r_before = net.snap(Role::Responder);
    assert_eq!(i_before.peer_addresses, vec![ip(R1), ip(R2)]);
    assert_eq!(r_before.peer_addresses, vec![ip(I1), ip(I2)]);
    let to_r = vec![
        Payload::Notify(Notify::additional_address(ip(ATTACKER))),
        n(NotifyType::COOKIE2, vec![1; 8]),
    ];
    let to_i = vec![n(NotifyType::NO_ADDITIONAL_ADDRESSES, vec![])];
    let r_mid = next_request_mid(&net, Role::Responder);
    let i_mid = next_request_mid(&net, Role::Initiator);
    let t = net.now;
    let (att, r1, i1) = (sa(ATTACKER, 4500), sa(R1, 4500), sa(I1, 4500));
    // Sealed with the attacker's key.
    let sealed = |h, inner: &[Payload]| {
        frame_ike(
            &Message::emit_encrypted(h, inner, &wrong_key(), [9; 8]).unwrap(),
            4500,
        )
    };
    net.inject(
        att,
        r1,
        sealed(request_header(spis, Role::Initiator, INFO, r_mid), &to_r),
    );
    net.inject(
        att,
        i1,
        sealed(request_header(spis, Role::Responder, INFO, i_mid), &to_i),
    );
    // Unprotected.
    let plain = |h, inner: &[Payload]| frame_ike(&Message::emit_plain(h, inner), 4500);
    net.inject(
        att,
        r1,
        plain(request_header(spis, Role::Initiator, INFO, r_mid), &to_r),
    );
    net.inject(
        att,
        i1,
        plain(request_header(spis, Role::Responder, INFO, i_mid), &to_i),
    );
    net.run(t + 3 * SEC);

    for (role, before) in [(Role::Initiator, &i_before), (Role::Responder, &r_before)] {
        let now = net.snap(role);
        assert_eq!(
            now.peer_addresses, before.peer_addresses,
            "{role:?}: a list that fails the integrity check is not adopted"
        );
        assert_eq!(
            paths(&now),
            paths(before),
            "{role:?}: no move on an unauthenticated list"
        );
        assert!(
            moves(&events_since(&net, role, t)).is_empty(),
            "{role:?}: no PeerAddresses / path events"
        );
        let reasons = rejections(&net, role, ip(ATTACKER), t);
        assert_eq!(
            reasons.len(),
            2,
            "{role:?}: both forgeries rejected with a reason: {reasons:?}"
        );
        assert!(reasons.iter().any(bad_icv), "{reasons:?}");
        assert!(reasons.iter().any(unprotected), "{reasons:?}");
        assert!(
            sent_to_since(&net, role, ip(ATTACKER), t).is_empty(),
            "{role:?}: nothing goes to the attacker (no response, no UPDATE_SA_ADDRESSES there)"
        );
    }
    // Control: the same list to the initiator, sealed with SK_er, is taken
    // (the initiator then moves and checks the new address itself).
    let keys = net.keys.clone().unwrap();
    let t = net.now;
    net.inject(
        att,
        i1,
        forge(
            &keys,
            Role::Responder,
            request_header(spis, Role::Responder, INFO, i_mid),
            &to_i,
            [9; 8],
            4500,
            4500,
        ),
    );
    net.run(t + 200 * MS);
    assert_eq!(
        net.snap(Role::Initiator).peer_addresses,
        vec![ip(ATTACKER)],
        "control: an authenticated list is adopted\n{}",
        trace(&net)
    );
}

// ============================== (d) tampered COOKIE2 in return routability

/// The initiator moves to I2; the responder checks I2 with its own COOKIE2
/// (RFC 4555 §3.7). The initiator's answer is replaced by one whose
/// COOKIE2 differs, properly sealed with SK_ei (only a party holding the
/// keys can do this: a misbehaving peer). The responder verifies the echo
/// (M-3.7-6), finds the mismatch and closes the IKE SA (M-3.7-7) before it
/// ever moves the IPsec SAs to I2 (M-3.7-3): until then its ESP goes to
/// I1, never to I2, and afterwards it sends nothing at all.
#[test]
fn m_3_7_7_tampered_cookie2_in_return_routability_answer_closes_sa_ipsec_never_moves() {
    let mut net = Net::established(&[I1, I2], &[R1]);
    // Hold the initiator's answer to the check back 50 ms, tampered.
    let answer = Match::response(INFO).from(Role::Initiator);
    net.rewrite(answer, |d, keys| {
        d.reseal(keys, [0xEF; 8], |inner| {
            edit_notify(inner, NotifyType::COOKIE2, |c| c[0] ^= 1)
        })
    });
    net.on(answer, Fate::Delay(50 * MS));
    let t = net.now;
    net.i.handle_local_addresses(t, vec![ip(I2)]);
    // The check is out; the answer is on its way.
    assert!(net.run_until(t + SEC, |n| {
        n.log
            .iter()
            .any(|s| s.from == Some(Role::Initiator) && s.at > t && s.is_response(INFO))
    }));
    let esp = net.send_data(Role::Responder).expect("SA still up");
    assert_eq!(
        esp.dst.ip(),
        ip(I1),
        "while the check is open the responder's ESP still goes to I1 (M-3.7-3)"
    );
    net.run(t + 5 * SEC);
    let (_, reason) = net
        .deleted(Role::Responder)
        .expect("the responder closes the IKE SA on the COOKIE2 mismatch (M-3.7-7)");
    assert_eq!(
        reason,
        DeleteReason::Cookie2Mismatch(Cookie2Exchange::ReturnRoutability)
    );
    assert!(
        !net.events_of(Role::Responder).iter().any(|(_, e)| matches!(
            e,
            Event::IpsecPathChanged { remote, .. } if remote.ip() == ip(I2)
        )),
        "the IPsec SAs never moved to the address whose check failed\n{}",
        trace(&net)
    );
    assert_eq!(
        sent_towards(&net, Role::Responder, ip(I2)).1,
        0,
        "no ESP ever went to I2"
    );
    assert_eq!(net.snap(Role::Responder).state, SaState::Deleted);
    assert!(net.send_data(Role::Responder).is_none(), "Child SA gone");
}

/// The same check, but the attacker is on path without keys: it flips one
/// bit of the COOKIE2 in the ciphertext of the initiator's answer (GCM is a
/// stream cipher, so this would flip the bit in the echoed COOKIE2). The
/// ICV no longer verifies, so the responder rejects the datagram without
/// looking at the COOKIE2: the SA is not closed (an unauthenticated message
/// never ends it, I-2.4-1) and the IPsec SAs do not move; they move only
/// when the responder's retransmitted check (answered from the initiator's
/// cache) brings back the genuine echo (M-3.7-6, B-3.5-12).
#[test]
fn m_3_7_6_cookie2_flipped_without_keys_fails_icv_and_ipsec_waits_for_genuine_echo() {
    let mut net = Net::established(&[I1, I2], &[R1]);
    net.rewrite(
        Match::response(INFO).from(Role::Initiator).nth(0),
        // Non-ESP marker 4, IKE header 28, SK header 4, IV 8, notify
        // header 8: the first COOKIE2 octet.
        |d, _| d.payload[52] ^= 0x01,
    );
    let t = net.now;
    net.i.handle_local_addresses(t, vec![ip(I2)]);
    net.run(t + 5 * SEC);
    let msgs = net.messages();
    let answers: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.from == Some(Role::Initiator) && m.is_response() && m.info())
        .collect();
    assert!(answers.len() >= 2, "{}", trace(&net));
    let tampered_at = net.log[answers[0].idx].arrivals[0].at;
    let genuine_at = net.log[answers[1].idx].arrivals[0].at;
    assert!(!answers[0].decrypted, "the flipped copy does not verify");
    assert!(
        rejections(&net, Role::Responder, ip(I2), t)
            .iter()
            .any(bad_icv),
        "the flipped answer is rejected for its ICV"
    );
    assert!(
        net.deleted(Role::Responder).is_none(),
        "an unauthenticated datagram must not close the SA (I-2.4-1)"
    );
    let ipsec_moved = net
        .events_of(Role::Responder)
        .iter()
        .find_map(|(at, e)| match e {
            Event::IpsecPathChanged { remote, .. } if remote.ip() == ip(I2) => Some(*at),
            _ => None,
        })
        .expect("the IPsec SAs move once the genuine echo arrives");
    assert!(ipsec_moved > tampered_at);
    assert_eq!(
        ipsec_moved, genuine_at,
        "the IPsec SAs move exactly when the genuine echo arrives"
    );
}

// ============================== (e) third-party bombing (RFC 4555 §5.2)

/// Interval of the responder's downstream stream (one ESP packet each).
const STREAM_EVERY: Time = 250 * MS;

/// An authenticated but malicious initiator (it holds SK_ei) has the
/// responder stream data to it, then claims VICTIM's address: it sends a
/// genuine UPDATE_SA_ADDRESSES with the spoofed source VICTIM:4500. The
/// stream runs for `secs` seconds. Returns the net and the time of the
/// forged update.
fn bombing(sr: Settings, secs: u64) -> (Net, Time) {
    let mut net = Net::with(&[I1], &[R1], no_liveness(), sr);
    net.connect();
    net.run(SEC);
    let spis = ike_sa_spis(&net);
    let keys = net.keys.clone().unwrap();
    let mid = next_request_mid(&net, Role::Responder);
    let victim = sa(VICTIM, 4500);
    let mut t_attack = 0;
    let end = net.now + secs * SEC;
    let mut k = 0;
    while net.now < end {
        if k == 8 {
            t_attack = net.now;
            net.inject(
                victim,
                sa(R1, 4500),
                forge(
                    &keys,
                    Role::Initiator,
                    request_header(spis, Role::Initiator, INFO, mid),
                    &update_payloads(spis, victim, sa(R1, 4500)),
                    [3; 8],
                    4500,
                    4500,
                ),
            );
        }
        net.send_data(Role::Responder);
        net.run(net.now + STREAM_EVERY);
        k += 1;
    }
    (net, t_attack)
}

/// RFC 4555 §5.2 / reference D11: with return routability on (the default,
/// M-3.7-1) the responder answers the spoofed UPDATE at VICTIM and checks
/// VICTIM with its own small COOKIE2 request, retransmitted on its (long,
/// M-3.11-1) schedule; it does not move the IPsec SAs there until the check
/// succeeds (M-3.7-3, B-3.5-12), and VICTIM never answers. So the victim
/// receives only a bounded number of small IKE messages (here 11 datagrams,
/// under 1 kB, over 17 minutes) and not one ESP packet of the stream; when
/// the check is given up the responder closes the attacker's IKE SA.
#[test]
fn m_3_7_1_third_party_bombing_victim_gets_only_small_rr_checks_no_esp() {
    let sr = settings();
    let tries = sr.responder_retransmit_tries as usize;
    let (net, t_attack) = bombing(sr, 1100);
    let (ike, esp, octets) = sent_towards(&net, Role::Responder, ip(VICTIM));
    let stream = net
        .log
        .iter()
        .filter(|s| s.from == Some(Role::Responder) && s.is_esp() && s.at > t_attack)
        .count();
    assert!(stream > 0);
    assert_eq!(
        esp,
        0,
        "return routability keeps the stream ({stream} ESP packets after the attack) away from the victim\n{}",
        trace(&net)
    );
    // One response to the spoofed UPDATE, the check and its retransmissions.
    assert!(
        ike <= 2 + tries,
        "the victim gets at most the UPDATE response and {} check copies, got {ike}",
        1 + tries
    );
    for s in net
        .log
        .iter()
        .filter(|s| s.from == Some(Role::Responder) && s.dst.ip() == ip(VICTIM))
    {
        assert!(
            s.payload.len() <= 160,
            "only small IKE messages reach the victim ({} octets)",
            s.payload.len()
        );
    }
    assert!(octets <= (2 + tries) * 160, "{octets} octets to the victim");
    assert!(
        !net.events_of(Role::Responder).iter().any(|(_, e)| matches!(
            e,
            Event::IpsecPathChanged { remote, .. } if remote.ip() == ip(VICTIM)
        )),
        "the IPsec SAs never point at the victim"
    );
    // Every ESP packet of the stream stayed on I1.
    assert!(
        net.log
            .iter()
            .filter(|s| s.from == Some(Role::Responder) && s.is_esp())
            .all(|s| s.dst.ip() == ip(I1))
    );
    // The check is never answered: the responder gives it up after its
    // retransmissions and closes the IKE SA (I-2.1-6); the attack ends there.
    let (closed, reason) = net
        .deleted(Role::Responder)
        .expect("the unanswered check ends the attacker's IKE SA");
    assert!(
        matches!(
            reason,
            DeleteReason::NoResponse {
                what: "return routability check",
                ..
            }
        ),
        "{reason}"
    );
    assert!(
        !net.log
            .iter()
            .any(|s| s.from == Some(Role::Responder) && s.dst.ip() == ip(VICTIM) && s.at >= closed),
        "nothing reaches the victim once the SA is closed"
    );
}

/// Control (M-3.7-2, return routability switched off): the same attack
/// moves the IPsec SAs to VICTIM at once and every ESP packet of the stream
/// after the spoofed update goes there. This is the flood the check above
/// prevents.
#[test]
fn m_3_7_2_without_return_routability_the_stream_floods_the_victim() {
    let sr = Settings {
        return_routability: false,
        ..settings()
    };
    let (net, t_attack) = bombing(sr, 30);
    let (_, esp, octets) = sent_towards(&net, Role::Responder, ip(VICTIM));
    let after = net
        .log
        .iter()
        .filter(|s| s.from == Some(Role::Responder) && s.is_esp() && s.at > t_attack + 20 * MS)
        .count();
    assert!(after > 50);
    assert_eq!(
        esp, after,
        "every stream packet after the spoofed update goes to the victim ({octets} octets)"
    );
}
