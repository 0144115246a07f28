//! The protocol endpoint fed arbitrary datagram sequences (state-machine
//! fuzzing): an initiator and a responder set up an IKE SA over a perfect
//! network, then each chunk of the input is either a datagram delivered to
//! one of them (to an IKE port of its address, from one of a few sources),
//! a genuine datagram they sent (replayed, possibly cut or with one octet
//! flipped), an address change, a rekey of the Child SA or the IKE SA, or
//! time passing. Both have two subnets behind the responder, so the IKE SA
//! carries two Child SAs. Nothing may panic, and
//! nothing grows without bound: each input makes at most a few datagrams
//! and SAs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mobike_protocol::{Endpoint, EndpointConfig, Role, Settings, Transmit};
use std::net::{IpAddr, SocketAddr};

const I: [&str; 2] = ["192.0.2.10", "198.51.100.10"];
const R: &str = "203.0.113.10";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn config(role: Role, id: &str) -> EndpointConfig {
    EndpointConfig {
        role,
        id: id.into(),
        psk: b"fuzz".to_vec(),
        peer_id: None,
        // Two Child SAs (a CREATE_CHILD_SA after IKE_AUTH), so the
        // datagrams replayed and flipped include one for another Child SA
        // with its traffic selectors.
        settings: Settings {
            child_subnets: ["10.1.0.0/24", "10.2.0.0/24"]
                .iter()
                .map(|s| mobike_protocol::Subnet::try_from(s.to_string()).unwrap())
                .collect(),
            ..Settings::default()
        },
    }
}

/// Delivers everything in flight between the two (a perfect network),
/// keeping a copy of each datagram; at most `limit` deliveries.
fn settle(i: &mut Endpoint, r: &mut Endpoint, now: u64, seen: &mut Vec<Transmit>, limit: usize) {
    for _ in 0..limit {
        let mut any = false;
        while let Some(t) = i.poll_transmit() {
            any = true;
            if t.payload.len() > 1 {
                r.handle_datagram(now, t.src, t.dst, &t.payload);
            }
            seen.push(t);
        }
        while let Some(t) = r.poll_transmit() {
            any = true;
            if t.payload.len() > 1 {
                i.handle_datagram(now, t.src, t.dst, &t.payload);
            }
            seen.push(t);
        }
        while i.poll_event().is_some() {}
        while r.poll_event().is_some() {}
        if !any {
            return;
        }
    }
}

/// The two endpoints with their IKE SA, set up once (an x25519 exchange
/// per input would make the target a hundred times slower) and cloned for
/// each input, with the datagrams that set it up.
fn established() -> &'static (Endpoint, Endpoint, Vec<Transmit>) {
    static SETUP: std::sync::OnceLock<(Endpoint, Endpoint, Vec<Transmit>)> = std::sync::OnceLock::new();
    SETUP.get_or_init(|| {
        let mut i = Endpoint::new(config(Role::Initiator, "i.example"), I.iter().map(|a| ip(a)).collect(), 1);
        let mut r = Endpoint::new(config(Role::Responder, "r.example"), vec![ip(R)], 2);
        let mut seen = Vec::new();
        i.connect(0, ip(R));
        settle(&mut i, &mut r, 0, &mut seen, 16);
        assert_eq!(i.established().len(), 1, "the harness sets up its IKE SA");
        (i, r, seen)
    })
}

fuzz_target!(|data: &[u8]| {
    let (i0, r0, seen0) = established();
    let (mut i, mut r, mut seen) = (i0.clone(), r0.clone(), seen0.clone());
    let mut now = 0u64;
    let mut chunks = data;
    let mut inputs = 0usize;
    while let Some((&op, rest)) = chunks.split_first() {
        let len = usize::from(*rest.first().unwrap_or(&0)).min(rest.len().saturating_sub(1));
        let body = rest.get(1..1 + len).unwrap_or(&[]);
        chunks = rest.get(1 + len..).unwrap_or(&[]);
        inputs += 1;
        let to_responder = op & 1 == 0;
        let port = if op & 2 == 0 { 500 } else { 4500 };
        let from = SocketAddr::new(ip(["192.0.2.10", "198.51.100.10", "198.18.0.9"][(op as usize >> 2) % 3]), [500, 4500, 61000][(op as usize >> 4) % 3]);
        match op >> 6 {
            0 => {
                // Arbitrary octets.
                let (ep, dst) = if to_responder {
                    (&mut r, SocketAddr::new(ip(R), port))
                } else {
                    (&mut i, SocketAddr::new(ip(I[0]), port))
                };
                let mut b = body.to_vec();
                if port == 4500 && op & 8 != 0 {
                    let mut marked = vec![0, 0, 0, 0];
                    marked.extend(b);
                    b = marked;
                }
                ep.handle_datagram(now, from, dst, &b);
            }
            1 if !seen.is_empty() => {
                // A genuine datagram again, cut or with one octet flipped.
                let t = seen[usize::from(body.first().copied().unwrap_or(0)) % seen.len()].clone();
                let mut b = t.payload.clone();
                if let Some(&at) = body.get(1) {
                    let k = usize::from(at) % b.len().max(1);
                    if let Some(x) = b.get_mut(k) {
                        *x ^= body.get(2).copied().unwrap_or(1).max(1);
                    }
                }
                if let Some(&cut) = body.get(3) {
                    b.truncate(usize::from(cut).max(1));
                }
                let to_r = t.dst.ip() == ip(R);
                let ep = if to_r { &mut r } else { &mut i };
                ep.handle_datagram(now, if op & 4 == 0 { t.src } else { from }, t.dst, &b);
            }
            2 => {
                // The initiator's addresses change.
                let keep: Vec<IpAddr> = I
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| body.first().is_none_or(|m| m & (1 << k) != 0))
                    .map(|(_, a)| ip(a))
                    .collect();
                i.handle_local_addresses(now, keep);
            }
            _ if body.first().is_some_and(|b| b & 0x80 != 0) => {
                // A rekey asked of either side: the Child SA or the IKE SA
                // (RFC 7296 §1.3.2, §1.3.3), crossed ones included when
                // both are asked in a row.
                let b = body[0];
                let ep = if b & 1 == 0 { &mut i } else { &mut r };
                for spi in ep.established() {
                    if b & 2 == 0 {
                        ep.rekey_child(now, spi);
                    } else {
                        ep.rekey_ike(now, spi);
                    }
                }
            }
            _ => {
                // Time passes: timers fire.
                now += 1_000 * u64::from(body.first().copied().unwrap_or(1)) * 37;
                i.handle_timeout(now);
                r.handle_timeout(now);
            }
        }
        let before = seen.len();
        settle(&mut i, &mut r, now, &mut seen, 32);
        assert!(seen.len() - before <= 64, "one input made {} datagrams", seen.len() - before);
        seen.truncate(4_096);
    }
    // Bounded state: an SA per IKE_SA_INIT at most.
    assert!(r.snapshots().len() <= inputs + 1, "{} SAs after {inputs} inputs", r.snapshots().len());
    assert!(i.snapshots().len() <= inputs + 1);
});
