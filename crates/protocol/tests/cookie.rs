//! A responder under load (RFC 7296 §2.6): with `cookie_threshold`
//! half-open IKE SAs it answers a new IKE_SA_INIT with N(COOKIE) and keeps
//! nothing; the initiator sends IKE_SA_INIT again with the COOKIE first
//! (every other payload as before) and the IKE SA is set up, AUTH signing
//! the new octets. `half_open_limit` drops what is beyond it. A flood of
//! IKE_SA_INITs from addresses that never answer leaves at most the
//! threshold of half-open SAs, and a real peer still gets through.

use mobike_protocol::{Endpoint, EndpointConfig, Event, Rejection, Role, SaState, Settings};
use mobike_wire::message::Message;
use mobike_wire::registry::{ExchangeType, NotifyType};
use mobike_wire::udp::{IKE_PORT, UdpPayload, classify};
use std::net::{IpAddr, SocketAddr};

const R: &str = "203.0.113.10";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn endpoint(role: Role, addr: &str, settings: Settings, seed: u64) -> Endpoint {
    let config = EndpointConfig {
        role,
        id: format!("{addr}.example"),
        psk: b"cookie".to_vec(),
        peer_id: None,
        settings,
    };
    Endpoint::new(config, vec![ip(addr)], seed)
}

/// The IKE_SA_INIT messages (parsed) a list of datagrams holds, in order.
fn inits(sent: &[(SocketAddr, SocketAddr, Vec<u8>)]) -> Vec<Message> {
    sent.iter()
        .filter_map(|(_, dst, p)| match classify(p, dst.port()) {
            UdpPayload::Ike(b) => Message::parse(b).ok(),
            _ => None,
        })
        .filter(|m| m.header.exchange == ExchangeType::IKE_SA_INIT)
        .collect()
}

/// Runs `i` against `r` on a perfect network until nothing is in flight;
/// returns every datagram sent.
fn run(i: &mut Endpoint, r: &mut Endpoint) -> Vec<(SocketAddr, SocketAddr, Vec<u8>)> {
    let mut sent = Vec::new();
    for _ in 0..50 {
        let mut any = false;
        while let Some(t) = i.poll_transmit() {
            r.handle_datagram(0, t.src, t.dst, &t.payload);
            sent.push((t.src, t.dst, t.payload));
            any = true;
        }
        while let Some(t) = r.poll_transmit() {
            i.handle_datagram(0, t.src, t.dst, &t.payload);
            sent.push((t.src, t.dst, t.payload));
            any = true;
        }
        if !any {
            break;
        }
    }
    sent
}

fn rejections(e: &mut Endpoint) -> Vec<Rejection> {
    let mut out = Vec::new();
    while let Some(ev) = e.poll_event() {
        if let Event::Rejected { reason, .. } = ev {
            out.push(*reason);
        }
    }
    out
}

#[test]
fn under_load_the_responder_asks_for_a_cookie_and_the_initiator_returns_it() {
    let loaded = Settings {
        cookie_threshold: Some(0),
        ..Settings::default()
    };
    let mut i = endpoint(Role::Initiator, "192.0.2.10", Settings::default(), 1);
    let mut r = endpoint(Role::Responder, R, loaded, 2);
    i.connect(0, ip(R));
    let sent = run(&mut i, &mut r);
    let m = inits(&sent);
    assert_eq!(m.len(), 4, "request, N(COOKIE), request with it, response");
    // The responder's first answer: SPIr zero and N(COOKIE) alone.
    assert!(m[1].header.flags.response());
    assert_eq!(m[1].header.spi_r, 0);
    assert_eq!(
        m[1].notifies().map(|n| n.kind).collect::<Vec<_>>(),
        [NotifyType::COOKIE]
    );
    let cookie = m[1].notifies().next().unwrap().data.clone();
    // The retry: the COOKIE first, then every payload of the first request.
    let retry = &m[2];
    assert_eq!(retry.header.spi_i, m[0].header.spi_i);
    let first = retry.payloads[0].as_notify().expect("a notify first");
    assert_eq!((first.kind, &first.data), (NotifyType::COOKIE, &cookie));
    assert_eq!(retry.payloads[1..], m[0].payloads[..]);
    assert_ne!(m[3].header.spi_r, 0, "the retry made the IKE SA");
    assert_eq!(i.established().len(), 1, "AUTH signed the retried request");
    assert_eq!(r.established().len(), 1);
    let refused = rejections(&mut r);
    assert!(
        matches!(
            refused[..],
            [Rejection::CookieRequired { wrong: false, .. }]
        ),
        "{refused:?}"
    );
}

#[test]
fn without_load_there_is_no_cookie() {
    let mut i = endpoint(Role::Initiator, "192.0.2.10", Settings::default(), 1);
    let mut r = endpoint(Role::Responder, R, Settings::default(), 2);
    i.connect(0, ip(R));
    let m = inits(&run(&mut i, &mut r));
    assert_eq!(m.len(), 2);
    assert!(
        m.iter()
            .all(|m| m.notifies().all(|n| n.kind != NotifyType::COOKIE))
    );
}

/// IKE_SA_INITs from `n` addresses that never answer (their responses go
/// nowhere), then a real initiator.
fn flood(settings: Settings, n: usize) -> (Endpoint, Endpoint, Vec<Rejection>) {
    let mut r = endpoint(Role::Responder, R, settings, 2);
    let dst = SocketAddr::new(ip(R), IKE_PORT);
    for k in 0..n {
        let addr = format!("198.18.{}.{}", k / 200, k % 200 + 1);
        let mut fake = endpoint(Role::Initiator, &addr, Settings::default(), 100 + k as u64);
        fake.connect(0, ip(R));
        while let Some(t) = fake.poll_transmit() {
            r.handle_datagram(0, t.src, dst, &t.payload);
        }
        while r.poll_transmit().is_some() {}
    }
    let refused = rejections(&mut r);
    let mut i = endpoint(Role::Initiator, "192.0.2.10", Settings::default(), 1);
    i.connect(0, ip(R));
    run(&mut i, &mut r);
    (r, i, refused)
}

fn half_open(e: &Endpoint) -> usize {
    e.snapshots()
        .iter()
        .filter(|s| s.state == SaState::InitDone)
        .count()
}

#[test]
fn a_flood_leaves_at_most_the_threshold_half_open_and_a_real_peer_gets_through() {
    let (r, i, refused) = flood(
        Settings {
            cookie_threshold: Some(5),
            ..Settings::default()
        },
        300,
    );
    assert_eq!(half_open(&r), 5, "only the first five made state");
    let cookies = refused
        .iter()
        .filter(|x| matches!(x, Rejection::CookieRequired { .. }))
        .count();
    assert_eq!(cookies, 295);
    assert_eq!(
        i.established().len(),
        1,
        "the real peer returned its cookie"
    );
    // Without the threshold every request makes state.
    let (r, _, _) = flood(Settings::default(), 300);
    assert_eq!(half_open(&r), 300);
}

#[test]
fn beyond_the_half_open_limit_a_request_is_dropped() {
    let (r, i, refused) = flood(
        Settings {
            half_open_limit: Some(10),
            ..Settings::default()
        },
        30,
    );
    assert_eq!(half_open(&r), 10);
    assert_eq!(
        refused
            .iter()
            .filter(|x| matches!(x, Rejection::HalfOpenLimit { limit: 10 }))
            .count(),
        20
    );
    assert_eq!(
        i.established().len(),
        0,
        "the limit holds for a real peer too"
    );
}
