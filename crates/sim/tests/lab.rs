//! What the page's lab needs of the simulator: every intervention as a
//! timeline event and back, link properties and NAT behaviour changed live,
//! scenarios written as TOML and read back as the same value, and the
//! user's interventions saved with a scenario giving the very trace the
//! page showed.

mod common;

use common::*;
use mobike_sim::duration::Dur;
use mobike_sim::nat::{Filtering, MappingBehaviour, NatPreset};
use mobike_sim::scenario::TimelineEvent;
use mobike_sim::vocab::nat::NatChanges;
use mobike_sim::{Direction, HintKind, Intervention, MoveBy, Scenario, TraceKind, World};

fn every_kind() -> Vec<Intervention> {
    let ip = |s: &str| s.parse().unwrap();
    vec![
        Intervention::BreakLink { link: "lan".into() },
        Intervention::RestoreLink { link: "lan".into() },
        Intervention::SetLinkDirection {
            link: "lan".into(),
            direction: Direction::Down,
            up: false,
        },
        Intervention::SetLinkDirection {
            link: "lan".into(),
            direction: Direction::Up,
            up: true,
        },
        Intervention::RebootNat { nat: "home".into() },
        Intervention::ChangeNatAddress {
            nat: "home".into(),
            address: ip("198.51.100.9"),
        },
        Intervention::AddAddress {
            host: "laptop".into(),
            interface: "eth0".into(),
            address: ip("10.0.0.3"),
            announce: false,
        },
        Intervention::RemoveAddress {
            host: "laptop".into(),
            interface: "eth0".into(),
            address: None,
            announce: true,
        },
        Intervention::SetInterface {
            host: "laptop".into(),
            interface: "eth0".into(),
            up: false,
        },
        Intervention::PlaceNat {
            nat: "home".into(),
            link: None,
        },
        Intervention::PlaceNat {
            nat: "home".into(),
            link: Some("lan".into()),
        },
        Intervention::MoveClients {
            host: "gateway".into(),
            to: ip("203.0.113.20"),
            by: MoveBy::Redirect,
            count: Some(2),
            from: Some(ip("203.0.113.10")),
        },
        Intervention::SpoofUpdate {
            attacker: "laptop".into(),
            target: "gateway".into(),
            replay: true,
        },
        Intervention::Hint {
            host: "laptop".into(),
            kind: HintKind::NatChanged,
        },
        Intervention::CheckLiveness {
            host: "laptop".into(),
        },
        Intervention::SetRoute {
            link: "lan".into(),
            prefix: mobike_protocol::Subnet::try_from("203.0.113.0/24".to_string()).unwrap(),
            up: false,
        },
        Intervention::SetRoute {
            link: "lan".into(),
            prefix: mobike_protocol::Subnet::try_from("2001:db8::/32".to_string()).unwrap(),
            up: true,
        },
        Intervention::SetLink {
            link: "lan".into(),
            delay: Some(Dur(40_000)),
            jitter: None,
            loss: Some(0.25),
            duplicate: Some(0.0),
        },
        Intervention::ConfigureNat {
            nat: "home".into(),
            changes: NatChanges {
                preset: Some(NatPreset::Symmetric),
                mapping_timeout: Some(Dur(30 * SEC)),
                hairpinning: Some(false),
                port_range: Some([2000, 2099]),
                ..NatChanges::default()
            },
        },
    ]
}

#[test]
fn every_intervention_is_a_timeline_event_and_back() {
    for a in every_kind() {
        for user in [false, true] {
            let e = TimelineEvent::of(Dur(1_234_567), &a, user);
            assert_eq!(e.action().as_ref(), Ok(&a), "{e:?}");
            assert_eq!(e.user == Some(true), user);
            // And through the file format.
            let text = toml::to_string(&e).unwrap();
            let back: TimelineEvent = toml::from_str(&text).unwrap();
            assert_eq!(back, e, "{text}");
        }
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Intervention>(&json).unwrap(), a);
    }
}

/// A liveness check on demand, from the timeline: the host's IKE SA sends
/// one at that very moment (not on its timer's schedule), and the chart
/// notes who asked.
#[test]
fn a_host_checks_liveness_when_told() {
    let text = include_str!("../../../examples/wifi-to-lte.toml");
    let s = Scenario::from_toml(text).unwrap();
    let at = 5_432_100;
    let told = |s: &Scenario| {
        let mut w = World::new(s);
        w.run_until(at + SEC);
        w.trace()
            .iter()
            .filter(|e| e.time == at)
            .filter_map(|e| match e.kind {
                TraceKind::Protocol { node, event } => match &*event {
                    mobike_protocol::Event::RequestSent { what, .. } => {
                        Some(format!("{} {what}", &*node))
                    }
                    _ => None,
                },
                TraceKind::Intervention { text, .. } => Some(text),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert!(told(&s).is_empty(), "nothing of its own then");
    let mut with = s.clone();
    with.timeline.push(TimelineEvent::of(
        Dur(at),
        &Intervention::CheckLiveness {
            host: "laptop".into(),
        },
        false,
    ));
    with.check().unwrap();
    let seen = told(&with);
    assert!(
        seen.iter().any(|t| t == "laptop liveness check"),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|t| t.contains("checks its IKE SA's liveness now")),
        "{seen:?}"
    );
}

/// An address that leaves one interface and comes back on another (later
/// in the file) is routed to its new interface: its packets are not
/// dropped at the old one, and the pings through the tunnel go on.
#[test]
fn an_address_moved_to_another_interface_is_routed_there() {
    let text = include_str!("../../../examples/wifi-to-lte.toml");
    let mut s = Scenario::from_toml(text).unwrap();
    s.timeline.clear();
    let moved: std::net::IpAddr = "192.0.2.10".parse().unwrap();
    let remove = |interface: &str| Intervention::RemoveAddress {
        host: "laptop".into(),
        interface: interface.into(),
        address: None,
        announce: true,
    };
    for (at, a) in [
        (8 * SEC, remove("wlan0")),
        (8 * SEC, remove("wwan0")),
        (
            8 * SEC + SEC / 2,
            Intervention::AddAddress {
                host: "laptop".into(),
                interface: "wwan0".into(),
                address: moved,
                announce: true,
            },
        ),
    ] {
        s.timeline.push(TimelineEvent::of(Dur(at), &a, false));
    }
    s.check().unwrap();
    let mut w = World::new(&s);
    w.run_until(15 * SEC);
    let after = 8 * SEC + SEC / 2;
    let mut dropped_at_old = 0;
    let mut answered = 0;
    for e in w.trace().iter().filter(|e| e.time > after) {
        match e.kind {
            TraceKind::Dropped { reason, .. }
                if reason.to_string().contains("192.0.2.10 is no longer") =>
            {
                dropped_at_old += 1
            }
            TraceKind::PingReceived { reply: true, .. } => answered += 1,
            _ => {}
        }
    }
    assert_eq!(dropped_at_old, 0);
    assert!(answered >= 4, "{answered} pings answered after the move");
}

#[test]
fn every_example_is_written_and_read_back_as_the_same_scenario() {
    let dir = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let s = Scenario::from_toml(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let text = s.to_toml().unwrap();
        let back = Scenario::from_toml(&text)
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
        assert_eq!(back, s, "{}", path.display());
        s.check().unwrap();
        if path.ends_with("cluster-20-mobike.toml") {
            // The twenty clients are one entry again.
            assert_eq!(text.matches("[[host]]").count(), 2, "{text}");
            assert!(text.contains("count = 20"), "{text}");
        }
        n += 1;
    }
    assert!(n >= 20);
}

/// Two changes of the user at one instant, saved with the scenario: the
/// saved run is the page's run, event for event.
#[test]
fn the_users_interventions_saved_as_events_replay_the_same_trace() {
    let text = behind_nat("", "");
    let s = Scenario::from_toml(&text).unwrap();
    let log = vec![
        (2_345_678, Intervention::RebootNat { nat: "home".into() }),
        (
            2_345_678,
            Intervention::SetLink {
                link: "uplink1".into(),
                delay: Some(Dur(30_000)),
                jitter: None,
                loss: None,
                duplicate: None,
            },
        ),
        (
            7_000_000,
            Intervention::SetLinkDirection {
                link: "lan".into(),
                direction: Direction::Down,
                up: false,
            },
        ),
    ];
    // As the page does: run to each moment, then apply.
    let mut live = World::new(&s);
    for (t, a) in &log {
        live.run_until(*t);
        live.apply(a.clone());
    }
    live.run_until(20 * SEC);
    // Saved and opened again.
    let saved = Scenario::from_toml(&s.with_user_log(&log).to_toml().unwrap()).unwrap();
    let mut replayed = World::new(&saved);
    replayed.run_until(20 * SEC);
    assert!(live.trace() == replayed.trace(), "same trace");
    let by_user = replayed
        .trace()
        .iter()
        .filter(|e| matches!(&e.kind, TraceKind::Intervention { by_user: true, .. }))
        .count();
    assert_eq!(by_user, 3, "marked (by you)");
}

#[test]
fn link_properties_change_live() {
    let text = behind_nat("", "");
    let mut w = run(&text, 3 * SEC);
    w.apply(Intervention::SetLink {
        link: "lan".into(),
        delay: Some(Dur(250_000)),
        jitter: None,
        loss: None,
        duplicate: None,
    });
    let lan = w.links().into_iter().find(|l| l.id == "lan").unwrap();
    assert_eq!((lan.delay, lan.loss), (250_000, 0.0));
    w.run_until(40 * SEC);
    // A packet the laptop sends after the change takes 250 ms to the NAT
    // side of the link: its translation comes that long after its send.
    let t = w.trace();
    let sent = t
        .iter()
        .find_map(|e| match &e.kind {
            TraceKind::Sent { node, packet, .. } if node == "laptop" && e.time > 3 * SEC => {
                Some((e.time, *packet))
            }
            _ => None,
        })
        .expect("the laptop sends after the change");
    let translated = t.iter().find_map(|e| match &e.kind {
        TraceKind::Translated { packet, .. } if *packet == sent.1 => Some(e.time),
        _ => None,
    });
    assert_eq!(translated, Some(sent.0 + 250_000));
    // Loss 1: every packet on the link is lost, with its reason.
    w.apply(Intervention::SetLink {
        link: "lan".into(),
        delay: None,
        jitter: None,
        loss: Some(1.0),
        duplicate: None,
    });
    let before = drops(&w, |r| matches!(r, mobike_sim::DropReason::LinkLoss { .. })).len();
    w.run_until(80 * SEC);
    let after = drops(&w, |r| matches!(r, mobike_sim::DropReason::LinkLoss { .. })).len();
    assert!(after > before);
    let words: Vec<String> = w
        .trace()
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Intervention { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert!(
        words.contains(&"link lan: delay 250ms".to_string()),
        "{words:?}"
    );
    assert!(
        words.contains(&"link lan: loss 100 %".to_string()),
        "{words:?}"
    );
}

#[test]
fn a_nat_configured_anew_flushes_its_mappings_and_takes_its_new_behaviour() {
    let text = behind_nat("", "");
    let mut w = run(&text, 5 * SEC);
    let nat = |w: &World| w.nats().into_iter().find(|n| n.id == "home").unwrap();
    assert!(!nat(&w).mappings.is_empty());
    assert_eq!(
        nat(&w).behaviour.mapping,
        MappingBehaviour::EndpointIndependent
    );
    w.apply(Intervention::ConfigureNat {
        nat: "home".into(),
        changes: NatChanges {
            preset: Some(NatPreset::Symmetric),
            filtering: Some(Filtering::AddressDependent),
            ..NatChanges::default()
        },
    });
    let now = nat(&w);
    assert!(now.mappings.is_empty(), "flushed");
    assert_eq!(
        now.behaviour.mapping,
        MappingBehaviour::AddressAndPortDependent
    );
    assert_eq!(now.behaviour.filtering, Filtering::AddressDependent);
    let words = w.trace().iter().rev().find_map(|e| match &e.kind {
        TraceKind::Intervention { text, .. } => Some(text.clone()),
        _ => None,
    });
    assert_eq!(
        words.as_deref(),
        Some("NAT home is configured anew (preset symmetric, ADF): its mappings are flushed")
    );
    // The laptop's next packets make new mappings.
    w.run_until(40 * SEC);
    assert!(!nat(&w).mappings.is_empty());
}

#[test]
fn bad_values_of_the_new_events_are_errors_naming_them() {
    let text = behind_nat(
        "",
        "[[event]]\nat = \"5s\"\nset_link = \"lan\"\nloss = 1.5\n",
    );
    let e = Scenario::from_toml(&text).unwrap_err();
    assert!(e.message.contains("loss = 1.5 is not a probability"), "{e}");
    let text = behind_nat("", "[[event]]\nat = \"5s\"\nconfigure_nat = \"home\"\n");
    let e = Scenario::from_toml(&text).unwrap_err();
    assert!(
        e.message.contains("configure_nat needs at least one"),
        "{e}"
    );
    let text = behind_nat(
        "",
        "[[event]]\nat = \"5s\"\nnat_reboot = \"home\"\nloss = 0.1\n",
    );
    let e = Scenario::from_toml(&text).unwrap_err();
    assert!(e.message.contains("go only with set_link"), "{e}");
    let text = behind_nat(
        "",
        "[[event]]\nat = \"5s\"\nconfigure_nat = \"home\"\nport_range = [9, 3]\n",
    );
    let e = Scenario::from_toml(&text).unwrap_err();
    assert!(e.message.contains("port_range [9, 3]"), "{e}");
}

#[test]
fn an_empty_scenario_is_a_file_too_and_runs_nothing() {
    let s = Scenario::empty();
    let text = s.to_toml().unwrap();
    assert_eq!(Scenario::from_toml(&text).unwrap(), s);
    let mut w = World::new(&s);
    w.run_until(10 * SEC);
    assert!(w.trace().is_empty());
}

/// An attacker who has seen nothing to replay sends nothing, and the run
/// says so where the intervention is written (the page's "(by you)" row).
#[test]
fn a_replay_with_nothing_captured_is_written_with_the_reason() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/attacker-spoofed-update.toml"
    ))
    .unwrap();
    let s = Scenario::from_toml(&text).unwrap();
    let mut w = World::new(&s);
    // Before any IKE SA is up, nothing has gone by her.
    w.run_until(50_000);
    let sent = w.trace().len();
    w.apply(Intervention::SpoofUpdate {
        attacker: "mallory".into(),
        target: "laptop".into(),
        replay: true,
    });
    let new = w.trace().iter_from(sent).collect::<Vec<_>>();
    let texts: Vec<&str> = new
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Intervention { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.len(), 1, "{new:?}");
    assert!(
        texts[0].ends_with("none sent, she has captured no update of its IKE SA"),
        "{texts:?}"
    );
    assert!(
        !new.iter()
            .any(|e| matches!(&e.kind, TraceKind::Sent { .. })),
        "nothing sent"
    );
}
