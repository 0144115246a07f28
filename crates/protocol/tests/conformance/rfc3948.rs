//! RFC 3948: UDP encapsulation of ESP, the non-ESP marker and NAT-keepalives.

use crate::common::*;
use crate::helpers::*;
use mobike_protocol::{IpProtocol, Role, SEC};

// ============================================================= RFC 3948 §2.1

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

// ============================================================= RFC 3948 §2.2

#[test]
fn u_2_2_1_non_esp_marker_before_ike_on_4500_only() {
    let mut n = Net::established(&[I1, IPRIV], &[R1]);
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 40000));
    n.run(6 * SEC);
    n.i.handle_local_addresses(n.now, vec![ip(IPRIV)]);
    n.run(12 * SEC);
    let (spi_i, _) = ike_sa_spis(&n);
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

// ============================================================= RFC 3948 §2.3

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

// =============================================================== RFC 3948 §4

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
