use mobike_protocol::Event;
use mobike_sim::{Scenario, TraceKind, World};

fn load(name: &str) -> Scenario {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn default_scenario_moves_the_laptop_to_lte_behind_the_nat() {
    let s = load("wifi-to-lte.toml");
    let mut w = World::new(&s);
    w.run_until(s.until.micros());
    for e in &w.trace().events {
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
    let deleted = w.trace().events.iter().any(|e| {
        matches!(
            &e.kind,
            TraceKind::Protocol {
                event: Event::Deleted { .. },
                ..
            }
        )
    });
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
