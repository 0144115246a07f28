//! The `strongswan` preset as strongSwan 5.9.8 was seen to behave in real
//! runs (its capture is `crates/wire/tests/data/strongswan-mobike-basic`),
//! each behaviour a setting of its own, checked against the project's
//! defaults: the path check before the update (and its 100 ms reaction),
//! retransmissions that stay on the current path, probing every 2.5 s when
//! no path answers, one NAT_DETECTION_SOURCE_IP and REDIRECT_SUPPORTED in
//! IKE_SA_INIT, no address list in a NAT update, and the first liveness
//! check as the NAT-D baseline.

mod common;

use common::*;
use mobike_protocol::{Dur, MS, Role, SEC, Settings, Time};
use mobike_wire::registry::{ExchangeType, NotifyType};

fn strongswan() -> Settings {
    Settings::preset("strongswan").unwrap()
}

/// The preset with liveness checks every 5 s (strongSwan's dpd_delay).
fn strongswan_dpd() -> Settings {
    Settings {
        liveness: true,
        liveness_interval: Dur(5 * SEC),
        ..strongswan()
    }
}

fn requests_from(n: &Net, role: Role, after: Time) -> Vec<Msg> {
    n.messages()
        .into_iter()
        .filter(|m| m.from == Some(role) && m.is_request() && m.info() && m.at >= after)
        .collect()
}

/// Sends of one request (its octets), by time: (time, src, dst).
fn sends(n: &Net, first: &Msg) -> Vec<(Time, String, String)> {
    n.messages()
        .into_iter()
        .filter(|m| m.ike == first.ike)
        .map(|m| (m.at, m.src.ip().to_string(), m.dst.ip().to_string()))
        .collect()
}

#[test]
fn an_address_gone_is_checked_with_an_empty_informational_before_the_update() {
    let mut n = Net::with(&[I1, I2], &[R1], strongswan(), strongswan());
    n.connect();
    n.run(SEC);
    assert_eq!(n.snap(Role::Initiator).local.ip(), ip(I1));
    let t = n.now;
    n.i.handle_local_addresses(t, vec![ip(I2)]);
    n.run(t + 3 * SEC);
    let reqs = requests_from(&n, Role::Initiator, t);
    assert!(reqs.len() >= 2, "{}", trace(&n));
    // About 100 ms later (the reaction delay): the empty path check from
    // the address left, as in the capture's message 2.
    let check = &reqs[0];
    assert_eq!(check.at, t + 100 * MS, "{}", trace(&n));
    assert!(check.payloads.is_empty(), "an empty INFORMATIONAL");
    assert_eq!(check.src, sa(I2, 4500));
    assert_eq!(check.dst, sa(R1, 4500));
    // Only once it is answered, the update (the capture's message 3).
    let update = &reqs[1];
    assert_eq!(update.mid(), check.mid() + 1);
    assert!(update.at >= check.at + n.delay * 2);
    assert_eq!(
        update.notifies(),
        [
            NotifyType::UPDATE_SA_ADDRESSES,
            NotifyType::NAT_DETECTION_SOURCE_IP,
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            NotifyType::COOKIE2,
            NotifyType::NO_ADDITIONAL_ADDRESSES,
        ]
    );
    assert_eq!(update.src, sa(I2, 4500));
    let r = n.snap(Role::Responder);
    assert_eq!(r.remote, sa(I2, 4500), "{}", trace(&n));
}

#[test]
fn by_default_the_initiator_moves_at_once_and_its_update_tests_the_path() {
    let mut n = Net::with(&[I1, I2], &[R1], settings(), settings());
    n.connect();
    n.run(SEC);
    let t = n.now;
    n.i.handle_local_addresses(t, vec![ip(I2)]);
    n.run(t + 3 * SEC);
    let first = &requests_from(&n, Role::Initiator, t)[0];
    assert_eq!(first.at, t);
    assert!(first.has(NotifyType::UPDATE_SA_ADDRESSES));
}

#[test]
fn when_no_path_answers_the_check_probes_every_2_5_s_then_gives_up() {
    let mut n = Net::with(&[I1, I2], &[R1], strongswan(), strongswan());
    n.connect();
    n.run(SEC);
    n.blackholed.insert(ip(R1));
    let t = n.now;
    n.i.handle_local_addresses(t, vec![ip(I2)]);
    n.run(t + 60 * SEC);
    let check = &requests_from(&n, Role::Initiator, t)[0];
    assert!(check.payloads.is_empty());
    let at: Vec<Time> = sends(&n, check).iter().map(|s| s.0).collect();
    let start = t + 100 * MS;
    let expected: Vec<Time> = (0..=10).map(|k| start + k * 2_500 * MS).collect();
    assert_eq!(at, expected, "{}", trace(&n));
    assert!(
        sends(&n, check).iter().all(|s| s.1 == I2),
        "never from the address that is gone"
    );
    let (when, why) = n.deleted(Role::Initiator).expect("given up");
    assert_eq!(when, start + 11 * 2_500 * MS, "{why}");
}

/// M-3.10-1 and RFC 4555 §3.5's "retransmitted several times" trigger are
/// MAYs: strongSwan takes neither on a lost liveness check.
#[test]
fn a_liveness_check_is_retransmitted_on_the_current_path_only_then_the_sa_is_deleted() {
    // The responder has two addresses; strongSwan still sends every
    // retransmission to the one in use (its preset had probe_after = 1,
    // which a real run showed wrong).
    let mut n = Net::with(&[I1, I2], &[R1, R2], strongswan_dpd(), strongswan());
    n.connect();
    n.run(SEC);
    n.blackholed.insert(ip(R1));
    let t = n.now;
    n.run(t + 200 * SEC);
    let check = requests_from(&n, Role::Initiator, t)
        .into_iter()
        .find(|m| m.has(NotifyType::NAT_DETECTION_SOURCE_IP) || m.payloads.is_empty())
        .expect("a liveness check");
    let s = sends(&n, &check);
    assert!(
        s.iter().all(|(_, src, dst)| src == I1 && dst == R1),
        "{s:?}"
    );
    // 4 s × 1.8ⁿ, 5 retransmissions, then the IKE SA is deleted.
    let t0 = s[0].0;
    let waits = [0, 4_000_000, 11_200_000, 24_160_000, 47_488_000, 89_478_400];
    let expected: Vec<Time> = waits.iter().map(|w| t0 + w).collect();
    assert_eq!(s.iter().map(|x| x.0).collect::<Vec<_>>(), expected);
    let (when, _) = n.deleted(Role::Initiator).expect("deleted");
    assert_eq!(when, t0 + 165_061_120);
    // The project's default probes every pair after two sends.
    let mut d = Net::with(&[I1, I2], &[R1, R2], settings(), settings());
    d.connect();
    d.run(SEC);
    d.blackholed.insert(ip(R1));
    let t = d.now;
    d.run(t + 30 * SEC);
    let check = &requests_from(&d, Role::Initiator, t)[0];
    assert!(sends(&d, check).iter().any(|(_, _, dst)| dst == R2));
}

#[test]
fn a_responder_whose_address_goes_checks_first_then_sends_its_list() {
    let mut n = Net::with(&[I1], &[R1, R2], strongswan(), strongswan());
    n.connect();
    n.run(SEC);
    assert_eq!(n.snap(Role::Responder).local.ip(), ip(R1));
    let t = n.now;
    n.r.handle_local_addresses(t, vec![ip(R2)]);
    n.run(t + 3 * SEC);
    let reqs = requests_from(&n, Role::Responder, t);
    assert!(reqs.len() >= 2, "{}", trace(&n));
    assert_eq!(reqs[0].at, t + 100 * MS);
    assert!(reqs[0].payloads.is_empty(), "the path check");
    assert_eq!(reqs[0].src.ip(), ip(R2));
    assert!(
        reqs[1].has(NotifyType::NO_ADDITIONAL_ADDRESSES),
        "then the address list: {:?}",
        reqs[1].notifies()
    );
    assert!(!reqs[1].has(NotifyType::UPDATE_SA_ADDRESSES));
    assert_eq!(n.snap(Role::Initiator).remote.ip(), ip(R2), "{}", trace(&n));
}

#[test]
fn ike_sa_init_carries_one_natd_source_and_redirect_supported() {
    let mut n = Net::with(&[I1, I2], &[R1], strongswan(), strongswan());
    n.connect();
    n.run(SEC);
    let init = n
        .messages()
        .into_iter()
        .find(|m| m.is_request() && m.exchange() == ExchangeType::IKE_SA_INIT)
        .unwrap();
    assert_eq!(
        init.notifies(),
        [
            NotifyType::NAT_DETECTION_SOURCE_IP,
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            NotifyType::REDIRECT_SUPPORTED,
        ]
    );
    // The default: one NAT_DETECTION_SOURCE_IP per local address (M-3.1-1).
    let mut d = Net::with(&[I1, I2], &[R1], settings(), settings());
    d.connect();
    d.run(SEC);
    let init = d
        .messages()
        .into_iter()
        .find(|m| m.is_request() && m.exchange() == ExchangeType::IKE_SA_INIT)
        .unwrap();
    let sources = init
        .notifies()
        .into_iter()
        .filter(|k| *k == NotifyType::NAT_DETECTION_SOURCE_IP)
        .count();
    assert_eq!(sources, 2);
}

/// Behind a NAT that reboots after the first liveness check: the update
/// that follows the next check, and whether it carries the address list.
fn nat_update(si: Settings) -> Msg {
    let mut n = Net::with(&[IPRIV, I2], &[R1], si, strongswan());
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 40000));
    n.connect();
    n.run(7 * SEC);
    n.nat.as_mut().unwrap().reboot(50000);
    let t = n.now;
    n.run(t + 20 * SEC);
    requests_from(&n, Role::Initiator, t)
        .into_iter()
        .find(|m| m.has(NotifyType::UPDATE_SA_ADDRESSES))
        .unwrap_or_else(|| panic!("no update:\n{}", trace(&n)))
}

/// M-3.6-1 (MAY): the address list may ride along in any update; strongSwan
/// adds it only for a local address change.
#[test]
fn an_update_for_a_nat_change_carries_no_address_list() {
    let u = nat_update(strongswan_dpd());
    assert!(
        !u.has(NotifyType::ADDITIONAL_IP4_ADDRESS),
        "{:?}",
        u.notifies()
    );
    assert!(!u.has(NotifyType::NO_ADDITIONAL_ADDRESSES));
    let u = nat_update(Settings {
        list_in_nat_updates: true,
        ..strongswan_dpd()
    });
    assert!(
        u.has(NotifyType::ADDITIONAL_IP4_ADDRESS),
        "{:?}",
        u.notifies()
    );
}

/// A NAT that reboots before the first liveness check (M-3.8-4): the
/// responder's view of the initiator after 12 s.
fn remote_after_early_reboot(si: Settings) -> (std::net::SocketAddr, std::net::SocketAddr) {
    let mut n = Net::with(&[IPRIV], &[R1], si, strongswan());
    n.nat = Some(Nat::new(&[IPRIV], NAT_EXT, 40000));
    n.connect();
    n.run(SEC);
    n.nat.as_mut().unwrap().reboot(1024);
    n.run(12 * SEC);
    let ext = n.nat.as_ref().unwrap().mapped(sa(IPRIV, 4500)).unwrap();
    (n.snap(Role::Responder).remote, ext)
}

/// M-3.8-4 (SHOULD): the project's default notices the change; strongSwan's
/// first check only records it.
#[test]
fn the_first_liveness_check_is_only_a_baseline() {
    // strongSwan: the first check records the new mapping; nothing moves.
    let (remote, ext) = remote_after_early_reboot(strongswan_dpd());
    assert_ne!(
        remote, ext,
        "the change before the first check goes unnoticed"
    );
    // The project's default compares with IKE_SA_INIT's NAT-D and moves.
    let (remote, ext) = remote_after_early_reboot(Settings {
        natd_first_check_baseline: false,
        ..strongswan_dpd()
    });
    assert_eq!(remote, ext);
}
