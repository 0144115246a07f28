//! A datagram lost on its way to a NAT's public address is drawn to the
//! host it was meant for: the one whose mapping has that outside port, not
//! whichever host sits behind the NAT. Here three clients share a
//! carrier-grade NAT with address-and-port-dependent filtering, and the
//! responder's moves (sent from its new address, RFC 4555 §3.6) are all
//! filtered: each lost request belongs to its own client's lane, so the
//! chart's host filter shows each client its own losses.

use mobike_render::chart::{Chart, Row};
use mobike_render::msc::{Filter, wanted_lanes};
use mobike_sim::{Scenario, TraceKind, World};
use std::collections::HashMap;

const SCENARIO: &str = include_str!("../../../tests/scenarios/cgn-cluster.toml");

#[test]
fn a_datagram_lost_at_a_shared_nat_belongs_to_the_host_of_its_mapping() {
    let s = Scenario::from_toml(SCENARIO).unwrap();
    let mut w = World::new(&s);
    w.run_until(25_000_000);
    let chart = Chart::build(&s, w.trace());
    // Outside port -> inside address, from the NAT's own records.
    let mut inside = HashMap::new();
    for e in w.trace().iter() {
        if let TraceKind::NatMapping {
            internal, external, ..
        } = &e.kind
        {
            inside.insert(external.get(), internal.ip());
        }
    }
    let mut lost_to = Vec::new();
    for row in &chart.rows {
        let Row::Message(m) = row else { continue };
        if m.lost.is_none() || m.dst.ip().to_string() != "100.64.0.1" {
            continue;
        }
        let lane = &chart.lanes[m.to.expect("a lane for a lost datagram")];
        let host = s.hosts.iter().find(|h| h.id == lane.node).unwrap();
        assert!(
            host.interfaces
                .iter()
                .any(|f| Some(f.address) == inside.get(&m.dst).copied()),
            "{} lost to {} is drawn to {}",
            m.packet,
            m.dst,
            lane.node
        );
        lost_to.push(lane.node.clone());
    }
    lost_to.sort();
    lost_to.dedup();
    assert_eq!(lost_to, ["client-1", "client-2", "client-3"]);
    // The host filter of one client shows its own losses.
    let filter = Filter {
        host: Some("client-2".into()),
        ..Default::default()
    };
    let wanted = wanted_lanes(&chart, &[], &filter);
    let shown = chart
        .rows
        .iter()
        .filter(|r| filter.admits(r, wanted.as_deref()))
        .filter(|r| matches!(r, Row::Message(m) if m.lost.is_some()))
        .count();
    assert!(shown > 0);
}
