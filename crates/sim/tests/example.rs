use mobike_protocol::Event;
use mobike_sim::{DropReason, NatRefusal, Scenario, TraceKind, World};

fn load(name: &str) -> Scenario {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn default_scenario_moves_the_laptop_to_lte_behind_the_nat() {
    let s = load("wifi-to-lte.toml");
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    for e in w.trace().iter() {
        if !matches!(e.kind, TraceKind::Sent { .. } | TraceKind::Delivered { .. }) {
            eprintln!("{:>10} {:?}", e.time, e.kind);
        }
    }
    let hosts = w.hosts();
    let laptop = &hosts[0].sas[0];
    let gw = &hosts[1].sas[0];
    assert_eq!(laptop.local.ip().to_string(), "10.64.0.2");
    assert!(
        laptop.local_behind_nat,
        "NAT detected in the UPDATE exchange"
    );
    assert!(laptop.udp_encap && gw.udp_encap);
    assert_eq!(
        gw.remote.ip().to_string(),
        "198.51.100.1",
        "B-3.5-10: from the IP header"
    );
    assert_eq!(gw.ipsec_remote, Some(gw.remote), "after return routability");
    // The NAT has a mapping for the laptop's 4500.
    let nat = &w.nats()[0];
    assert!(
        nat.mappings
            .iter()
            .any(|m| m.internal.to_string() == "10.64.0.2:4500")
    );
    let deleted = w
        .trace()
        .iter()
        .any(|e| matches!(e.kind.protocol(), Some((_, Event::Deleted { .. }))));
    assert!(!deleted);
}

#[test]
fn same_scenario_same_trace() {
    let s = load("wifi-to-lte.toml");
    let mut a = World::new(&s);
    let mut b = World::new(&s);
    a.run_until(s.until.micros());
    b.run_until(s.until.micros());
    assert_eq!(a.trace(), b.trace());
    let mut s2 = s.clone();
    s2.seed += 1;
    let mut c = World::new(&s2);
    c.run_until(s.until.micros());
    assert_ne!(a.trace(), c.trace(), "the seed matters");
}

#[test]
fn pings_are_lost_while_the_path_is_broken_and_flow_again_udp_encapsulated() {
    use mobike_protocol::IpProtocol;
    use mobike_wire::udp::{UdpPayload, classify};
    let s = load("wifi-to-lte.toml");
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    let mut answered_before = 0;
    let mut answered_after = 0;
    let mut encapsulated_after = 0;
    for e in w.trace().iter() {
        match &e.kind {
            TraceKind::PingReceived {
                node, reply: true, ..
            } if node == "laptop" => {
                if e.time < 12_000_000 {
                    answered_before += 1;
                } else {
                    answered_after += 1;
                }
            }
            TraceKind::Sent {
                node,
                src,
                dst,
                payload,
                protocol,
                ..
            } if node == "laptop" && e.time > 19_000_000 => {
                if *protocol == IpProtocol::Udp
                    && matches!(classify(payload, src.port()), UdpPayload::Esp(_))
                {
                    encapsulated_after += 1;
                }
                assert_ne!(
                    *protocol,
                    IpProtocol::Esp,
                    "behind the NAT ESP must be UDP-encapsulated"
                );
            }
            _ => {}
        }
    }
    assert!(answered_before >= 10, "{answered_before}");
    assert!(answered_after >= 5, "{answered_after}");
    assert!(encapsulated_after >= 5);
}

#[test]
fn a_nat_drops_plain_esp() {
    let mut s = load("wifi-to-lte.toml");
    // The NAT starts on the Wi-Fi path, unseen by IKE_SA_INIT's NAT detection
    // only if it appears later; here it is there from the start, so NAT-T is
    // on from the beginning and no plain ESP is ever sent into it.
    s.nats[0].link = Some("wifi".into());
    s.timeline.clear();
    let mut w = World::new(&s);
    w.run_until(3_000_000);
    let laptop = &w.hosts()[0].sas[0];
    assert!(laptop.local_behind_nat && laptop.udp_encap);
    // Moved onto the path after setup, plain ESP meets it and is dropped.
    let mut s = load("wifi-to-lte.toml");
    s.timeline.clear();
    let mut w = World::new(&s);
    w.run_until(2_000_000);
    w.apply(mobike_sim::Intervention::PlaceNat {
        nat: "cgn".into(),
        link: Some("wifi".into()),
    });
    w.run_until(4_000_000);
    let dropped = w.trace().iter().any(|e| {
        matches!(
            &e.kind,
            TraceKind::Dropped { reason, .. } if matches!(
                **reason,
                DropReason::Nat {
                    refusal: NatRefusal::PlainEsp,
                    ..
                }
            )
        )
    });
    assert!(dropped);
}

/// RFC 4555 §5: the attacker learns only from what crosses the path. Her
/// forgery carries the message ID after the newest request she saw; her
/// replay is a byte-for-byte copy of the laptop's real update (which the
/// test, holding the logged keys, can open; she could not).
#[test]
fn the_attacker_forges_the_next_message_id_and_replays_the_real_update() {
    use mobike_wire::header::Header;
    use mobike_wire::registry::NotifyType;
    use mobike_wire::udp::{UdpPayload, classify};
    let s = load("attacker-spoofed-update.toml");
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    let mut laptop = Vec::new();
    let mut mallory = Vec::new();
    for e in w.trace().iter() {
        let TraceKind::Sent {
            node,
            payload,
            src,
            protocol: mobike_protocol::IpProtocol::Udp,
            ..
        } = &e.kind
        else {
            continue;
        };
        let UdpPayload::Ike(ike) = classify(payload, src.port()) else {
            continue;
        };
        let h = Header::parse(ike).unwrap();
        let seen = (e.time, h, ike.to_vec());
        match node.as_str() {
            "laptop" => laptop.push(seen),
            "mallory" => mallory.push(seen),
            _ => {}
        }
    }
    assert_eq!(mallory.len(), 2, "one forgery, one replay");
    let (at, forged, _) = &mallory[0];
    let newest = laptop
        .iter()
        .filter(|(t, h, _)| t < at && h.flags.initiator() && !h.flags.response())
        .map(|(_, h, _)| h.message_id)
        .max()
        .unwrap();
    assert_eq!(forged.message_id, newest + 1);
    let (_, _, replayed) = &mallory[1];
    let keys = w.trace().ike_keys(forged.spi_i).unwrap();
    let plain = mobike_wire::message::decrypt(replayed, &keys.sk_ei).unwrap();
    assert!(mobike_wire::message::has_notify(
        &plain,
        NotifyType::UPDATE_SA_ADDRESSES
    ));
    assert!(laptop.iter().any(|(_, _, b)| b == replayed));
}
