//! Routes in the middle of the network (`route_down`, `route_up`): a
//! withdrawn route between a link and a prefix drops the packets between
//! them, both ways, and nothing else; every link keeps working, and MOBIKE
//! finds another address pair of the same peer (RFC 4555 §3.5, §3.10).

mod common;
use common::*;
use mobike_protocol::{SEC, Subnet};
use mobike_sim::{DropReason, Intervention, Scenario, World};
use std::net::SocketAddr;

fn example() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/route-withdrawn-mid-network.toml"
    );
    std::fs::read_to_string(path).unwrap()
}

fn route_drops(w: &World) -> Vec<(u64, DropReason)> {
    drops(w, |r| matches!(r, DropReason::RouteWithdrawn { .. }))
}

/// Drops at the withdrawn route of link `label`.
fn drops_of(w: &World, label: &str) -> usize {
    drops(
        w,
        |r| matches!(r, DropReason::RouteWithdrawn { link, .. } if link == label),
    )
    .len()
}

#[test]
fn a_withdrawn_route_drops_only_what_goes_between_its_link_and_prefix() {
    let w = run(&example(), 25 * SEC);
    let dropped = route_drops(&w);
    assert!(!dropped.is_empty());
    assert!(dropped.iter().all(|(t, r)| *t >= 4 * SEC
        && r.to_string() == "the route between link Access and 203.0.113.10/32 is withdrawn"));
    // The branch office, on another link, reaches the same address all the
    // way through, and the gateway hears from it there.
    let office_to_gw: Vec<SocketAddr> = delivered(&w, "gateway")
        .into_iter()
        .filter(|(t, src, _)| *t > 4 * SEC && src.ip() == ep("192.0.2.130:1").ip())
        .map(|(_, _, dst)| dst)
        .collect();
    assert!(office_to_gw.len() > 3);
    assert!(
        office_to_gw
            .iter()
            .all(|d| d.ip() == ep("203.0.113.10:1").ip())
    );
    // The laptop is answered on the gateway's other address, over the same
    // access link; nothing it sent to the first arrives after the cut.
    let laptop_to_gw: Vec<(u64, SocketAddr)> = delivered(&w, "gateway")
        .into_iter()
        .filter(|(_, src, _)| src.ip() == ep("192.0.2.10:1").ip())
        .map(|(t, _, dst)| (t, dst))
        .collect();
    assert!(
        laptop_to_gw
            .iter()
            .all(|(t, d)| *t < 4 * SEC || d.ip() == ep("198.51.100.20:1").ip())
    );
    assert_eq!(sa(&w, 0).remote, ep("198.51.100.20:4500"));
    // Every link still works.
    assert!(w.links().iter().all(|l| l.up));
    let access = w.links().into_iter().find(|l| l.id == "access").unwrap();
    assert_eq!(access.routes_down.len(), 1);
}

#[test]
fn the_route_works_both_ways_until_it_is_restored() {
    let text = example();
    let mut w = run(&text, 3 * SEC);
    let prefix = Subnet::try_from("192.0.2.10/32".to_string()).unwrap();
    // Withdrawn at the gateway's ISP 1 link for the laptop's address: now
    // the gateway's packets to the laptop vanish too (the other direction
    // of the same route), and the laptop's to the gateway.
    w.apply(Intervention::SetRoute {
        link: "isp1".into(),
        prefix,
        up: false,
    });
    w.run_until(9 * SEC);
    let drops_before = drops_of(&w, "ISP 1");
    assert!(drops_before > 0);
    w.apply(Intervention::SetRoute {
        link: "isp1".into(),
        prefix,
        up: true,
    });
    // Restoring it twice changes nothing the second time.
    let events = w.trace().len();
    w.apply(Intervention::SetRoute {
        link: "isp1".into(),
        prefix,
        up: true,
    });
    assert_eq!(w.trace().len(), events);
    w.run_until(20 * SEC);
    assert_eq!(drops_of(&w, "ISP 1"), drops_before, "no drop after");
    let isp1 = w.links().into_iter().find(|l| l.id == "isp1").unwrap();
    assert!(isp1.routes_down.is_empty());
}

#[test]
fn a_route_event_needs_a_link_that_exists_and_a_prefix() {
    let text = example();
    let no_prefix = text.replace("prefix = \"203.0.113.10/32\"\n", "");
    let e = Scenario::from_toml(&no_prefix).unwrap_err().to_string();
    assert!(e.contains("route_down and route_up need `prefix"), "{e}");
    let bad_link = text.replace("route_down = \"access\"", "route_down = \"nowhere\"");
    let e = Scenario::from_toml(&bad_link).unwrap_err().to_string();
    assert!(e.contains("nowhere"), "{e}");
    let bad_prefix = text.replace("\"203.0.113.10/32\"", "\"203.0.113.10\"");
    let e = Scenario::from_toml(&bad_prefix).unwrap_err().to_string();
    assert!(e.contains("ADDRESS/PREFIX"), "{e}");
    let stray = text.replace(
        "route_down = \"access\"\nprefix = \"203.0.113.10/32\"",
        "break_link = \"access\"\nprefix = \"203.0.113.10/32\"",
    );
    let e = Scenario::from_toml(&stray).unwrap_err().to_string();
    assert!(
        e.contains("`prefix` goes only with route_down or route_up"),
        "{e}"
    );
}
