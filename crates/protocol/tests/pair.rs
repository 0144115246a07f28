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
        Pair {
            now: 0,
            i: Endpoint::new(
                config(Role::Initiator, "laptop.example"),
                vec![ip(I1), ip(I2)],
                1,
            ),
            r: Endpoint::new(config(Role::Responder, "gw.example"), vec![ip(R1)], 2),
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
                let (_, src, dst, payload) = self.in_flight.remove(idx);
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
