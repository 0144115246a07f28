//! Several Child SAs on one IKE SA (RFC 7296 §1.3.1, §2.9): one per subnet
//! behind the responder (`Settings::child_subnets`), the first made with
//! IKE_AUTH and the others by CREATE_CHILD_SA; each carries the inner
//! packets its traffic selectors hold; a MOBIKE move takes all of them
//! along (RFC 4555 §3.5, B-3.5-2, B-3.5-12), as do a Child SA rekey (the
//! selectors stay) and an IKE SA rekey (§2.18).

mod common;
use common::*;
use mobike_protocol::{Note, Role, SEC, Settings, Subnet};
use mobike_wire::payload::{Payload, TrafficSelector};
use mobike_wire::registry::{ExchangeType, NotifyType};
use std::net::Ipv4Addr;

const CCSA: ExchangeType = ExchangeType::CREATE_CHILD_SA;

fn subnets(list: &[&str]) -> Settings {
    Settings {
        child_subnets: list
            .iter()
            .map(|s| Subnet::try_from(s.to_string()).unwrap())
            .collect(),
        ..settings()
    }
}

const THREE: [&str; 3] = ["10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24"];

/// Both sides with the three subnets, the IKE SA and its Child SAs set up.
fn three(i_addrs: &[&str]) -> Net {
    let mut n = Net::with(i_addrs, &[R1], subnets(&THREE), subnets(&THREE));
    n.connect();
    n.run(2 * SEC);
    n
}

fn range(a: &str, b: &str) -> TrafficSelector {
    TrafficSelector::range(ip(a), ip(b))
}

/// `role`'s Child SAs as (selectors, inbound SPI, outbound SPI), oldest
/// first.
fn children(n: &Net, role: Role) -> Vec<(String, u32, u32)> {
    let ep = match role {
        Role::Initiator => &n.i,
        Role::Responder => &n.r,
    };
    ep.snapshots()
        .pop()
        .unwrap()
        .child_sas
        .iter()
        .map(|c| {
            (
                c.selectors.clone(),
                u32::from_str_radix(&c.inbound_spi, 16).unwrap(),
                u32::from_str_radix(&c.outbound_spi, 16).unwrap(),
            )
        })
        .collect()
}

/// An inner packet from the laptop (10.99.0.2) to `host` behind the
/// gateway, or the answer from there: the ESP datagram it became, if a
/// Child SA took it.
fn ping(n: &mut Net, role: Role, host: &str) -> Option<Sent> {
    let (laptop, far): (Ipv4Addr, Ipv4Addr) = ("10.99.0.2".parse().unwrap(), host.parse().unwrap());
    let (src, dst) = match role {
        Role::Initiator => (laptop, far),
        Role::Responder => (far, laptop),
    };
    n.send_ping(role, src, dst)
}

fn spi_of(s: &Sent) -> u32 {
    u32::from_be_bytes(s.payload[..4].try_into().unwrap())
}

#[test]
fn one_child_sa_per_subnet_the_first_in_ike_auth_the_others_by_create_child_sa() {
    let n = three(&[I1]);
    let msgs = n.messages();
    let auth = msgs
        .iter()
        .find(|m| m.exchange() == ExchangeType::IKE_AUTH && m.is_request())
        .unwrap();
    assert_eq!(auth.ts_r(), [range("10.1.0.0", "10.1.0.255")]);
    // Two CREATE_CHILD_SA requests, one after the other, without
    // REKEY_SA: HDR, SK {SA, Ni, TSi, TSr} (RFC 7296 §1.3.1).
    let asks: Vec<&Msg> = msgs
        .iter()
        .filter(|m| m.exchange() == CCSA && m.is_request())
        .collect();
    assert_eq!(asks.len(), 2);
    for (m, third) in asks.iter().zip(["10.2.0.", "10.3.0."]) {
        assert!(!m.has(NotifyType::REKEY_SA));
        assert_eq!(
            m.ts_r(),
            [range(&format!("{third}0"), &format!("{third}255"))]
        );
        let answer = msgs
            .iter()
            .find(|a| a.exchange() == CCSA && a.is_response() && a.mid() == m.mid())
            .unwrap();
        assert_eq!(answer.ts_r(), m.ts_r(), "the responder takes them as asked");
    }
    assert!(asks[0].mid() < asks[1].mid());
    let i = children(&n, Role::Initiator);
    let r = children(&n, Role::Responder);
    let sel: Vec<&str> = i.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        sel,
        [
            "any ⇄ 10.1.0.0/24",
            "any ⇄ 10.2.0.0/24",
            "any ⇄ 10.3.0.0/24"
        ]
    );
    let sel: Vec<&str> = r.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        sel,
        [
            "10.1.0.0/24 ⇄ any",
            "10.2.0.0/24 ⇄ any",
            "10.3.0.0/24 ⇄ any"
        ]
    );
    // Each pair of ESP SAs joins up: our inbound is the peer's outbound.
    for (a, b) in i.iter().zip(&r) {
        assert_eq!((a.1, a.2), (b.2, b.1));
    }
    assert_eq!(
        notes(&n, Role::Initiator)
            .iter()
            .filter(|x| matches!(x, Note::ChildCreated { .. }))
            .count(),
        2
    );
}

#[test]
fn each_child_sa_carries_the_packets_its_selectors_hold() {
    let mut n = three(&[I1]);
    let i = children(&n, Role::Initiator);
    let r = children(&n, Role::Responder);
    for (k, host) in ["10.1.0.1", "10.2.0.7", "10.3.0.200"]
        .into_iter()
        .enumerate()
    {
        let out = ping(&mut n, Role::Initiator, host).expect("a Child SA takes it");
        assert_eq!(spi_of(&out), i[k].2, "to {host}: child {k}");
        let back = ping(&mut n, Role::Responder, host).expect("and the answer");
        assert_eq!(spi_of(&back), r[k].2, "from {host}: child {k}");
    }
    n.run(n.now + SEC);
    assert_eq!((n.data_i.len(), n.data_r.len()), (3, 3));
    // No Child SA holds 10.9.0.1: nothing is sent.
    assert!(ping(&mut n, Role::Initiator, "10.9.0.1").is_none());
}

#[test]
fn b_3_5_2_b_3_5_12_every_child_sa_moves_with_the_ike_sa() {
    let mut n = three(&[I1, I2]);
    n.i.handle_local_addresses(n.now, vec![ip(I2)]);
    n.run(n.now + 3 * SEC);
    assert_eq!(n.snap(Role::Responder).ipsec_remote, Some(sa(I2, 4500)));
    let i = children(&n, Role::Initiator);
    for (k, host) in ["10.1.0.1", "10.2.0.1", "10.3.0.1"].into_iter().enumerate() {
        let out = ping(&mut n, Role::Initiator, host).unwrap();
        assert_eq!((out.src.ip(), spi_of(&out)), (ip(I2), i[k].2));
        let back = ping(&mut n, Role::Responder, host).unwrap();
        assert_eq!(back.dst.ip(), ip(I2), "{host}");
    }
    n.run(n.now + SEC);
    assert_eq!((n.data_i.len(), n.data_r.len()), (3, 3));
}

#[test]
fn a_rekey_replaces_the_oldest_child_sa_and_keeps_its_selectors() {
    let mut n = three(&[I1]);
    let before = children(&n, Role::Initiator);
    let spi = n.snap(Role::Initiator).spi_i;
    assert!(n.i.rekey_child(n.now, spi));
    n.run(n.now + 2 * SEC);
    let req = n
        .messages()
        .into_iter()
        .rfind(|m| m.exchange() == CCSA && m.is_request())
        .unwrap();
    let rekey = req.payloads.iter().find_map(Payload::as_notify).unwrap();
    assert_eq!(rekey.kind, NotifyType::REKEY_SA);
    assert_eq!(rekey.spi, before[0].1.to_be_bytes(), "the oldest one");
    assert_eq!(req.ts_r(), [range("10.1.0.0", "10.1.0.255")]);
    let after = children(&n, Role::Initiator);
    let sel: Vec<&str> = after.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        sel,
        [
            "any ⇄ 10.2.0.0/24",
            "any ⇄ 10.3.0.0/24",
            "any ⇄ 10.1.0.0/24"
        ],
        "the old one deleted, the new one last"
    );
    let out = ping(&mut n, Role::Initiator, "10.1.0.1").unwrap();
    assert_eq!(spi_of(&out), after[2].2);
    assert_ne!(spi_of(&out), before[0].2);
}

#[test]
fn a_subnet_the_responder_does_not_have_is_refused_with_ts_unacceptable() {
    let mut n = Net::with(
        &[I1],
        &[R1],
        subnets(&["10.1.0.0/24", "10.9.0.0/24"]),
        subnets(&["10.1.0.0/24", "10.2.0.0/24"]),
    );
    n.connect();
    n.run(2 * SEC);
    let answer = n
        .messages()
        .into_iter()
        .rfind(|m| m.exchange() == CCSA && m.is_response())
        .unwrap();
    assert_eq!(answer.notifies(), [NotifyType::TS_UNACCEPTABLE]);
    assert!(notes(&n, Role::Initiator).iter().any(
        |x| matches!(x, Note::NewChildRefused { kind } if *kind == NotifyType::TS_UNACCEPTABLE)
    ));
    // The IKE SA and its first Child SA stand.
    assert_eq!(children(&n, Role::Initiator).len(), 1);
    assert!(ping(&mut n, Role::Initiator, "10.1.0.1").is_some());
}

#[test]
fn a_responder_narrows_a_request_for_everything_to_its_first_subnet() {
    // RFC 7296 §2.9: the responder may answer with a subset of what was
    // asked for.
    let mut n = Net::with(&[I1], &[R1], settings(), subnets(&THREE));
    n.connect();
    n.run(2 * SEC);
    let i = children(&n, Role::Initiator);
    assert_eq!(i.len(), 1, "an initiator without subnets asks for one");
    assert_eq!(i[0].0, "any ⇄ 10.1.0.0/24");
    assert!(ping(&mut n, Role::Initiator, "10.1.0.1").is_some());
    assert!(ping(&mut n, Role::Initiator, "10.2.0.1").is_none());
}

#[test]
fn an_ike_sa_rekey_takes_every_child_sa_along() {
    let mut n = three(&[I1]);
    let before = children(&n, Role::Initiator);
    let spi = n.snap(Role::Initiator).spi_i;
    assert!(n.i.rekey_ike(n.now, spi));
    n.run(n.now + 3 * SEC);
    assert_eq!(
        n.i.snapshots()
            .iter()
            .filter(|s| s.state == mobike_protocol::SaState::Established)
            .count(),
        1
    );
    assert_eq!(children(&n, Role::Initiator), before);
    // Each Child SA's inbound SPI is still known on both sides.
    for host in ["10.1.0.1", "10.2.0.1", "10.3.0.1"] {
        ping(&mut n, Role::Initiator, host).unwrap();
        ping(&mut n, Role::Responder, host).unwrap();
    }
    n.run(n.now + SEC);
    assert_eq!((n.data_i.len(), n.data_r.len()), (3, 3));
}

#[test]
fn subnets_are_written_address_slash_prefix() {
    let s = Subnet::try_from("10.2.3.4/16".to_string()).unwrap();
    assert_eq!(String::from(s), "10.2.0.0/16", "host bits cleared");
    assert_eq!(s.first_host(), ip("10.2.0.1"));
    assert_eq!(s.selector(), range("10.2.0.0", "10.2.255.255"));
    let v6 = Subnet::try_from("2001:db8:5::/48".to_string()).unwrap();
    assert_eq!(
        v6.selector(),
        range("2001:db8:5::", "2001:db8:5:ffff:ffff:ffff:ffff:ffff")
    );
    for bad in ["10.2.0.0", "10.2.0.0/33", "ten/8"] {
        let e = Subnet::try_from(bad.to_string()).unwrap_err();
        assert!(e.contains(bad), "{e}");
    }
}
