//! What a front end on a real network needs of the endpoint beyond the
//! simulator: randomness with a 256-bit seed or from a secure generator,
//! and a liveness check started on demand.

mod common;

use common::*;
use mobike_protocol::{Endpoint, Role, SEC, Spi};
use mobike_wire::registry::{ExchangeType, NotifyType};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The first IKE_SA_INIT request of an initiator built by `make`.
fn first_init(make: impl Fn() -> Endpoint) -> Vec<u8> {
    let mut ep = make();
    ep.connect(0, ip("203.0.113.1"));
    ep.poll_transmit().expect("IKE_SA_INIT").payload
}

fn initiator() -> mobike_protocol::EndpointConfig {
    config(Role::Initiator, "laptop.example", settings())
}

#[test]
fn a_256_bit_seed_makes_the_randomness_and_a_secure_generator_may_seed_it() {
    let addrs = || vec![ip("192.0.2.1")];
    let seeded = |seed: [u8; 32]| first_init(|| Endpoint::with_seed(initiator(), addrs(), seed));
    // Same seed, same bytes (SPI, nonce, key share); another seed, others.
    assert_eq!(seeded([7; 32]), seeded([7; 32]));
    assert_ne!(seeded([7; 32]), seeded([8; 32]));
    let mut last = [7; 32];
    last[31] = 8;
    assert_ne!(
        seeded([7; 32]),
        seeded(last),
        "every octet of the seed counts"
    );
    // From a generator: 32 octets of it are the seed.
    let from = |n: u64| {
        first_init(|| {
            let mut rng = ChaCha20Rng::seed_from_u64(n);
            Endpoint::from_rng(initiator(), addrs(), &mut rng)
        })
    };
    assert_eq!(from(1), from(1));
    assert_ne!(from(1), from(2));
    let mut seed = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut ChaCha20Rng::seed_from_u64(1), &mut seed);
    assert_eq!(from(1), seeded(seed));
    // The 64-bit seed of the simulator is another matter.
    assert_ne!(
        from(1),
        first_init(|| Endpoint::new(initiator(), addrs(), 1))
    );
}

/// A liveness check on demand: an INFORMATIONAL request with nothing to
/// say on the SA's path, answered; none for an SA that does not exist.
#[test]
fn a_liveness_check_can_be_started_now() {
    let mut n = Net::established(&["192.0.2.1"], &["203.0.113.1"]);
    let spi = n.i.established()[0];
    let before = n.messages().len();
    let at = n.now;
    assert!(n.i.check_liveness(at, spi));
    n.drain();
    n.run(at + SEC);
    let new: Vec<_> = n.messages().into_iter().skip(before).collect();
    let req = new
        .iter()
        .find(|m| m.exchange() == ExchangeType::INFORMATIONAL && m.is_request())
        .expect("a liveness check");
    assert_eq!((req.at, req.from), (at, Some(Role::Initiator)));
    // Empty but for NAT detection (the default watches for NATs in every
    // check, RFC 4555 §3.8).
    assert!(
        req.notifies().iter().all(|t| matches!(
            *t,
            NotifyType::NAT_DETECTION_SOURCE_IP | NotifyType::NAT_DETECTION_DESTINATION_IP
        )) && req.payloads.len() == req.notifies().len(),
        "{:?}",
        req.payloads
    );
    assert!(
        new.iter()
            .any(|m| m.exchange() == ExchangeType::INFORMATIONAL
                && m.is_response()
                && m.mid() == req.mid()),
        "answered"
    );
    assert!(!n.i.check_liveness(n.now, Spi(0x1234)));
}

/// The peer's identity, when one is configured, must be the one shown:
/// an AUTH that verifies for another identity is refused (RFC 7296
/// §2.15, §2.21.2) by either side.
#[test]
fn a_configured_peer_identity_is_checked_on_both_sides() {
    use mobike_protocol::{DeleteReason, EndpointConfig, Event};
    let with_peer_id = |role: Role, id: &str, peer: &str, addr: &str, seed: u64| {
        Endpoint::new(
            EndpointConfig {
                peer_id: Some(peer.into()),
                ..config(role, id, settings())
            },
            vec![ip(addr)],
            seed,
        )
    };
    let established = |n: &Net, role: Role| {
        n.events
            .iter()
            .any(|(_, r, e)| *r == role && matches!(e, Event::Established { .. }))
    };
    // The right one: as without a check.
    let mut n = Net::new(&["192.0.2.1"], &["203.0.113.1"]);
    n.i = with_peer_id(
        Role::Initiator,
        "laptop.example",
        "gw.example",
        "192.0.2.1",
        1,
    );
    n.r = with_peer_id(
        Role::Responder,
        "gw.example",
        "laptop.example",
        "203.0.113.1",
        2,
    );
    n.connect();
    n.run(SEC);
    assert!(established(&n, Role::Initiator) && established(&n, Role::Responder));
    // The initiator expects another gateway.
    let mut n = Net::new(&["192.0.2.1"], &["203.0.113.1"]);
    n.i = with_peer_id(
        Role::Initiator,
        "laptop.example",
        "vpn.example",
        "192.0.2.1",
        1,
    );
    n.connect();
    n.run(SEC);
    assert!(!established(&n, Role::Initiator));
    assert_eq!(
        n.deleted(Role::Initiator).map(|d| d.1),
        Some(DeleteReason::UnexpectedIdentity {
            expected: "vpn.example".into(),
            got: "gw.example".into()
        })
    );
    // The responder expects another client: AUTHENTICATION_FAILED.
    let mut n = Net::new(&["192.0.2.1"], &["203.0.113.1"]);
    n.r = with_peer_id(
        Role::Responder,
        "gw.example",
        "phone.example",
        "203.0.113.1",
        2,
    );
    n.connect();
    n.run(SEC);
    assert!(!established(&n, Role::Responder) && !established(&n, Role::Initiator));
    assert_eq!(
        n.deleted(Role::Responder).map(|d| d.1),
        Some(DeleteReason::UnexpectedIdentity {
            expected: "phone.example".into(),
            got: "laptop.example".into()
        })
    );
    assert_eq!(
        n.deleted(Role::Initiator).map(|d| d.1),
        Some(DeleteReason::AuthenticationFailed)
    );
}
