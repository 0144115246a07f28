//! Two endpoints over a tiny virtual network (quinn's `Pair`): addresses can
//! be black-holed or removed, time is virtual. Tests read like RFC 4555's
//! examples; ids refer to shared/spec/mobike-reference.md §2.14.

use mobike_protocol::{Endpoint, EndpointConfig, Event, MS, Role, SEC, Settings, Time};
use mobike_wire::message::{Message, decrypt};
use mobike_wire::registry::{ExchangeType, NotifyType};
use mobike_wire::udp::{UdpPayload, classify};
use mobike_wire::{Payload, crypto::IkeKeys};
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

const I1: &str = "192.0.2.10";
const I2: &str = "198.51.100.10";
const R1: &str = "203.0.113.10";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

struct Sent {
    at: Time,
    src: SocketAddr,
    dst: SocketAddr,
    payload: Vec<u8>,
    delivered: bool,
}

struct Pair {
    now: Time,
    i: Endpoint,
    r: Endpoint,
    /// Addresses whose packets vanish in both directions (a silent link failure).
    blackholed: BTreeSet<IpAddr>,
    /// A basic NAT (address translator) in front of the initiator:
    /// (inside address, outside address).
    translate: Option<(IpAddr, IpAddr)>,
    delay: Time,
    in_flight: Vec<(Time, SocketAddr, SocketAddr, Vec<u8>)>,
    log: Vec<Sent>,
    events: Vec<(Time, Role, Event)>,
    keys: Option<IkeKeys>,
}

fn config(role: Role, id: &str) -> EndpointConfig {
    EndpointConfig {
        role,
        id: id.into(),
        psk: b"playground-psk".to_vec(),
        settings: Settings {
            liveness_interval: Some(5 * SEC),
            ..Settings::default()
        },
    }
}

impl Pair {
    fn new() -> Pair {
        Pair::with(Settings::default(), Settings::default(), &[I1, I2], &[R1])
    }

    /// Endpoints with these settings (liveness every 5 s) and addresses.
    fn with(i: Settings, r: Settings, i_addrs: &[&str], r_addrs: &[&str]) -> Pair {
        let cfg = |role, id: &str, mut s: Settings| {
            let mut c = config(role, id);
            s.liveness_interval = Some(5 * SEC);
            c.settings = s;
            c
        };
        Pair {
            now: 0,
            i: Endpoint::new(
                cfg(Role::Initiator, "laptop.example", i),
                i_addrs.iter().map(|a| ip(a)).collect(),
                1,
            ),
            r: Endpoint::new(
                cfg(Role::Responder, "gw.example", r),
                r_addrs.iter().map(|a| ip(a)).collect(),
                2,
            ),
            translate: None,
            blackholed: BTreeSet::new(),
            delay: 10 * MS,
            in_flight: Vec::new(),
            log: Vec::new(),
            events: Vec::new(),
            keys: None,
        }
    }

    fn drain(&mut self) {
        for (role, ep) in [
            (Role::Initiator, &mut self.i),
            (Role::Responder, &mut self.r),
        ] {
            while let Some(t) = ep.poll_transmit() {
                let delivered = !self.blackholed.contains(&t.src.ip())
                    && !self.blackholed.contains(&t.dst.ip());
                if delivered {
                    self.in_flight
                        .push((self.now + self.delay, t.src, t.dst, t.payload.clone()));
                }
                self.log.push(Sent {
                    at: self.now,
                    src: t.src,
                    dst: t.dst,
                    payload: t.payload,
                    delivered,
                });
            }
            while let Some(e) = ep.poll_event() {
                if let Event::KeysDerived { keys, .. } = &e {
                    self.keys = Some(keys.clone());
                }
                self.events.push((self.now, role, e));
            }
        }
    }

    /// Runs until `until`, delivering packets and firing timers in time order.
    fn run(&mut self, until: Time) {
        self.drain();
        loop {
            let next_pkt = self.in_flight.iter().map(|p| p.0).min();
            let next_timer = [self.i.poll_timeout(), self.r.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let next = [next_pkt, next_timer].into_iter().flatten().min();
            let Some(t) = next.filter(|t| *t <= until) else {
                break;
            };
            self.now = t;
            if next_pkt == Some(t) {
                let idx = self.in_flight.iter().position(|p| p.0 == t).unwrap();
                let (_, mut src, mut dst, payload) = self.in_flight.remove(idx);
                if let Some((inside, outside)) = self.translate {
                    if src.ip() == inside {
                        src = SocketAddr::new(outside, src.port());
                    }
                    if dst.ip() == outside {
                        dst = SocketAddr::new(inside, dst.port());
                    }
                }
                let to_i = self.i.local_addresses().contains(&dst.ip());
                let ep = if to_i { &mut self.i } else { &mut self.r };
                ep.handle_datagram(t, src, dst, &payload);
            } else {
                self.i.handle_timeout(t);
                self.r.handle_timeout(t);
            }
            self.drain();
        }
        self.now = until;
    }

    /// Decrypted IKE messages in send order.
    fn messages(&self) -> Vec<Msg> {
        let keys = self.keys.as_ref().unwrap();
        self.log
            .iter()
            .filter_map(|s| {
                let UdpPayload::Ike(b) = classify(&s.payload, s.src.port(), s.dst.port()) else {
                    return None;
                };
                let m = Message::parse(b).unwrap();
                let inner = if m.header.exchange == ExchangeType::IKE_SA_INIT {
                    m.payloads.clone()
                } else {
                    let key = if m.header.flags.initiator() {
                        &keys.sk_ei
                    } else {
                        &keys.sk_er
                    };
                    decrypt(b, key).unwrap()
                };
                Some((
                    s.at,
                    s.src,
                    s.dst,
                    m.header.exchange,
                    m.header.message_id,
                    m.header.flags.response(),
                    inner,
                    s.delivered,
                ))
            })
            .collect()
    }

    fn snap_i(&self) -> mobike_protocol::SaSnapshot {
        self.i.snapshots().remove(0)
    }
    fn snap_r(&self) -> mobike_protocol::SaSnapshot {
        self.r.snapshots().remove(0)
    }
}

/// One IKE message as sent: (time, src, dst, exchange, mid, response,
/// payloads (decrypted when protected), delivered).
type Msg = (
    Time,
    SocketAddr,
    SocketAddr,
    ExchangeType,
    u32,
    bool,
    Vec<Payload>,
    bool,
);

fn has(p: &[Payload], kind: NotifyType) -> bool {
    mobike_wire::message::has_notify(p, kind)
}

fn established() -> Pair {
    let mut p = Pair::new();
    p.i.connect(0, ip(R1));
    p.run(SEC);
    p
}

#[test]
fn initial_exchanges_negotiate_mobike_and_float_to_4500() {
    let p = established();
    let msgs = p.messages();
    assert_eq!(
        msgs.len(),
        4,
        "IKE_SA_INIT and IKE_AUTH, request and response each"
    );
    // IKE_SA_INIT on 500 with NAT-D (I-2.23-6).
    assert_eq!(msgs[0].3, ExchangeType::IKE_SA_INIT);
    assert_eq!(msgs[0].1.port(), 500);
    assert!(has(&msgs[0].6, NotifyType::NAT_DETECTION_SOURCE_IP));
    assert!(has(&msgs[1].6, NotifyType::NAT_DETECTION_DESTINATION_IP));
    // M-3.3-1: IKE_AUTH moves to 4500:4500 with no NAT in the path.
    assert_eq!((msgs[2].1.port(), msgs[2].2.port()), (4500, 4500));
    assert_eq!(
        &p.log[2].payload[..4],
        &[0, 0, 0, 0],
        "U-2.2-1 non-ESP marker"
    );
    // M-3.2-1, M-3.4-1: MOBIKE_SUPPORTED and the additional address.
    assert!(has(&msgs[2].6, NotifyType::MOBIKE_SUPPORTED));
    assert!(
        msgs[2]
            .6
            .iter()
            .any(|p| p.as_notify().and_then(|n| n.address()) == Some(ip(I2)))
    );
    assert!(has(&msgs[3].6, NotifyType::MOBIKE_SUPPORTED));
    assert!(has(&msgs[3].6, NotifyType::NO_ADDITIONAL_ADDRESSES));
    let (i, r) = (p.snap_i(), p.snap_r());
    assert!(i.mobike && r.mobike);
    assert_eq!(i.peer_addresses, vec![ip(R1)]);
    assert_eq!(
        r.peer_addresses,
        vec![ip(I1), ip(I2)],
        "B-3.4-1: stored, nothing else"
    );
    assert_eq!(r.ipsec_remote, Some(SocketAddr::new(ip(I1), 4500)));
    assert!(!i.local_behind_nat && !i.peer_behind_nat);
}

#[test]
fn announced_address_loss_runs_update_sa_addresses_with_return_routability() {
    // RFC 4555 §2.2 example E1: the initiator's address changes I1 -> I2.
    let mut p = established();
    let n_before = p.messages().len();
    p.i.handle_local_addresses(p.now, vec![ip(I2)]);
    p.run(2 * SEC);
    let msgs = p.messages()[n_before..].to_vec();
    // 5: UPDATE from I2 with NAT-D and COOKIE2 (E1 line 5, E4).
    let upd = &msgs[0];
    assert_eq!(upd.1, SocketAddr::new(ip(I2), 4500));
    assert_eq!(upd.3, ExchangeType::INFORMATIONAL);
    assert!(!upd.5);
    for k in [
        NotifyType::UPDATE_SA_ADDRESSES,
        NotifyType::NAT_DETECTION_SOURCE_IP,
        NotifyType::NAT_DETECTION_DESTINATION_IP,
        NotifyType::COOKIE2,
    ] {
        assert!(has(&upd.6, k), "update lacks {k}");
    }
    // 6: response echoes COOKIE2 (M-3.7-5) and carries NAT-D (M-3.8-2).
    let resp = &msgs[1];
    assert!(resp.5 && resp.4 == upd.4);
    let c_req = mobike_wire::message::notify_data(&upd.6, NotifyType::COOKIE2).unwrap();
    let c_resp = mobike_wire::message::notify_data(&resp.6, NotifyType::COOKIE2).unwrap();
    assert_eq!(c_req, c_resp);
    assert!(has(&resp.6, NotifyType::NAT_DETECTION_DESTINATION_IP));
    // 7-8: the responder's own return routability check (M-3.7-1), MID 0 of its own.
    let rr = &msgs[2];
    assert!(!rr.5 && rr.4 == 0 && has(&rr.6, NotifyType::COOKIE2));
    assert_eq!(rr.2, SocketAddr::new(ip(I2), 4500));
    assert!(msgs[3].5 && has(&msgs[3].6, NotifyType::COOKIE2));
    let (i, r) = (p.snap_i(), p.snap_r());
    assert_eq!(i.ipsec_local, Some(SocketAddr::new(ip(I2), 4500)));
    assert_eq!(r.ipsec_remote, Some(SocketAddr::new(ip(I2), 4500)));
    assert_eq!(r.remote, SocketAddr::new(ip(I2), 4500), "B-3.5-10");
    assert!(!i.pending_update);
}

#[test]
fn silent_failure_found_by_liveness_check_then_path_test_then_update() {
    let mut p = established();
    p.blackholed.insert(ip(I1));
    p.run(30 * SEC);
    let msgs = p.messages();
    // A liveness check (an INFORMATIONAL without UPDATE) goes out first.
    let first_info = msgs
        .iter()
        .position(|m| m.3 == ExchangeType::INFORMATIONAL)
        .unwrap();
    assert!(!has(&msgs[first_info].6, NotifyType::UPDATE_SA_ADDRESSES));
    // Its retransmissions are bitwise identical (I-2.1-7), some over I2.
    let mid = msgs[first_info].4;
    let copies: Vec<&Sent> = p.log.iter().filter(|s| {
        matches!(classify(&s.payload, s.src.port(), s.dst.port()), UdpPayload::Ike(b) if Message::parse(b).map(|m| m.header.message_id == mid && !m.header.flags.response() && m.header.exchange == ExchangeType::INFORMATIONAL).unwrap_or(false))
    }).collect();
    assert!(copies.len() >= 3);
    assert!(copies.iter().all(|c| c.payload == copies[0].payload));
    assert!(
        copies.iter().any(|c| c.src.ip() == ip(I2)),
        "path test over I2"
    );
    // Then a new UPDATE_SA_ADDRESSES from I2 with COOKIE2 (B-3.7-1).
    let upd = msgs
        .iter()
        .find(|m| has(&m.6, NotifyType::UPDATE_SA_ADDRESSES))
        .unwrap();
    assert_eq!(upd.1.ip(), ip(I2));
    assert!(upd.4 > mid);
    assert!(has(&upd.6, NotifyType::COOKIE2));
    let (i, r) = (p.snap_i(), p.snap_r());
    assert_eq!(i.local, SocketAddr::new(ip(I2), 4500));
    assert_eq!(r.ipsec_remote, Some(SocketAddr::new(ip(I2), 4500)));
    assert_eq!(i.state, r.state);
}

#[test]
fn all_paths_dead_gives_up_after_the_retransmission_limit() {
    let mut p = established();
    p.blackholed.insert(ip(R1));
    p.run(200 * SEC);
    let deleted = p
        .events
        .iter()
        .any(|(_, role, e)| *role == Role::Initiator && matches!(e, Event::Deleted { .. }));
    assert!(deleted, "I-2.1-6: the IKE SA is deleted");
    // I-2.4-2: the gaps between sends of one request grow.
    let mut sends: Vec<Time> = p.log.iter().filter(|s| s.at > SEC).map(|s| s.at).collect();
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
    let mut p = established();
    // Flip a ciphertext bit of a fresh liveness check on its way.
    p.run(6 * SEC);
    let last = p.log.iter().rev().find(|s| s.src.ip() == ip(I1)).unwrap();
    let mut bad = last.payload.clone();
    let n = bad.len();
    bad[n - 20] ^= 0x40;
    p.r.handle_datagram(p.now, last.src, last.dst, &bad);
    p.drain();
    assert!(p.events.iter().any(|(_, role, e)| *role == Role::Responder
        && matches!(e, Event::Rejected { reason, .. } if reason.contains("ICV") || reason.contains("message ID"))));
}

#[test]
fn same_seed_same_bytes() {
    let a = established();
    let b = established();
    let bytes = |p: &Pair| p.log.iter().map(|s| s.payload.clone()).collect::<Vec<_>>();
    assert_eq!(bytes(&a), bytes(&b));
}

#[test]
fn esp_carries_data_both_ways_and_rejects_replays() {
    use mobike_protocol::IpProtocol;
    let mut p = established();
    let ping = mobike_wire::ip::Ping {
        src: "10.99.0.2".parse().unwrap(),
        dst: "10.1.0.1".parse().unwrap(),
        reply: false,
        ident: 1,
        seq: 1,
    };
    assert!(p.i.send_data(p.now, &ping.to_packet()));
    let t = p.i.poll_transmit().unwrap();
    // No NAT: plain ESP (IP protocol 50) even though IKE runs on 4500.
    assert_eq!(t.protocol, IpProtocol::Esp);
    assert_eq!((t.src.ip(), t.dst.ip()), (ip(I1), ip(R1)));
    p.r.handle_esp(p.now, t.src, t.dst, &t.payload);
    let inner = p.r.poll_data().expect("decrypted at the responder");
    assert_eq!(mobike_wire::ip::Ping::parse(&inner).unwrap(), ping);
    // The same packet again is a replay (RFC 4303 §3.4.3).
    p.r.handle_esp(p.now, t.src, t.dst, &t.payload);
    assert!(p.r.poll_data().is_none());
    let mut rejected = false;
    while let Some(e) = p.r.poll_event() {
        rejected |= matches!(e, Event::Rejected { reason, .. } if reason.contains("replayed"));
    }
    assert!(rejected);
    // And back.
    assert!(p.r.send_data(p.now, &ping.reply().to_packet()));
    let t = p.r.poll_transmit().unwrap();
    p.i.handle_esp(p.now, t.src, t.dst, &t.payload);
    assert!(
        mobike_wire::ip::Ping::parse(&p.i.poll_data().unwrap())
            .unwrap()
            .reply
    );
}

fn notes(p: &Pair, role: Role) -> Vec<String> {
    p.events
        .iter()
        .filter(|(_, r, _)| *r == role)
        .filter_map(|(_, _, e)| match e {
            Event::Note { text, rule, .. } => Some(format!("{text} [{rule}]")),
            Event::Deleted { reason, .. } => Some(format!("deleted: {reason}")),
            _ => None,
        })
        .collect()
}

#[test]
fn m_3_1_1_ike_sa_init_retransmitted_from_another_source_with_the_same_octets() {
    let mut p = Pair::new();
    p.blackholed.insert(ip(I1));
    p.i.connect(0, ip(R1));
    p.run(5 * SEC);
    let inits: Vec<&Sent> = p
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
    let (i, r) = (p.snap_i(), p.snap_r());
    assert_eq!(i.state, mobike_protocol::SaState::Established);
    assert!(!r.peer_behind_nat && !i.local_behind_nat);
    // B-3.3-1: the IKE SA runs from the source that worked.
    assert_eq!(r.remote.ip(), ip(I2));
}

#[test]
fn m_3_9_no_nats_allowed_finds_a_translator_and_nothing_moves() {
    let no_natt = Settings {
        nat_traversal: false,
        ..Settings::default()
    };
    let mut p = Pair::with(no_natt.clone(), no_natt, &[I1, I2], &[R1]);
    p.i.connect(0, ip(R1));
    p.run(SEC);
    let msgs = p.messages();
    assert!(!has(&msgs[0].6, NotifyType::NAT_DETECTION_SOURCE_IP));
    // M-3.9-1: in the first IKE_AUTH request.
    assert!(has(&msgs[2].6, NotifyType::NO_NATS_ALLOWED));
    assert_eq!(msgs[2].1.port(), 500, "no NAT-T: IKE stays on port 500");
    // A translator appears in front of I2, and the laptop moves there.
    p.translate = Some((ip(I2), "198.51.100.99".parse().unwrap()));
    let before = p.messages().len();
    p.i.handle_local_addresses(p.now, vec![ip(I2)]);
    p.run(20 * SEC);
    let msgs = p.messages()[before..].to_vec();
    let upd = &msgs[0];
    assert!(
        has(&upd.6, NotifyType::UPDATE_SA_ADDRESSES) && has(&upd.6, NotifyType::NO_NATS_ALLOWED)
    );
    // M-3.9-2: UNEXPECTED_NAT_DETECTED, sent to the translated source.
    let resp = &msgs[1];
    assert!(resp.5 && has(&resp.6, NotifyType::UNEXPECTED_NAT_DETECTED));
    assert_eq!(resp.2.ip(), "198.51.100.99".parse::<IpAddr>().unwrap());
    // M-3.9-3: retried with new requests.
    let retries: Vec<u32> = msgs
        .iter()
        .filter(|m| !m.5 && has(&m.6, NotifyType::UPDATE_SA_ADDRESSES))
        .map(|m| m.4)
        .collect();
    assert!(
        retries.len() >= 3 && retries.windows(2).all(|w| w[1] > w[0]),
        "{retries:?}"
    );
    // The responder never moved (M-3.9-5).
    assert_eq!(p.snap_r().remote.ip(), ip(I1));
    assert!(
        notes(&p, Role::Responder)
            .iter()
            .any(|n| n.contains("M-3.9-2"))
    );
}

#[test]
fn b_3_5_9_unacceptable_addresses_and_m_3_5_2_fallback() {
    let refuse = Settings {
        refuse_addresses: vec![ip(I2)],
        ..Settings::default()
    };
    let mut p = Pair::with(Settings::default(), refuse, &[I1, I2], &[R1]);
    p.i.connect(0, ip(R1));
    p.run(SEC);
    // The laptop tries I2 (say, a path test chose it), the gateway refuses.
    p.i.handle_local_addresses(p.now, vec![ip(I2), ip(I1)]);
    let before = p.messages().len();
    // Force a move to I2 as a lower layer would.
    p.i.handle_local_addresses(p.now, vec![ip(I2)]);
    p.i.handle_local_addresses(p.now, vec![ip(I2), ip(I1)]);
    p.run(5 * SEC);
    let msgs = p.messages()[before..].to_vec();
    let resp = msgs
        .iter()
        .find(|m| m.5 && has(&m.6, NotifyType::UNACCEPTABLE_ADDRESSES))
        .expect("UNACCEPTABLE_ADDRESSES response");
    assert!(has(&resp.6, NotifyType::COOKIE2), "COOKIE2 still echoed");
    let (i, r) = (p.snap_i(), p.snap_r());
    assert_eq!(r.remote.ip(), ip(I1), "responder unchanged");
    assert_eq!(i.local.ip(), ip(I1), "M-3.5-2: back to the old addresses");
    assert_eq!(i.ipsec_local.map(|a| a.ip()), Some(ip(I1)));
}

fn responder_moves(policy: mobike_protocol::ListPolicy) -> Pair {
    let i = Settings {
        list_policy: policy,
        ..Settings::default()
    };
    let mut p = Pair::with(i, Settings::default(), &[I1], &[R1, "203.0.113.20"]);
    p.i.connect(0, ip(R1));
    p.run(SEC);
    assert_eq!(p.snap_i().peer_addresses, vec![ip(R1), ip("203.0.113.20")]);
    // The gateway loses R1 (a cluster moving the client away from it).
    p.r.handle_local_addresses(p.now, vec![ip("203.0.113.20")]);
    p.run(4 * SEC);
    p
}

#[test]
fn responder_address_change_is_announced_from_the_new_address() {
    let p = responder_moves(mobike_protocol::ListPolicy::Strict);
    let r2: IpAddr = ip("203.0.113.20");
    let msgs = p.messages();
    let list = msgs
        .iter()
        .find(|m| !m.5 && m.1.ip() == r2 && has(&m.6, NotifyType::NO_ADDITIONAL_ADDRESSES))
        .expect("B-3.6-3: the list update leaves from R2 with NO_ADDITIONAL_ADDRESSES");
    assert_eq!(
        list.4, 0,
        "the responder's first own request has message ID 0"
    );
    // Strict: the initiator runs its own UPDATE_SA_ADDRESSES towards R2.
    let upd = msgs
        .iter()
        .find(|m| !m.5 && has(&m.6, NotifyType::UPDATE_SA_ADDRESSES))
        .expect("strict policy sends an update");
    assert_eq!(upd.2.ip(), r2);
    assert!(has(&upd.6, NotifyType::COOKIE2));
    let (i, r) = (p.snap_i(), p.snap_r());
    assert_eq!(i.remote.ip(), r2);
    assert_eq!(i.ipsec_remote.map(|a| a.ip()), Some(r2));
    assert_eq!(r.local.ip(), r2);
    assert_eq!(i.peer_addresses, vec![r2]);
}

#[test]
fn follow_policy_moves_at_once_without_an_update() {
    let p = responder_moves(mobike_protocol::ListPolicy::Follow);
    let r2: IpAddr = ip("203.0.113.20");
    assert!(
        !p.messages()
            .iter()
            .any(|m| has(&m.6, NotifyType::UPDATE_SA_ADDRESSES)),
        "follow: no update of its own"
    );
    let i = p.snap_i();
    assert_eq!(i.remote.ip(), r2);
    assert_eq!(i.ipsec_remote.map(|a| a.ip()), Some(r2));
    assert!(
        notes(&p, Role::Initiator)
            .iter()
            .any(|n| n.contains("policy follow"))
    );
}

/// Issue 4, "events and snapshots": a move reads as a story in the event
/// stream — the path change, pending_update set, the UPDATE request with its
/// COOKIE2 and retransmission timer, its answer, pending_update cleared, the
/// IPsec SAs following — and the snapshot shows the same state at each step.
#[test]
fn a_move_is_told_by_events_in_order_and_mirrored_by_snapshots() {
    let mut p = established();
    let start = p.events.len();
    p.i.handle_local_addresses(p.now, vec![ip(I2)]);
    let s = p.i.snapshots().remove(0);
    // Steps 1 and 5 of §3.5 happen in one go here (the window is free):
    // pending_update was set and is already cleared by the UPDATE going out.
    assert!(!s.pending_update);
    assert_eq!(
        s.outstanding.as_ref().map(|o| o.what.as_str()),
        Some("UPDATE_SA_ADDRESSES")
    );
    assert!(s.cookie2_outstanding.is_some());
    p.run(p.now + SEC);
    let evs: Vec<Event> = p.events[start..]
        .iter()
        .filter(|(_, r, _)| *r == Role::Initiator)
        .map(|(_, _, e)| e.clone())
        .collect();
    let pos = |f: &dyn Fn(&Event) -> bool| evs.iter().position(f).expect("event");
    let path = pos(&|e| matches!(e, Event::IkePathChanged { .. }));
    let pending = pos(&|e| matches!(e, Event::PendingUpdate { pending: true, .. }));
    let sent = pos(&|e| {
        matches!(e, Event::RequestSent { what, cookie2: Some(_), retransmission: 0, .. }
            if what == "UPDATE_SA_ADDRESSES")
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
    let s = p.i.snapshots().remove(0);
    assert!(!s.pending_update && s.outstanding.is_none() && s.cookie2_outstanding.is_none());
    assert_eq!(s.in_flight, 0);
}
