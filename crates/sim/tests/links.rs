//! Links and hosts: one-way failures, seeded loss, duplication and jitter,
//! addresses added and removed with and without telling the IKE daemon, and
//! per-host settings.

mod common;
use common::*;
use mobike_sim::{Direction, DropReason, Scenario, TraceKind, World};

/// The drop of a packet that entered a link in its broken direction `d`.
fn broken(link: &str, d: Direction) -> DropReason {
    DropReason::LinkBroken {
        link: link.into(),
        only: Some(d),
    }
}

/// A laptop with Wi-Fi (192.0.2.10) and LTE (198.18.0.2), no NAT, and a
/// gateway (203.0.113.10). `wifi` is extra lines for the Wi-Fi [[link]].
fn two_paths(wifi: &str, rest: &str) -> String {
    format!(
        r#"
version = 1
title = "test"
seed = 5
until = "40s"

[[host]]
id = "laptop"
pos = [100, 100]
role = "initiator"
peer = "203.0.113.10"
start_at = "100ms"
[[host.interface]]
name = "wlan0"
address = "192.0.2.10"
link = "wifi"
[[host.interface]]
name = "wwan0"
address = "198.18.0.2"
link = "lte"

[[host]]
id = "gateway"
pos = [600, 100]
role = "responder"
[[host.interface]]
name = "eth0"
address = "203.0.113.10"
link = "uplink"

[[link]]
id = "wifi"
delay = "5ms"
{wifi}
[[link]]
id = "lte"
delay = "30ms"
[[link]]
id = "uplink"
delay = "2ms"

[settings]
liveness_interval = "5s"

{rest}
"#
    )
}

fn message_sent(w: &World, node: &str, after: u64, part: &str) -> Option<u64> {
    // The trace has the raw bytes; the protocol's notes say what it did.
    w.trace().iter().find_map(|e| match &e.kind {
        TraceKind::Protocol { node: n, event } if n == node && e.time >= after => {
            format!("{event:?}").contains(part).then_some(e.time)
        }
        _ => None,
    })
}

// --- One-way failures ---

#[test]
fn a_downlink_failure_lets_requests_through_and_loses_the_answers() {
    let text = two_paths(
        "",
        "[[event]]\nat = \"3s\"\nbreak_link = \"wifi\"\ndirection = \"down\"\n",
    );
    let w = run(&text, 20 * SEC);
    // The gateway keeps getting the laptop's liveness checks over Wi-Fi...
    let heard: Vec<_> = delivered(&w, "gateway")
        .into_iter()
        .filter(|(t, src, _)| *t > 3 * SEC && src.ip().to_string() == "192.0.2.10")
        .collect();
    assert!(heard.len() >= 3, "{heard:?}");
    // ...but every answer dies on the way down.
    let lost = drops(&w, |r| *r == broken("wifi", Direction::Down));
    assert_eq!(lost.len(), heard.len(), "{lost:?}");
    // The laptop's path test finds LTE and moves there.
    assert_eq!(sa(&w, 0).local.ip().to_string(), "198.18.0.2");
    assert_eq!(sa(&w, 1).remote.ip().to_string(), "198.18.0.2");
    let links = w.links();
    let wifi = links.iter().find(|l| l.id == "wifi").unwrap();
    assert!(wifi.uplink && !wifi.downlink && !wifi.up);
}

#[test]
fn an_uplink_failure_loses_the_requests_before_the_gateway_sees_them() {
    let text = two_paths(
        "",
        "[[event]]\nat = \"3s\"\nbreak_link = \"wifi\"\ndirection = \"up\"\n",
    );
    let w = run(&text, 20 * SEC);
    assert!(
        delivered(&w, "gateway")
            .iter()
            .all(|(t, src, _)| *t < 3 * SEC || src.ip().to_string() != "192.0.2.10")
    );
    assert!(!drops(&w, |r| *r == broken("wifi", Direction::Up)).is_empty());
    let downlink = |r: &DropReason| {
        matches!(
            r,
            DropReason::LinkBroken {
                only: Some(Direction::Down),
                ..
            }
        )
    };
    assert!(drops(&w, downlink).is_empty());
    assert_eq!(sa(&w, 0).local.ip().to_string(), "198.18.0.2");
}

#[test]
fn restoring_one_direction_and_breaking_both_are_recorded() {
    let text = two_paths(
        "",
        "[[event]]\nat = \"3s\"\nbreak_link = \"wifi\"\ndirection = \"down\"\n\
         [[event]]\nat = \"4s\"\nrestore_link = \"wifi\"\ndirection = \"downlink\"\n\
         [[event]]\nat = \"5s\"\nbreak_link = \"wifi\"\n",
    );
    let w = run(&text, 6 * SEC);
    let notes: Vec<String> = w
        .trace()
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Intervention { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        notes,
        [
            "break link wifi, downlink only",
            "restore link wifi, downlink only",
            "break link wifi"
        ]
    );
}

// --- Loss, duplication, jitter ---

fn lossy(seed: u64) -> World {
    let text = two_paths(
        "loss = 0.2\nduplicate = 0.2\njitter = \"4ms\"",
        "[ping]\nfrom = \"laptop\"\nto = \"gateway\"\ninterval = \"500ms\"\n",
    )
    .replace("seed = 5", &format!("seed = {seed}"));
    run(&text, 30 * SEC)
}

/// Which packets the Wi-Fi link lost (by number) and which it duplicated.
fn fate(w: &World) -> (Vec<u64>, Vec<u64>) {
    let mut lost = Vec::new();
    let mut dup = Vec::new();
    for e in w.trace().iter() {
        match &e.kind {
            TraceKind::Dropped { packet, reason, .. }
                if **reason
                    == (DropReason::LinkLoss {
                        link: "wifi".into(),
                    }) =>
            {
                lost.push(*packet)
            }
            TraceKind::Duplicated { packet, link, .. } if link == "wifi" => dup.push(*packet),
            _ => {}
        }
    }
    (lost, dup)
}

#[test]
fn loss_and_duplication_are_drawn_from_the_seed() {
    let a = lossy(1);
    let b = lossy(1);
    assert_eq!(a.trace(), b.trace(), "same file, same seed: same trace");
    let (lost, dup) = fate(&a);
    assert!(lost.len() >= 5 && dup.len() >= 5, "{lost:?} {dup:?}");
    let c = lossy(2);
    assert_ne!(fate(&a), fate(&c), "another seed loses other packets");
    // Only the lossy link loses anything.
    assert!(
        drops(&a, |r| matches!(r, DropReason::LinkLoss { .. }))
            .iter()
            .all(|(_, r)| matches!(r, DropReason::LinkLoss { link } if link == "wifi"))
    );
}

#[test]
fn a_duplicate_is_a_packet_of_its_own_that_arrives_too() {
    let w = lossy(1);
    let mut delivered_copies = 0;
    for e in w.trace().iter() {
        if let TraceKind::Duplicated { packet, copy, .. } = &e.kind {
            assert!(copy > packet);
            let fates = w.trace().iter().filter(|x| match &x.kind {
                TraceKind::Delivered { packet, .. } | TraceKind::Dropped { packet, .. } => {
                    packet == copy
                }
                _ => false,
            });
            assert!(fates.count() <= 1);
            if w.trace()
                .iter()
                .any(|x| matches!(&x.kind, TraceKind::Delivered { packet, .. } if packet == copy))
            {
                delivered_copies += 1;
            }
        }
    }
    assert!(delivered_copies > 0);
}

#[test]
fn jitter_spreads_the_delay_within_its_bound() {
    let text = two_paths(
        "",
        "[ping]\nfrom = \"laptop\"\nto = \"gateway\"\ninterval = \"500ms\"\n",
    )
    .replace("delay = \"2ms\"", "delay = \"2ms\"\njitter = \"4ms\"");
    let w = run(&text, 10 * SEC);
    let mut sent = std::collections::HashMap::new();
    let mut delays = std::collections::BTreeSet::new();
    for e in w.trace().iter() {
        match &e.kind {
            TraceKind::Sent { packet, .. } => {
                sent.insert(*packet, e.time);
            }
            TraceKind::Delivered { packet, .. } => {
                delays.insert(e.time - sent[packet]);
            }
            _ => {}
        }
    }
    // Wi-Fi 5 ms + uplink 2..=6 ms, and some spread.
    assert!(delays.len() > 3, "{delays:?}");
    assert!(
        delays.iter().all(|d| (7_000..=11_000).contains(d)),
        "{delays:?}"
    );
    assert!(drops(&w, |_| true).is_empty(), "jitter loses nothing");
}

#[test]
fn a_lossless_file_draws_nothing_so_adding_loss_elsewhere_changes_nothing_here() {
    // Loss on the LTE link, which carries nothing: the trace is the same
    // as without it.
    let plain = run(&two_paths("", ""), 20 * SEC);
    let text = two_paths("", "").replace("delay = \"30ms\"", "delay = \"30ms\"\nloss = 0.5");
    let lossy_lte = run(&text, 20 * SEC);
    assert_eq!(plain.trace(), lossy_lte.trace());
}

// --- Addresses ---

#[test]
fn an_announced_removal_moves_the_sa_at_once() {
    let text = two_paths(
        "",
        "[[event]]\nat = \"7s\"\nremove_address = \"laptop.wlan0\"\nannounce = true\n",
    );
    let w = run(&text, 10 * SEC);
    let moved = message_sent(&w, "laptop", 7 * SEC, "IkePathChanged").unwrap();
    assert_eq!(moved, 7 * SEC, "the daemon is told and moves at once");
    assert!(drops(&w, |r| matches!(r, DropReason::AddressGone { .. })).is_empty());
    assert_eq!(sa(&w, 1).remote.ip().to_string(), "198.18.0.2");
    let view = &w.hosts()[0].addresses;
    assert!(
        view.iter()
            .any(|a| a.interface == "wlan0" && a.address.to_string() == "192.0.2.10" && !a.present)
    );
}

#[test]
fn a_silent_removal_black_holes_the_address_until_the_path_test() {
    let text = two_paths(
        "",
        "[[event]]\nat = \"7s\"\nremove_address = \"laptop.wlan0\"\nannounce = false\n",
    );
    let w = run(&text, 30 * SEC);
    // The daemon keeps sending from the vanished address.
    let lost = drops(&w, |r| {
        *r == DropReason::AddressGone {
            address: "192.0.2.10".parse().unwrap(),
            interface: "laptop.wlan0".into(),
        }
    });
    assert!(lost.len() >= 3, "{lost:?}");
    let moved = message_sent(&w, "laptop", 7 * SEC, "IkePathChanged").unwrap();
    assert!(
        moved > 10 * SEC,
        "found only by the liveness check, at {moved}"
    );
    assert_eq!(sa(&w, 0).local.ip().to_string(), "198.18.0.2");
    assert_eq!(sa(&w, 1).remote.ip().to_string(), "198.18.0.2");
}

#[test]
fn an_added_address_is_used_only_once_announced() {
    for announce in [false, true] {
        let text = two_paths(
            "",
            &format!(
                "[[event]]\nat = \"3s\"\nadd_address = \"laptop.wlan0\"\naddress = \"192.0.2.11\"\nannounce = {announce}\n\
                 [[event]]\nat = \"4s\"\nremove_address = \"laptop.wlan0\"\naddress = \"192.0.2.10\"\nannounce = {announce}\n\
                 [[event]]\nat = \"4s\"\nremove_address = \"laptop.wwan0\"\nannounce = {announce}\n"
            ),
        );
        let w = run(&text, 30 * SEC);
        let from_new = w.trace().iter().any(|e| {
            matches!(&e.kind, TraceKind::Sent { src, .. } if src.ip().to_string() == "192.0.2.11")
        });
        assert_eq!(from_new, announce, "announce = {announce}");
        if announce {
            assert_eq!(sa(&w, 1).remote.ip().to_string(), "192.0.2.11");
        }
    }
}

// --- Per-host settings ---

#[test]
fn host_settings_override_the_global_ones_for_that_host_only() {
    // Global liveness 5 s; the laptop checks every 2 s.
    let text = two_paths("", "").replacen(
        "link = \"lte\"\n",
        "link = \"lte\"\n[host.settings]\nliveness_interval = \"2s\"\npsk = \"mobike-playground\"\n",
        1,
    );
    let s = Scenario::from_toml(&text).unwrap();
    assert_eq!(
        s.hosts[0]
            .settings(&s.settings)
            .unwrap()
            .engine
            .liveness_interval
            .micros(),
        2 * SEC
    );
    assert_eq!(
        s.hosts[1]
            .settings(&s.settings)
            .unwrap()
            .engine
            .liveness_interval
            .micros(),
        5 * SEC
    );
    let w = run(&text, 5 * SEC);
    let checks = w
        .trace()
        .iter()
        .filter(|e| {
            matches!(&e.kind, TraceKind::Sent { node, payload, .. } if node == "laptop" && payload.len() > 100)
                && e.time > SEC
        })
        .count();
    assert_eq!(checks, 2, "liveness checks at about 2 s and 4 s");
}

#[test]
fn a_psk_set_for_one_host_only_breaks_authentication() {
    let text = two_paths("", "").replacen(
        "link = \"uplink\"\n",
        "link = \"uplink\"\n[host.settings]\npsk = \"something else\"\n",
        1,
    );
    let w = run(&text, 3 * SEC);
    assert_ne!(sa(&w, 0).state, mobike_protocol::SaState::Established);
}

#[test]
fn unknown_host_setting_is_an_error_with_its_line() {
    let text = two_paths("", "").replacen(
        "link = \"uplink\"\n",
        "link = \"uplink\"\n[host.settings]\nliveliness = true\n",
        1,
    );
    let e = Scenario::from_toml(&text).unwrap_err();
    let line = text
        .lines()
        .position(|l| l.starts_with("liveliness"))
        .unwrap()
        + 1;
    assert_eq!(e.line, Some(line), "{e}");
    assert!(e.message.contains("liveliness"), "{e}");
}

// --- Event errors ---

#[test]
fn event_modifiers_and_names_are_checked() {
    for (event, part) in [
        (
            "interface_down = \"laptop.wlan0\"\ndirection = \"up\"",
            "`direction` goes only with",
        ),
        (
            "break_link = \"wifi\"\ndirection = \"sideways\"",
            "unknown variant",
        ),
        ("nat_reboot = \"home\"", "unknown NAT \"home\""),
        ("break_link = \"wlan\"", "unknown link \"wlan\""),
        ("add_address = \"laptop.wlan0\"", "needs `address"),
        (
            "break_link = \"wifi\"\nannounce = false",
            "`announce` goes only with",
        ),
        (
            "remove_address = \"laptop.eth9\"",
            "host \"laptop\" has no interface \"eth9\"",
        ),
        (
            "add_address = \"laptop.wlan0\"\naddress = \"203.0.113.10\"",
            "used twice",
        ),
    ] {
        let text = two_paths("", &format!("[[event]]\nat = \"1s\"\n{event}\n"));
        let e = Scenario::from_toml(&text).unwrap_err();
        assert!(e.message.contains(part), "{event}: {e}");
    }
    let text = two_paths("loss = 1.5", "");
    let e = Scenario::from_toml(&text).unwrap_err();
    assert!(e.message.contains("not a probability"), "{e}");
}

/// Checkpoints for time travel: a cloned world goes on exactly as the
/// original would (same trace), and cloning does not disturb the original.
#[test]
fn a_cloned_world_continues_exactly_like_the_original() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/wifi-to-lte.toml"
    ))
    .unwrap();
    let s = mobike_sim::Scenario::from_toml(&text).unwrap();
    let mut a = mobike_sim::World::new(&s);
    a.run_until(9_000_000);
    let mut b = a.clone();
    a.run_until(30_000_000);
    b.run_until(30_000_000);
    assert_eq!(a.trace(), b.trace());
    assert!(a.trace().len() > 100);
}

/// Every intervention has a serde form (share links and the JSON export
/// carry them): it round-trips, and unknown fields are refused.
#[test]
fn interventions_round_trip_through_serde() {
    use mobike_sim::{Intervention, MoveBy};
    let all = vec![
        Intervention::BreakLink {
            link: "wifi".into(),
        },
        Intervention::RestoreLink {
            link: "wifi".into(),
        },
        Intervention::RebootNat { nat: "cgn".into() },
        Intervention::MoveClients {
            host: "cluster".into(),
            to: "198.51.100.2".parse().unwrap(),
            by: MoveBy::Redirect,
            count: Some(3),
            from: None,
        },
        Intervention::Hint {
            host: "laptop".into(),
            kind: mobike_sim::HintKind::Icmp,
        },
    ];
    for a in all {
        let text = serde_json::to_string(&a).unwrap();
        let back: Intervention = serde_json::from_str(&text).unwrap();
        assert_eq!(back, a, "{text}");
    }
    let bad = r#"{"do": "break_link", "link": "wifi", "colour": "red"}"#;
    assert!(serde_json::from_str::<Intervention>(bad).is_err());
}
