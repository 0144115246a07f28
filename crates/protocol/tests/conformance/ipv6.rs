//! IPv6 and dual stack: RFC 4555 §3.4–§3.10 are written for both IP
//! versions. Addresses of the two families never make a pair (reference
//! §4, D3); a host that loses its last address of the family in use moves
//! to a pair of the other family; NAT detection and NO_NATS_ALLOWED hash
//! and carry the 16-octet addresses.

use crate::common::*;
use crate::helpers::*;
use mobike_protocol::{Dur, Role, SEC, Settings};
use mobike_wire::PayloadType as PT;
use mobike_wire::registry::{ExchangeType, NotifyType};
use std::collections::BTreeSet;

/// The responder's IPv6 address beside R1.
const R6: &str = "2001:db8:2::10";

fn octets6(a: &str) -> [u8; 16] {
    a.parse::<std::net::Ipv6Addr>().unwrap().octets()
}

#[test]
fn d3_path_tests_use_the_pairs_of_one_family_only() {
    let s = Settings {
        path_test_interval: Some(Dur(3 * SEC)),
        liveness: false,
        ..settings()
    };
    let mut n = Net::with(&[I1, I6], &[R1, R6], s, settings());
    n.connect();
    n.run(5 * SEC);
    let (_, pairs) = path_test_pairs(&n);
    let want: BTreeSet<_> = [(sa(I1, 4500), sa(R1, 4500)), (sa(I6, 4500), sa(R6, 4500))].into();
    assert_eq!(pairs, want, "two pairs of one family each, none mixed");
}

#[test]
fn m_3_4_1_both_sides_list_their_other_family_in_ike_auth() {
    let n = Net::established(&[I1, I6], &[R1, R6]);
    let msgs = n.messages();
    assert_eq!(
        msgs[2].data(NotifyType::ADDITIONAL_IP6_ADDRESS),
        Some(&octets6(I6)[..])
    );
    assert!(msgs[3].has(NotifyType::ADDITIONAL_IP6_ADDRESS));
    assert_eq!(n.snap(Role::Initiator).peer_addresses, vec![ip(R1), ip(R6)]);
    assert_eq!(n.snap(Role::Responder).peer_addresses, vec![ip(I1), ip(I6)]);
}

#[test]
fn b_3_5_1_initiator_moves_to_ipv6_when_its_last_ipv4_address_goes() {
    let mut n = Net::established(&[I1, I6], &[R1, R6]);
    let before = n.messages().len();
    n.i.handle_local_addresses(n.now, vec![ip(I6)]);
    n.run(n.now + 5 * SEC);
    let msgs = n.messages();
    let update = updates(&msgs[before..])
        .into_iter()
        .next()
        .expect("an UPDATE_SA_ADDRESSES");
    assert_eq!((update.src, update.dst), (sa(I6, 4500), sa(R6, 4500)));
    // The responder's address is new to the initiator, so a COOKIE2 comes
    // with the update (§3.7) and both sides end on the IPv6 pair.
    assert!(update.has(NotifyType::COOKIE2));
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert_eq!((i.local, i.remote), (sa(I6, 4500), sa(R6, 4500)));
    assert_eq!((r.local, r.remote), (sa(R6, 4500), sa(I6, 4500)));
    assert_eq!(i.ipsec_remote, Some(sa(R6, 4500)));
    assert_eq!(r.ipsec_remote, Some(sa(I6, 4500)));
    assert!(response_path_violations(&n).is_empty());
}

#[test]
fn b_3_6_3_responder_without_ipv4_sends_its_list_from_ipv6_and_the_initiator_follows() {
    let mut n = Net::established(&[I1, I6], &[R1, R6]);
    let before = n.messages().len();
    n.r.handle_local_addresses(n.now, vec![ip(R6)]);
    n.run(n.now + 5 * SEC);
    let msgs = n.messages();
    let list = responder_requests(&msgs[before..])
        .into_iter()
        .next()
        .expect("the responder's address list");
    // From its IPv6 address to the initiator's, taken from the initiator's
    // own list (B-3.6-3); one address left: NO_ADDITIONAL_ADDRESSES.
    assert_eq!((list.src, list.dst), (sa(R6, 4500), sa(I6, 4500)));
    assert!(list.has(NotifyType::NO_ADDITIONAL_ADDRESSES));
    // The initiator decides (§2.1): its UPDATE moves the SA to the IPv6 pair.
    let update = updates(&msgs[before..])
        .into_iter()
        .next()
        .expect("the initiator's UPDATE_SA_ADDRESSES");
    assert_eq!((update.src, update.dst), (sa(I6, 4500), sa(R6, 4500)));
    let (i, r) = (n.snap(Role::Initiator), n.snap(Role::Responder));
    assert_eq!((i.local, i.remote), (sa(I6, 4500), sa(R6, 4500)));
    assert_eq!(r.ipsec_remote, Some(sa(I6, 4500)));
    assert_eq!(i.peer_addresses, vec![ip(R6)]);
}

#[test]
fn b_3_5_15_responder_ipsec_sas_never_point_at_a_pair_of_two_families() {
    let mut n = Net::established(&[I1, I6], &[R1, R6]);
    // The initiator's answers are lost: the responder has moved its own
    // side but has no UPDATE yet.
    n.blackholed.insert(ip(I6));
    n.r.handle_local_addresses(n.now, vec![ip(R6)]);
    n.run(n.now + 3 * SEC);
    let r = n.snap(Role::Responder);
    assert_eq!(r.local, sa(R6, 4500));
    let (local, remote) = (r.ipsec_local.unwrap(), r.ipsec_remote.unwrap());
    assert_eq!(
        local.is_ipv4(),
        remote.is_ipv4(),
        "IPsec SAs {local} <-> {remote}"
    );
}

#[test]
fn m_3_8_2_nat_detection_over_ipv6_hashes_the_ipv6_addresses() {
    let n = Net::established(&[I6], &[R6]);
    let msgs = n.messages();
    // The response, which has both SPIs: its source is R6, its destination I6.
    let resp = &msgs[1];
    assert_eq!(resp.exchange(), ExchangeType::IKE_SA_INIT);
    assert_eq!(
        resp.data(NotifyType::NAT_DETECTION_SOURCE_IP),
        Some(&natd(&n, sa(R6, 500))[..])
    );
    assert_eq!(
        resp.data(NotifyType::NAT_DETECTION_DESTINATION_IP),
        Some(&natd(&n, sa(I6, 500))[..])
    );
    let i = n.snap(Role::Initiator);
    assert!(!i.local_behind_nat && !i.peer_behind_nat && !i.udp_encap);
}

#[test]
fn m_3_9_1_no_nats_allowed_over_ipv6_carries_36_octets() {
    let mut n = Net::with(&[I6, I1], &[R6], no_natt(), no_natt());
    n.connect();
    n.run(SEC);
    let msgs = n.messages();
    let keys = n.keys.clone().unwrap();
    let auth = &msgs[2];
    assert_eq!(auth.exchange(), ExchangeType::IKE_AUTH);
    let data = auth
        .data(NotifyType::NO_NATS_ALLOWED)
        .expect("NO_NATS_ALLOWED in IKE_AUTH");
    let mut want = Vec::new();
    want.extend_from_slice(&octets6(I6));
    want.extend_from_slice(&octets6(R6));
    want.extend_from_slice(&500u16.to_be_bytes());
    want.extend_from_slice(&500u16.to_be_bytes());
    assert_eq!(data, &want[..], "src IPv6, dst IPv6, src port, dst port");
    // On the wire: a notify payload of 8 + 36 octets.
    let raw = raw_inner(&auth.ike, &keys.sk_ei).unwrap();
    assert!(
        raw.iter().any(|(k, b)| *k == PT::N
            && u16::from_be_bytes([b[6], b[7]]) == 16402
            && b.len() == 44)
    );
}
